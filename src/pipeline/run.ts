import type Dockerode from 'dockerode';
import type { HostEnv } from '../config.ts';
import type { EngineAccess, EngineSession } from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';
import type { Limits } from '../core/limits.ts';
import type { AnyTool, Safety, ServerFacts } from '../core/tool.ts';
import { capResult } from './cap.ts';
import { fenceResult, type LogFilter } from './fence.ts';
import { gate, type SafetyProfile } from './gate.ts';
import { type Listers, mapError } from './map-errors.ts';
import { checkArgumentPolicy, type PolicySettings } from './policy.ts';
import { throttledProgress } from './progress.ts';
import { redact, redactText } from './redact.ts';
import { forRemote, type RemoteCallers, remoteEngineView } from './remote-errors.ts';
import { type CallSignal, callSignal, untilAborted } from './signal.ts';
import { validateArgs } from './validate.ts';

/** How the pipeline reaches the engine; src/docker implements it, tests may too. */
export interface EngineHandle extends EngineAccess {
  /** Local socket paths of the engine, which bind mounts must never expose. */
  socketPaths(): string[];
}

export interface PipelineEnv {
  profile: SafetyProfile;
  policy: Omit<PolicySettings, 'dockerSocketPaths'>;
  host: HostEnv;
  limits: Limits;
  defaultTimeoutMs: number;
  engine: EngineHandle;
  /** Built once with serverFacts(); handed to every handler. */
  server: ServerFacts;
  /** What happens to container text that reads like an instruction (SAFETY_LOG_FILTER). */
  logFilter: LogFilter;
  /** Where registry credentials are read from (config.json, credential helpers). */
  dockerConfigDir: string;
  /**
   * Set by a transport whose callers are on other hosts (HTTP): their errors name no engine address
   * and no path, and what was left out goes to `remote.log` (remote-errors.ts). Unset over stdio.
   */
  remote?: RemoteCallers;
  /** Aborted when the server shuts down: calls still running end `cancelled`, with an answer (HTTP). */
  stopping?: AbortSignal;
  /** Told as each call starts; what it returns is told how the call ended (audit log, concurrency limits). */
  observe?: (call: { tool: string; safety: Safety; args: unknown }) => ((end: CallEnd) => void) | undefined;
}

export interface CallEnd {
  /** Undefined only if the pipeline itself threw. */
  outcome?: Outcome;
  durationMs: number;
}

const MODE_NAMES: Record<string, string> = {
  safe: 'read-only',
  'safe+moderate': 'default: safe+moderate',
  'safe+moderate+destructive': 'all tiers',
};

/** The server's version and a readable account of its safety profile, as gate() applies it. */
export function serverFacts(version: string, profile: SafetyProfile): ServerFacts {
  const moderate = profile.allowModerate && !profile.readOnly;
  const destructive = profile.allowDestructive && !profile.readOnly;
  const tiers: Safety[] = [
    'safe',
    ...(moderate ? ['moderate' as const] : []),
    ...(destructive ? ['destructive' as const] : []),
  ];
  const key = tiers.join('+');
  return {
    version,
    safetyMode: {
      summary: MODE_NAMES[key] ?? key,
      tiers,
      allowedTools: [...profile.allowedTools],
      deniedTools: [...profile.deniedTools],
    },
  };
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Which tool lists each kind of object (listersOf the catalogue): named in a not-found's hint. */
  listers?: Listers;
  sendProgress?: (p: { progress: number; total?: number; message?: string }) => void;
}

export type Outcome = { ok: true; data: Record<string, unknown> } | { ok: false; error: ToolError };

const DEFAULT_NARROW = 'Narrow the request (filters, limits, or a smaller window).';

/** The single path every tool call takes: gate → validate → policy → run → cap → redact → fence → map errors. */
export async function runPipeline(
  tool: AnyTool,
  rawArgs: unknown,
  env: PipelineEnv,
  call: CallOptions = {},
): Promise<Outcome> {
  const end = env.observe?.({ tool: tool.name, safety: tool.safety, args: rawArgs });
  if (!end) return runStages(tool, rawArgs, env, call);
  const started = performance.now();
  let outcome: Outcome | undefined;
  try {
    outcome = await runStages(tool, rawArgs, env, call);
    return outcome;
  } finally {
    end({ outcome, durationMs: performance.now() - started });
  }
}

async function runStages(
  tool: AnyTool,
  rawArgs: unknown,
  env: PipelineEnv,
  call: CallOptions,
): Promise<Outcome> {
  const decision = gate(tool, env.profile);
  if (!decision.allowed)
    return fail(new ToolError('policy_denied', `${decision.reason}.`, { hint: decision.hint }));

  let signal: ReturnType<typeof callSignal> | undefined;
  let progress: ReturnType<typeof throttledProgress> | undefined;
  try {
    const args = validateArgs(tool.input, rawArgs);
    checkArgumentPolicy(
      args,
      { ...env.policy, dockerSocketPaths: env.engine.socketPaths() },
      env.host,
      undefined,
      tool.hostPaths,
    );

    const extra = tool.timeoutArg ? Number(args[tool.timeoutArg] ?? 0) * 1000 : 0;
    // A long operation's own default never shortens a longer configured one.
    const timeoutMs = Math.max(tool.timeoutMs ?? 0, env.defaultTimeoutMs, extra > 0 ? extra + 5000 : 0);
    signal = callSignal(call.signal, timeoutMs, tool.name, env.stopping);
    progress = throttledProgress(call.sendProgress);
    const { docker, unreachable } = await connect(tool, env, signal);
    const access = env.remote ? remoteEngineView(env.engine, (e) => shown(e, tool, env)) : env.engine;
    const ctx = {
      engine: sessionOf(access, docker, env.engine),
      signal: signal.signal,
      progress,
      limits: env.limits,
      server: env.server,
      dockerConfigDir: env.dockerConfigDir,
      ...(unreachable && { unreachable }),
    };
    const data = (await untilAborted(tool.handler(args, ctx), signal.signal)) as Record<string, unknown>;
    progress.flush();

    const capped = capResult(
      data,
      env.limits.maxResponseBytes,
      tool.keep ?? 'head',
      tool.narrowHint ?? DEFAULT_NARROW,
    );
    const shaped = capped.truncated ? { ...capped.value, truncated: capped.truncated } : capped.value;
    return { ok: true, data: fenceResult(redact(shaped), tool.untrusted, args, env.logFilter) };
  } catch (e) {
    const error = mapError(e, {
      aborted: signal?.reason(),
      scrub: env.engine.socketPaths(),
      endpoint: env.engine.info()?.url,
      listers: call.listers,
    });
    if (error.kind === 'engine_unreachable') env.engine.invalidate();
    return fail(shown(error, tool, env));
  } finally {
    progress?.cancel(); // a late, held-back value must not follow the result
    signal?.dispose();
  }
}

/** The engine for this call. An `engine: 'optional'` tool runs without one, told why there is none. */
async function connect(
  tool: AnyTool,
  env: PipelineEnv,
  signal: CallSignal,
): Promise<{ docker?: Dockerode; unreachable?: ToolError }> {
  if (tool.engine !== 'optional') return { docker: await env.engine.client(signal.signal) };
  try {
    return { docker: await env.engine.client(signal.signal) };
  } catch (e) {
    // Only "no engine answered" is handed over; a cancel or timeout still ends the call.
    const error = mapError(e, { aborted: signal.reason(), scrub: env.engine.socketPaths() });
    if (error.kind !== 'engine_unreachable') throw e;
    return { unreachable: shown(error, tool, env) };
  }
}

/**
 * The engine session a handler acts on. One engine today, named 'default'; `access` is the view of the
 * connection this caller may see (addresses hidden from remote callers).
 */
function sessionOf<C extends Dockerode | undefined>(
  access: EngineAccess,
  docker: C,
  engine: EngineHandle,
): EngineSession<C> {
  const url = engine.info()?.url ?? '';
  return {
    name: 'default',
    docker,
    apiVersion: engine.info()?.apiVersion ?? '',
    facts: {
      sharesFilesystem: url === '' || url.startsWith('unix://') || url.startsWith('npipe://'),
      socketPaths: engine.socketPaths(),
    },
    client: (signal) => access.client(signal),
    invalidate: () => access.invalidate(),
    info: () => access.info(),
    attempts: () => access.attempts(),
  };
}

/** The error as this call's caller may see it: whole over stdio, without addresses or paths when remote. */
const shown = (error: ToolError, tool: AnyTool, env: PipelineEnv): ToolError =>
  env.remote ? forRemote(error, tool.name, env.remote) : error;

const fail = (e: ToolError): Outcome => ({
  ok: false,
  error: new ToolError(e.kind, redactText(e.message), {
    hint: e.hint && redactText(e.hint),
    retryable: e.retryable,
  }),
});
