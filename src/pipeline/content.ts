/**
 * The one path for prompt and resource content, the counterpart of runPipeline for tools: the engine
 * under one signal (client cancel + timeout), the builder, redaction of everything it returns, and
 * any failure mapped to a ToolError with a next step. Builders fence container-controlled text
 * themselves with `logFilter` (only they know which parts a container wrote).
 */
import type Dockerode from 'dockerode';
import { ToolError } from '../core/errors.ts';
import type { Limits } from '../core/limits.ts';
import type { LogFilter } from './fence.ts';
import { mapError } from './map-errors.ts';
import { redact, redactText } from './redact.ts';
import { forRemote } from './remote-errors.ts';
import type { PipelineEnv } from './run.ts';
import { callSignal, untilAborted } from './signal.ts';

/** What a prompt or resource builder gets: never the transport, never the safety settings. */
export interface ContentContext {
  docker: Dockerode;
  signal: AbortSignal;
  limits: Limits;
  logFilter: LogFilter;
}

/**
 * Runs `build` against the engine. `label` names the request in a timeout message
 * ("prompt troubleshoot_container did not finish within 30 s"). The result is redacted; a failure
 * is thrown as a redacted ToolError.
 */
export async function runContent<T>(
  env: PipelineEnv,
  label: string,
  clientSignal: AbortSignal | undefined,
  build: (ctx: ContentContext) => Promise<T>,
): Promise<T> {
  const signal = callSignal(clientSignal, env.defaultTimeoutMs, label, env.stopping);
  try {
    const docker = await env.engines.resolve().client(signal.signal);
    const ctx = { docker, signal: signal.signal, limits: env.limits, logFilter: env.logFilter };
    return redact(await untilAborted(build(ctx), signal.signal));
  } catch (e) {
    throw contentError(e, env, signal.reason(), label);
  } finally {
    signal.dispose();
  }
}

/**
 * Any failure as a ToolError safe to show: mapped, redacted, the engine forgotten if it went away,
 * addresses and paths hidden from a remote caller (`label` names the request in the server log).
 */
export function contentError(
  e: unknown,
  env: PipelineEnv,
  aborted?: ToolError,
  label = 'content',
): ToolError {
  const engine = env.engines.resolve();
  const mapped = mapError(e, { aborted, scrub: engine.facts.socketPaths });
  if (mapped.kind === 'engine_unreachable') engine.invalidate();
  const error = env.remote ? forRemote(mapped, label, env.remote) : mapped;
  return new ToolError(error.kind, redactText(error.message), {
    hint: error.hint && redactText(error.hint),
    retryable: error.retryable,
  });
}
