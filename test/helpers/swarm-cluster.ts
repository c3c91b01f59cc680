/**
 * The test Swarm: two private dockerds, each in a network namespace this harness makes, joined by a
 * veth pair whose two addresses are used only inside the pair (10.213.0.1 manager, .2 worker), each
 * with its own UTS namespace and hostname so the nodes differ. Nothing listens outside the
 * namespaces; the engines' API sockets are files under a temp dir. The cluster is formed through the
 * Engine API (init on the manager, join from the worker); tests change it through the tools.
 *
 * `startSwarm()` brings it up, `stopSwarm()` takes it down even half-made: leave on both, stop each
 * dockerd by its pid, unmount what it left, delete the namespaces and the veth pair with them.
 * scripts/test.ts starts one for a run that selects swarm tests and passes it on in the environment
 * (SWARM_ENV); test/helpers/swarm.ts uses that one, or starts its own when run by plain `bun test`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { api, ensureTestImage, ping, unmountUnder } from '../../scripts/engine.ts';
import { alive, sleep } from './engines/proc.ts';

export const SWARM_ENV = {
  manager: 'MCP_DOCKER_TEST_SWARM_MANAGER',
  worker: 'MCP_DOCKER_TEST_SWARM_WORKER',
  managerAddr: 'MCP_DOCKER_TEST_SWARM_MANAGER_ADDR',
  workerAddr: 'MCP_DOCKER_TEST_SWARM_WORKER_ADDR',
  managerNetns: 'MCP_DOCKER_TEST_SWARM_MANAGER_NETNS',
  workerNetns: 'MCP_DOCKER_TEST_SWARM_WORKER_NETNS',
} as const;

export interface SwarmNode {
  role: 'manager' | 'worker';
  /** DOCKER_HOST form: unix://…/docker.sock */
  host: string;
  /** The node's address on the veth pair. */
  addr: string;
  hostname: string;
  netns: string;
  dir: string;
  child?: ChildProcess;
}

export interface SwarmCluster {
  manager: SwarmNode;
  worker: SwarmNode;
  /** For the tests' environment. */
  env: Record<string, string>;
}

function sh(cmd: string, args: string[], quiet = false): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0 && !quiet) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error}`);
  return r.status === 0;
}

async function json<T>(host: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await api(host, method, path, {
    ...(body !== undefined && {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const logTail = (dir: string) => {
  try {
    return readFileSync(join(dir, 'dockerd.log'), 'utf8').trimEnd().split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
};

function nodes(tag: string, base: string): [SwarmNode, SwarmNode] {
  const node = (role: 'manager' | 'worker', addr: string): SwarmNode => ({
    role,
    addr,
    hostname: `mcpt-${role}`,
    netns: `mcpt-sw${tag}${role[0]}`,
    dir: join(base, role[0] as string),
    host: `unix://${join(base, role[0] as string, 'docker.sock')}`,
  });
  return [node('manager', '10.213.0.1'), node('worker', '10.213.0.2')];
}

async function startNode(n: SwarmNode, tag: string): Promise<void> {
  mkdirSync(n.dir, { recursive: true });
  const log = openSync(join(n.dir, 'dockerd.log'), 'w');
  const dockerd = ['--host', n.host, '--data-root', join(n.dir, 'root'), '--exec-root', join(n.dir, 'exec')];
  dockerd.push('--pidfile', join(n.dir, 'dockerd.pid'), '--iptables=false', '--bridge=none');
  dockerd.push('--containerd-namespace', `mcpt-sw${tag}${n.role[0]}`);
  dockerd.push('--containerd-plugins-namespace', `mcpt-sw${tag}${n.role[0]}-plugins`);
  // nsenter (not `ip netns exec`, which remounts /sys and hides the cgroup mounts dockerd needs), then
  // a UTS namespace of its own for the hostname; each step execs the next, so the child's pid is dockerd's.
  const script = `hostname ${n.hostname} && exec dockerd "$@"`;
  n.child = spawn(
    'nsenter',
    [`--net=/var/run/netns/${n.netns}`, 'unshare', '--uts', 'sh', '-c', script, 'dockerd', ...dockerd],
    { detached: true, stdio: ['ignore', log, log] },
  );
  let exited: string | undefined;
  n.child.on('exit', (code, signal) => {
    exited = `dockerd (${n.role}) exited (${signal ?? `code ${code}`})`;
  });
  const end = Date.now() + 30_000;
  while (!exited && Date.now() < end) {
    if (await ping(n.host, 1_000)) return;
    await sleep(250);
  }
  throw new Error(`${exited ?? `dockerd (${n.role}) did not answer within 30 s`}\n${logTail(n.dir)}`);
}

/**
 * What a run that was killed left: a /tmp/mcpt-sw<pid> whose process is gone. Its dockerds are stopped
 * by the pids in their pidfiles (only when that process is a dockerd of that directory), what they
 * mounted is unmounted, and its namespaces are deleted.
 */
function removeStale(): void {
  for (const entry of readdirSync('/tmp')) {
    const tag = /^mcpt-sw(\d+)$/.exec(entry)?.[1];
    if (!tag || alive(Number(tag))) continue;
    const base = join('/tmp', entry);
    for (const role of ['m', 'w']) {
      const dir = join(base, role);
      try {
        const pid = Number(readFileSync(join(dir, 'dockerd.pid'), 'utf8').trim());
        if (pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/`))
          process.kill(pid, 'SIGKILL');
      } catch {
        // no pidfile, or the process is gone
      }
      unmountUnder(dir);
      if (existsSync(`/var/run/netns/mcpt-sw${tag}${role}`))
        sh('ip', ['netns', 'del', `mcpt-sw${tag}${role}`], true);
    }
    rmSync(base, { recursive: true, force: true });
  }
}

/** Brings up both engines in their namespaces, loads the test image into each, and forms the swarm. */
export async function startSwarm(image = process.env.MCP_DOCKER_TEST_IMAGE ?? 'mcp-test/busybox:latest') {
  if (process.getuid?.() !== 0) throw new Error('the test swarm needs root (network namespaces, dockerd)');
  removeStale();
  const tag = String(process.pid);
  const base = `/tmp/mcpt-sw${tag}`;
  const [manager, worker] = nodes(tag, base);
  const cluster: SwarmCluster = { manager, worker, env: {} };
  try {
    for (const n of [manager, worker]) {
      sh('ip', ['netns', 'add', n.netns]);
      sh('ip', ['-n', n.netns, 'link', 'set', 'lo', 'up']);
    }
    const [vm, vw] = [`mcv${tag}m`, `mcv${tag}w`];
    sh('ip', ['link', 'add', vm, 'type', 'veth', 'peer', 'name', vw]);
    sh('ip', ['link', 'set', vm, 'netns', manager.netns]);
    sh('ip', ['link', 'set', vw, 'netns', worker.netns]);
    for (const [n, dev] of [
      [manager, vm],
      [worker, vw],
    ] as const) {
      sh('ip', ['-n', n.netns, 'addr', 'add', `${n.addr}/24`, 'dev', dev]);
      sh('ip', ['-n', n.netns, 'link', 'set', dev, 'up']);
    }
    await Promise.all([startNode(manager, tag), startNode(worker, tag)]);
    await Promise.all([ensureTestImage(manager.host, image), ensureTestImage(worker.host, image)]);
    await formSwarm(cluster);
  } catch (e) {
    await stopSwarm(cluster);
    throw e;
  }
  cluster.env = {
    [SWARM_ENV.manager]: manager.host,
    [SWARM_ENV.worker]: worker.host,
    [SWARM_ENV.managerAddr]: manager.addr,
    [SWARM_ENV.workerAddr]: worker.addr,
    [SWARM_ENV.managerNetns]: manager.netns,
    [SWARM_ENV.workerNetns]: worker.netns,
  };
  return cluster;
}

interface Info {
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string };
}

/** Manager inits (listening on its veth address only), the worker joins; a no-op when already so. */
export async function formSwarm({
  manager,
  worker,
}: Pick<SwarmCluster, 'manager' | 'worker'>): Promise<void> {
  const m = await json<Info>(manager.host, 'GET', '/info');
  if (m.Swarm?.LocalNodeState !== 'active')
    await json(manager.host, 'POST', '/swarm/init', {
      AdvertiseAddr: manager.addr,
      ListenAddr: `${manager.addr}:2377`,
    });
  const w = await json<Info>(worker.host, 'GET', '/info');
  if (w.Swarm?.LocalNodeState === 'active' && !w.Swarm.ControlAvailable) return;
  // A worker that left behind a swarm of its own (a test made it a manager) leaves that one first.
  if (w.Swarm?.LocalNodeState === 'active') await json(worker.host, 'POST', '/swarm/leave?force=1');
  const sw = await json<{ JoinTokens: { Worker: string } }>(manager.host, 'GET', '/swarm');
  await json(worker.host, 'POST', '/swarm/join', {
    RemoteAddrs: [`${manager.addr}:2377`],
    JoinToken: sw.JoinTokens.Worker,
    AdvertiseAddr: worker.addr,
    ListenAddr: `${worker.addr}:2377`,
  });
  await waitNodesReady(manager.host, 2);
  // Entries of earlier joins, down since their node left, would count as nodes.
  const all = await json<{ ID: string; Status?: { State?: string } }[]>(manager.host, 'GET', '/nodes');
  for (const n of all.filter((x) => x.Status?.State === 'down'))
    await json(manager.host, 'DELETE', `/nodes/${n.ID}?force=1`).catch(() => undefined);
}

/** Waits until the manager sees `count` nodes ready (and prunes nodes that are down and gone). */
export async function waitNodesReady(host: string, count: number, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const list = await json<{ Status?: { State?: string } }[]>(host, 'GET', '/nodes');
    if (list.filter((n) => n.Status?.State === 'ready').length >= count) return;
    if (Date.now() > end) throw new Error(`swarm: fewer than ${count} nodes ready after ${ms / 1000} s`);
    await sleep(250);
  }
}

async function stopNode(n: SwarmNode): Promise<void> {
  if (await ping(n.host, 1_000).catch(() => false))
    await api(n.host, 'POST', '/swarm/leave?force=1').catch(() => undefined);
  const pid = n.child?.pid;
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    const end = Date.now() + 20_000;
    while (alive(pid) && Date.now() < end) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    const child = n.child as ChildProcess;
    if (child.exitCode === null && child.signalCode === null)
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(2_000)]);
  }
  unmountUnder(n.dir);
  if (existsSync(`/var/run/netns/${n.netns}`)) sh('ip', ['netns', 'del', n.netns], true);
}

/** Takes the cluster down, whatever state it is in; deleting the namespaces deletes the veth pair. */
export async function stopSwarm(c: Pick<SwarmCluster, 'manager' | 'worker'>): Promise<void> {
  // The worker first: a manager that leaves first leaves the worker trying to reach it.
  await stopNode(c.worker);
  await stopNode(c.manager);
  rmSync(join(c.manager.dir, '..'), { recursive: true, force: true });
}
