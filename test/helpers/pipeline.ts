/**
 * In-process calls through the real pipeline against the real engine (DOCKER_HOST), for
 * integration tests: same gate, validation, policy, caps and redaction as the binary.
 */

import { Compile } from 'typebox/compile';
import { readHostEnv } from '../../src/config.ts';
import { Engine } from '../../src/docker/engine.ts';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import type { PolicySettings } from '../../src/pipeline/policy.ts';
import {
  type EngineHandle,
  type Outcome,
  type PipelineEnv,
  runPipeline,
  serverFacts,
} from '../../src/pipeline/run.ts';
import { listedTool } from '../../src/server.ts';
import type { Limits } from '../../src/tools/define.ts';
import { catalogue } from '../../src/tools/index.ts';
import { VERSION } from '../../src/version.ts';

const host = readHostEnv();
const engine = new Engine({
  dockerHost: process.env.DOCKER_HOST,
  dockerConfigDir: `${host.home}/.docker`,
  tlsVerify: false,
  home: host.home,
  platform: host.platform,
  uid: host.uid,
});

export interface EnvOverrides {
  profile?: Partial<SafetyProfile>;
  policy?: Partial<Omit<PolicySettings, 'dockerSocketPaths'>>;
  limits?: Partial<Limits>;
  timeoutMs?: number;
  /** Another engine than DOCKER_HOST's, e.g. one at a dead socket to test an outage. */
  engine?: EngineHandle;
}

/** Defaults: every tier allowed (tests of the gate narrow it), default limits. */
export function pipelineEnv(o: EnvOverrides = {}): PipelineEnv {
  const profile: SafetyProfile = {
    allowModerate: true,
    allowDestructive: true,
    readOnly: false,
    allowedTools: [],
    deniedTools: [],
    ...o.profile,
  };
  return {
    profile,
    policy: { allowPrivileged: false, mountAllowlist: [], mountBlocklist: [], ...o.policy },
    host,
    limits: {
      maxResponseBytes: 262_144,
      maxExecOutputBytes: 1_048_576,
      maxLogLines: 10_000,
      maxListResults: 1000,
      ...o.limits,
    },
    defaultTimeoutMs: o.timeoutMs ?? 60_000,
    engine: o.engine ?? engine,
    server: serverFacts(VERSION, profile),
  };
}

export interface CallOpts extends EnvOverrides {
  signal?: AbortSignal;
  onProgress?: (p: { progress: number; total?: number; message?: string }) => void;
}

export async function call(name: string, args: unknown = {}, opts: CallOpts = {}): Promise<Outcome> {
  const tool = catalogue.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool named ${name} in the catalogue`);
  const out = await runPipeline(tool, args, pipelineEnv(opts), {
    signal: opts.signal,
    sendProgress: opts.onProgress,
  });
  if (out.ok) assertMatchesOutputSchema(name, out.data);
  return out;
}

// Every successful result must match the outputSchema clients are told about (older clients reject it otherwise).
const outputCheckers = new Map<string, ReturnType<typeof Compile>>();
function assertMatchesOutputSchema(name: string, data: unknown) {
  let checker = outputCheckers.get(name);
  if (!checker) {
    const tool = catalogue.find((t) => t.name === name);
    checker = Compile(listedTool(tool as (typeof catalogue)[number]).outputSchema as never);
    outputCheckers.set(name, checker);
  }
  if (!checker.Check(data)) {
    const first = [...checker.Errors(data)][0];
    throw new Error(
      `${name} returned data that does not match its outputSchema at '${first?.instancePath}': ${first?.message}`,
    );
  }
}

/** The data of a successful call; a failed one throws with its message so the test output says why. */
export async function callOk<T = Record<string, unknown>>(
  name: string,
  args: unknown = {},
  opts: CallOpts = {},
): Promise<T> {
  const out = await call(name, args, opts);
  if (!out.ok)
    throw new Error(`${name} failed: ${out.error.kind}: ${out.error.message} (${out.error.hint ?? ''})`);
  return out.data as T;
}

/** The error of a failed call; a successful one throws. */
export async function callErr(name: string, args: unknown = {}, opts: CallOpts = {}) {
  const out = await call(name, args, opts);
  if (out.ok) throw new Error(`${name} unexpectedly succeeded: ${JSON.stringify(out.data).slice(0, 300)}`);
  return out.error;
}
