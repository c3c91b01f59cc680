import type Dockerode from 'dockerode';
import type { HostEnv } from '../config.ts';
import type { AnyTool, Limits } from '../tools/define.ts';
import { capResult } from './cap.ts';
import { ToolError } from './errors.ts';
import { gate, type SafetyProfile } from './gate.ts';
import { mapError } from './map-errors.ts';
import { checkArgumentPolicy, type PolicySettings } from './policy.ts';
import { throttledProgress } from './progress.ts';
import { redact, redactText } from './redact.ts';
import { callSignal } from './signal.ts';
import { validateArgs } from './validate.ts';

/** How the pipeline reaches the engine; src/docker implements it, tests may too. */
export interface EngineHandle {
  client(signal: AbortSignal): Promise<Dockerode>;
  /** Called when a request failed at the connection level, so the next call rediscovers. */
  invalidate(): void;
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
}

export interface CallOptions {
  signal?: AbortSignal;
  sendProgress?: (p: { progress: number; total?: number; message?: string }) => void;
}

export type Outcome = { ok: true; data: Record<string, unknown> } | { ok: false; error: ToolError };

const DEFAULT_NARROW = 'Narrow the request (filters, limits, or a smaller window).';

/** The single path every tool call takes: gate → validate → policy → run → cap → redact → map errors. */
export async function runPipeline(
  tool: AnyTool,
  rawArgs: unknown,
  env: PipelineEnv,
  call: CallOptions = {},
): Promise<Outcome> {
  const decision = gate(tool, env.profile);
  if (!decision.allowed)
    return fail(new ToolError('policy_denied', `${decision.reason}.`, { hint: decision.hint }));

  let signal: ReturnType<typeof callSignal> | undefined;
  try {
    const args = validateArgs(tool.input, rawArgs);
    checkArgumentPolicy(args, { ...env.policy, dockerSocketPaths: env.engine.socketPaths() }, env.host);

    const extra = tool.timeoutArg ? Number(args[tool.timeoutArg] ?? 0) * 1000 : 0;
    const timeoutMs = Math.max(tool.timeoutMs ?? env.defaultTimeoutMs, extra > 0 ? extra + 5000 : 0);
    signal = callSignal(call.signal, timeoutMs, tool.name);
    const progress = throttledProgress(call.sendProgress);
    const docker = await env.engine.client(signal.signal);
    const data = (await untilAborted(
      tool.handler(args, { docker, signal: signal.signal, progress, limits: env.limits }),
      signal.signal,
    )) as Record<string, unknown>;
    progress.flush();

    const capped = capResult(
      data,
      env.limits.maxResponseBytes,
      tool.keep ?? 'head',
      tool.narrowHint ?? DEFAULT_NARROW,
    );
    const shaped = capped.truncated ? { ...capped.value, truncated: capped.truncated } : capped.value;
    return { ok: true, data: redact(shaped) };
  } catch (e) {
    const error = mapError(e, { aborted: signal?.reason(), scrub: env.engine.socketPaths() });
    if (error.kind === 'engine_unreachable') env.engine.invalidate();
    return fail(error);
  } finally {
    signal?.dispose();
  }
}

const fail = (e: ToolError): Outcome => ({
  ok: false,
  error: new ToolError(e.kind, redactText(e.message), {
    hint: e.hint && redactText(e.hint),
    retryable: e.retryable,
  }),
});

/** Settles as soon as the signal aborts, even if a handler's engine request is slow to notice. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
