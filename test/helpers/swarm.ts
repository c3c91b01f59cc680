/**
 * For tests on the test Swarm (test/helpers/swarm-cluster.ts): `const swarm = withSwarm()` at the top
 * of a spec file registers a beforeAll that uses the run's cluster (scripts/test.ts starts one and
 * names it in the environment) or starts one of its own (plain `bun test`, torn down in afterAll).
 * `swarm()` then gives the two engines registered as 'manager' (the default) and 'worker', a `call`
 * through the real pipeline with both, and raw Engine API access for checks that bypass our tools.
 * Objects a test makes carry `labels` (the run's test label) so `cleanup()` removes them.
 */
import { afterAll, beforeAll } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { api } from '../../scripts/engine.ts';
import { TOOLSETS } from '../../src/core/toolsets.ts';
import type { DiscoveryInput } from '../../src/docker/discovery.ts';
import { Engine } from '../../src/docker/engine.ts';
import { type EngineHandle, engineRegistry } from '../../src/docker/engines.ts';
import type { Outcome } from '../../src/pipeline/run.ts';
import { TEST_LABEL } from './engine.ts';
import { type CallOpts, call, callErr, callOk } from './pipeline.ts';
import {
  formSwarm,
  SWARM_ENV,
  type SwarmCluster,
  type SwarmNode,
  startSwarm,
  stopSwarm,
  waitNodesReady,
} from './swarm-cluster.ts';

const RUN = process.env.MCP_DOCKER_TEST_RUN ?? 'local';

type ToolErrorOut = Awaited<ReturnType<typeof callErr>>;

export interface SwarmHandle {
  manager: Pick<SwarmNode, 'host' | 'addr' | 'netns' | 'hostname'>;
  worker: Pick<SwarmNode, 'host' | 'addr' | 'netns' | 'hostname'>;
  /** A tool call through the pipeline with both engines: on the manager unless args say `engine: 'worker'`. */
  call(name: string, args?: Record<string, unknown>, opts?: CallOpts): Promise<Outcome>;
  /** The data of a call that must succeed (untrusted fields checked and unfenced). */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>, opts?: CallOpts): Promise<T>;
  /** The error of a call that must fail. */
  err(name: string, args?: Record<string, unknown>, opts?: CallOpts): Promise<ToolErrorOut>;
  /** The docker CLI against one node (the manager unless named): its stdout; throws with its stderr. */
  cli(
    args: string[],
    opts?: { cwd?: string; node?: 'manager' | 'worker'; env?: Record<string, string> },
  ): string;
  /** A raw Engine API request to one node, parsed as JSON (undefined for an empty answer). */
  raw<T = unknown>(node: 'manager' | 'worker', method: string, path: string, body?: unknown): Promise<T>;
  /** Labels for what a test creates; cleanup() removes services carrying them. */
  labels: Record<string, string>;
  /** Puts the cluster back as it started: both nodes in, ready. */
  reform(): Promise<void>;
  /** Removes this run's services. */
  cleanup(): Promise<void>;
}

const at = (host: string): DiscoveryInput => ({
  dockerHost: host,
  dockerConfigDir: '/nonexistent/.docker',
  tlsVerify: false,
  home: '/nonexistent',
  platform: 'linux',
});

let shared: Promise<{ cluster: Pick<SwarmCluster, 'manager' | 'worker'>; own: boolean }> | undefined;

function fromEnv(): Pick<SwarmCluster, 'manager' | 'worker'> | undefined {
  const m = process.env[SWARM_ENV.manager];
  const w = process.env[SWARM_ENV.worker];
  if (!m || !w) return undefined;
  const node = (role: 'manager' | 'worker', host: string, addr: string): SwarmNode => ({
    role,
    host,
    addr,
    hostname: `mcpt-${role}`,
    netns: process.env[role === 'manager' ? SWARM_ENV.managerNetns : SWARM_ENV.workerNetns] ?? '',
    dir: '',
  });
  return {
    manager: node('manager', m, process.env[SWARM_ENV.managerAddr] ?? ''),
    worker: node('worker', w, process.env[SWARM_ENV.workerAddr] ?? ''),
  };
}

/** Registers the cluster's setup (and, when this process started it, its teardown) for this file. */
export function withSwarm(): () => SwarmHandle {
  let handle: SwarmHandle | undefined;
  beforeAll(async () => {
    shared ??= (async () => {
      const given = fromEnv();
      return given ? { cluster: given, own: false } : { cluster: await startSwarm(), own: true };
    })();
    const { cluster } = await shared;
    await formSwarm(cluster);
    handle = handleOf(cluster);
  }, 120_000);
  afterAll(async () => {
    await handle?.cleanup();
    // A cluster this process started goes when its last file is done; bun runs files one after another.
    if (shared && process.env[SWARM_ENV.manager] === undefined) {
      const { cluster, own } = await shared;
      shared = undefined;
      if (own) await stopSwarm(cluster);
    }
  }, 60_000);
  return () => {
    if (!handle) throw new Error('withSwarm(): the cluster is not up (beforeAll failed)');
    return handle;
  };
}

function handleOf(cluster: Pick<SwarmCluster, 'manager' | 'worker'>): SwarmHandle {
  const engines = engineRegistry<EngineHandle>([
    new Engine(at(cluster.manager.host), { name: 'manager' }),
    new Engine(at(cluster.worker.host), { name: 'worker' }),
  ]);
  const labels = { [TEST_LABEL]: RUN };
  // Every toolset on (swarm is off by default), both engines registered.
  const withCluster = (opts: CallOpts): CallOpts => ({
    ...opts,
    engines,
    profile: { toolsets: TOOLSETS, ...opts.profile },
  });
  const raw = async <T>(node: 'manager' | 'worker', method: string, path: string, body?: unknown) => {
    const res = await api(cluster[node].host, method, path, {
      ...(body !== undefined && {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    manager: cluster.manager,
    worker: cluster.worker,
    labels,
    call: (name, args = {}, opts = {}) => call(name, { engine: 'manager', ...args }, withCluster(opts)),
    ok: <T>(name: string, args: Record<string, unknown> = {}, opts: CallOpts = {}) =>
      callOk<T>(name, { engine: 'manager', ...args }, withCluster(opts)),
    err: (name, args = {}, opts = {}) => callErr(name, { engine: 'manager', ...args }, withCluster(opts)),
    cli: (args, o = {}) =>
      execFileSync('docker', ['-H', cluster[o.node ?? 'manager'].host, ...args], {
        cwd: o.cwd,
        env: { ...process.env, ...o.env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    raw,
    async reform() {
      await formSwarm(cluster);
      await waitNodesReady(cluster.manager.host, 2);
    },
    async cleanup() {
      const filters = encodeURIComponent(JSON.stringify({ label: [`${TEST_LABEL}=${RUN}`] }));
      const services = await raw<{ ID: string }[]>('manager', 'GET', `/services?filters=${filters}`).catch(
        () => [],
      );
      for (const s of services) await raw('manager', 'DELETE', `/services/${s.ID}`).catch(() => undefined);
    },
  };
}
