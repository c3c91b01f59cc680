import type { ContentContext } from '../core/content.ts';
import { ToolError } from '../core/errors.ts';
import { redact } from '../core/redact.ts';
import type { KeepEnd } from '../core/tool.ts';
import { sessionOf } from '../docker/engines.ts';
import { capResult, capText } from './cap.ts';
import { chooseEngine, onEngine } from './engine-choice.ts';
import type { GateDecision } from './gate.ts';
import { type Listers, mapError, renderQuote } from './map-errors.ts';
import { forRemote } from './remote-errors.ts';
import type { Observed, Outcome, PipelineEnv } from './run.ts';
import { callSignal } from './signal.ts';

/**
 * Runs `build` against the engine. `label` names the request in a timeout message
 * ("prompt troubleshoot_container did not finish within 30 s"). The result is redacted (unless
 * `whole`: text the server ships itself, which holds no engine data); a failure is thrown as a
 * redacted ToolError.
 */
export async function runContent<T>(
  env: PipelineEnv,
  label: string,
  clientSignal: AbortSignal | undefined,
  build: (ctx: ContentContext) => Promise<T>,
  listers?: Listers,
  engineName?: string,
  whole = false,
): Promise<T> {
  const signal = callSignal(clientSignal, env.defaultTimeoutMs, label, env.stopping);
  let name: string | undefined;
  try {
    const engine = chooseEngine(env.engines, env.profile, engineName);
    name = engine.name;
    const session = sessionOf(engine, await engine.client(signal.signal));
    const ctx = {
      engine: session,
      signal: signal.signal,
      limits: env.limits,
      logFilter: env.logFilter,
      ...(env.remote && { remote: true }),
    };
    const built = await signal.race(build(ctx));
    return whole ? built : redact(built);
  } catch (e) {
    throw contentError(e, env, signal.reason(), label, listers, name);
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
  listers?: Listers,
  engineName?: string,
): ToolError {
  const engine = env.engines.resolve(engineName ?? env.engines.defaultName);
  const mapped = renderQuote(
    mapError(e, { aborted, scrub: engine.facts.socketPaths, listers }),
    env.logFilter,
  );
  if (mapped.kind === 'engine_unreachable') engine.invalidate();
  const error = onEngine(env.remote ? forRemote(mapped, label, env.remote) : mapped, engineName, env.engines);
  return new ToolError(error.kind, error.message, { hint: error.hint, retryable: error.retryable });
}

/** A prompt get or resource read as the pipeline runs it. */
export interface ContentRequest {
  /** What the observe hook (audit log, concurrency limits) is told. */
  observed: Extract<Observed, { event: 'prompt_get' | 'resource_read' }>;
  /** The caller's gate for it (the server decides it: only it knows the catalogue). */
  decision: GateDecision;
  /** Names the request in a refusal, a timeout message and the server log ("prompt troubleshoot_container"). */
  label: string;
  /** `application/json` text is capped as a result object (its JSON stays valid); anything else as text. */
  mimeType?: string;
  /** Which end of a fenced block to keep when cutting: `tail` keeps the newest log lines. */
  keep?: KeepEnd;
  narrowHint?: string;
  /** Which tool lists each kind of object: a not-found names it. */
  listers?: Listers;
  /**
   * Text the server ships itself (an MCP App's HTML), not engine data: neither redacted nor cut, since
   * an edited page would not run.
   */
  whole?: boolean;
  /** The engine it reads (a template's `{engine}`, a prompt's `engine`); the default when unset. */
  engine?: string;
}

const CONTENT_NARROW = 'Ask for less (one container, fewer lines), or use the docker_* tools with filters.';

/**
 * A prompt's message text or a resource's text through the whole path: observed, gated, built
 * (`prepare` checks the arguments before the engine is reached), redacted and capped last, so the
 * text a client reads is never more than maxResponseBytes. Failures are thrown as ToolErrors.
 */
export async function serveContent<A>(
  env: PipelineEnv,
  req: ContentRequest,
  clientSignal: AbortSignal | undefined,
  prepare: () => A,
  build: (args: A, ctx: ContentContext) => Promise<string>,
): Promise<string> {
  const end = env.observe?.(req.observed);
  const started = performance.now();
  let outcome: Outcome | undefined;
  try {
    const { decision } = req;
    if (!decision.allowed)
      throw new ToolError('policy_denied', `${req.label} is refused: ${decision.reason}.`, {
        hint: decision.hint,
      });
    const args = prepare();
    const text = await runContent(
      env,
      req.label,
      clientSignal,
      (ctx) => build(args, ctx),
      req.listers,
      req.engine,
      req.whole,
    );
    const capped = req.whole ? text : capContent(text, req, env.limits.maxResponseBytes);
    outcome = { ok: true, data: {} };
    return capped;
  } catch (e) {
    const error = e instanceof ToolError ? e : contentError(e, env, undefined, req.label);
    outcome = { ok: false, error };
    throw error;
  } finally {
    end?.({ outcome, durationMs: performance.now() - started });
  }
}

/** The cap on what a client reads: a JSON document stays valid JSON (with its `truncated` note). */
function capContent(text: string, req: ContentRequest, maxBytes: number): string {
  const hint = req.narrowHint ?? CONTENT_NARROW;
  if (Buffer.byteLength(text) <= maxBytes) return text;
  if (req.mimeType === 'application/json') {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (doc && typeof doc === 'object' && !Array.isArray(doc)) {
      const capped = capResult(doc as Record<string, unknown>, maxBytes, req.keep ?? 'head', hint);
      return JSON.stringify(
        capped.truncated ? { ...capped.value, truncated: capped.truncated } : capped.value,
      );
    }
  }
  return capText(text, maxBytes, req.keep ?? 'tail', hint).text;
}
