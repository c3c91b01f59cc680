/** For pure unit tests of the pipeline: a stand-in engine that never talks to one, profiles and envs built on it. */
import type Dockerode from 'dockerode';
import { type EngineCeiling, type EngineFacts, NO_CEILING } from '../../src/core/engine.ts';
import { type EngineHandle, type EngineRegistry, engineRegistry } from '../../src/docker/engines.ts';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import { type PipelineEnv, serverFacts } from '../../src/pipeline/run.ts';

/** `ceiling` as an operator would set it; `socketPaths` the engine's own (the host-path rule's). */
export function stubEngine(
  name = 'default',
  client: Dockerode = {} as Dockerode,
  o: { ceiling?: Partial<EngineCeiling>; socketPaths?: string[] } = {},
): EngineHandle {
  const facts: EngineFacts = { sharesFilesystem: true, socketPaths: o.socketPaths ?? [] };
  return {
    name,
    client: async () => client,
    requests: async () => client,
    invalidate() {},
    info: () => undefined,
    attempts: () => [],
    facts,
    resolveFacts: async () => facts,
    ceiling: { ...NO_CEILING, ...o.ceiling },
  };
}

/** A registry holding only `stubEngine()`. */
export const stubEngines = (): EngineRegistry => engineRegistry([stubEngine()]);

/** The default profile of a server (moderate on, destructive off), with `p` over it. */
export const testProfile = (p: Partial<SafetyProfile> = {}): SafetyProfile => ({
  allowModerate: true,
  allowDestructive: false,
  readOnly: false,
  allowedTools: [],
  deniedTools: [],
  ...p,
});

/** A pipeline env for pure runs: a stub engine, small limits, `profile`, and `over` on top. */
export const stubPipelineEnv = (
  profile: SafetyProfile = testProfile(),
  over: Partial<PipelineEnv> = {},
): PipelineEnv => ({
  profile,
  policy: { allowPrivileged: false, mountAllowlist: [], mountBlocklist: [] },
  host: { home: '/home/x', platform: 'linux' },
  limits: { maxResponseBytes: 65_536, maxExecOutputBytes: 65_536, maxLogLines: 100, maxListResults: 100 },
  defaultTimeoutMs: 5000,
  engines: stubEngines(),
  server: serverFacts('9.9.9', profile),
  logFilter: 'flag',
  dockerConfigDir: '/nonexistent/.docker',
  ...over,
});

/** Several stand-in engines: `name`'s client says its name, its socket lies under /tmp/mcpt-engines. */
export const namedEngine = (name: string, ceiling: Partial<EngineCeiling> = {}): EngineHandle =>
  stubEngine(name, { engine: name } as unknown as Dockerode, {
    ceiling,
    socketPaths: [`/tmp/mcpt-engines/${name}.sock`],
  });
