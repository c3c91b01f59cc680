/**
 * The engines this server serves, as the caller may use them: each probed in parallel with its own
 * short timeout, so a slow or absent engine never delays the answer beyond that timeout. A remote
 * caller's engines come with addresses and paths hidden (the pipeline hands them so).
 */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import type { EngineEntry } from '../../core/engine.ts';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { system } from './engine-api.ts';

/** How long one engine may take to answer (connect, version, /info). */
export const PROBE_TIMEOUT_MS = 2000;

const EngineRow = Type.Object({
  name: Type.String(),
  default: Type.Optional(Type.Boolean()),
  kind: Type.String({ description: 'docker, podman or unknown' }),
  reachable: Type.Boolean(),
  version: Type.Optional(Type.String()),
  api_version: Type.Optional(Type.String()),
  swarm: Type.Optional(Type.String({ description: 'none, worker or manager' })),
  error: Type.Optional(Type.String()),
  // What this caller may do there (the engine's ceiling and the server's or credential's settings).
  read_only: Type.Boolean({ description: 'Only reads allowed' }),
  allow_destructive: Type.Boolean({ description: 'Destructive tools allowed' }),
  description: Type.Optional(Type.String()),
});

type Row = Type.Static<typeof EngineRow>;

interface SwarmInfo {
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean };
}

/** none, worker or manager, from /info's Swarm section. */
export function swarmRole(info: SwarmInfo): 'none' | 'worker' | 'manager' {
  const s = info.Swarm;
  if (s?.LocalNodeState !== 'active') return 'none';
  return s.ControlAvailable ? 'manager' : 'worker';
}

/** `work` or a rejection once `signal` aborts, whichever comes first (a shared discovery may not listen). */
function within<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new ToolError('timeout', `no answer within ${PROBE_TIMEOUT_MS / 1000} s`));
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

async function probe(entry: EngineEntry, callSignal: AbortSignal): Promise<Row> {
  const signal = AbortSignal.any([callSignal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]);
  const base = {
    name: entry.name,
    ...(entry.isDefault && { default: true }),
    read_only: entry.ceiling.readOnly,
    allow_destructive: entry.ceiling.allowDestructive,
    ...(entry.description !== undefined && { description: entry.description }),
  };
  try {
    const docker: Dockerode = await within(entry.access.client(signal), signal);
    const info = (await within(system(docker).info({ abortSignal: signal }), signal)) as SwarmInfo;
    const conn = entry.access.info();
    return {
      ...base,
      kind: conn?.kind ?? 'unknown',
      reachable: true,
      ...(conn && { version: conn.serverVersion, api_version: conn.apiVersion }),
      swarm: swarmRole(info),
    };
  } catch (e) {
    if (callSignal.aborted) throw e;
    const message = e instanceof ToolError ? e.message : 'the engine did not answer';
    return { ...base, kind: entry.access.info()?.kind ?? 'unknown', reachable: false, error: message };
  }
}

export const listEngines = defineTool({
  name: 'docker_list_engines',
  title: 'List engines',
  description: 'Engines this server can act on: kind, version, reachability, swarm role, limits, default.',
  safety: 'safe',
  idempotent: true,
  engine: 'optional',
  needsEngines: true,
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({ engines: Type.Array(EngineRow) }),
  handler: async (_args, { engines = [], signal }) => ({
    engines: await Promise.all(engines.map((e) => probe(e, signal))),
  }),
});
