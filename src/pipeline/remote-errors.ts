/**
 * Errors for callers on other hosts. Over stdio the user started the server and chose the engine, so
 * an error naming the engine's address (DOCKER_HOST, a socket path) tells them what to fix. A remote
 * caller (HTTP) cannot fix it, and the addresses and paths map the operator's network and disks. So,
 * when the transport sets `PipelineEnv.remote`:
 * - `engine_unreachable` becomes one generic message that points at the operator;
 * - an `internal` error keeps its wording with absolute paths and addresses replaced;
 * - an error worded for remote callers where it was made (`ToolError.remote`: a refused host path keeps
 *   the caller's path, not what the server resolved it to nor its roots and home; an engine message of
 *   any kind has its paths and addresses replaced, docker/errors.ts) is shown in those words;
 * - the engine a handler sees (the health check reports it) hides addresses and paths the same way;
 * and what was hidden is written whole to the server log, where the operator looks.
 */
import type { Attempt, EngineAccess } from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';
import { HIDDEN, scrubPaths } from '../core/host-details.ts';

export { HIDDEN, hideHostDetails, scrubPaths } from '../core/host-details.ts';

/** Set by a transport whose callers are remote; `log` receives what their errors leave out. */
export interface RemoteCallers {
  log(message: string): void;
}

export const ENGINE_UNREACHABLE_REMOTE =
  'the Docker engine is unreachable from the server — ask its operator; `mcp-docker doctor` on the server host shows why';
const RETRY_HINT = 'The server retries the engine on the next call by itself.';

/** The error a remote caller gets for `error`; the log gets the original when they differ. */
export function forRemote(error: ToolError, label: string, remote: RemoteCallers): ToolError {
  let shown = error;
  if (error.kind === 'engine_unreachable')
    shown = new ToolError('engine_unreachable', ENGINE_UNREACHABLE_REMOTE, {
      hint: RETRY_HINT,
      retryable: error.retryable,
    });
  else if (error.kind === 'internal') {
    const message = scrubPaths(error.message);
    const hint = error.hint && scrubPaths(error.hint);
    if (message !== error.message || hint !== error.hint)
      shown = new ToolError('internal', message, { hint, retryable: error.retryable });
  } else if (error.remote)
    shown = new ToolError(error.kind, error.remote.message, {
      hint: error.remote.hint,
      retryable: error.retryable,
      subject: error.subject,
    });
  if (shown !== error)
    remote.log(`${label}: ${error.kind}: ${error.message} (a remote caller was told less)`);
  return shown;
}

/**
 * The engine as a remote caller's handler sees it: the same connection, its address and paths
 * hidden, and a failure to connect passed through `hide` (forRemote for the call).
 */
export function remoteEngineView(engine: EngineAccess, hide: (e: ToolError) => ToolError): EngineAccess {
  const hideAttempt = (a: Attempt): Attempt => {
    // A host name (an ssh:// or tcp:// engine's) is an address too: the outcome may quote it.
    const host = hostOf(a.url);
    const scrub = (t: string) => scrubPaths(host ? t.split(host).join(HIDDEN) : t);
    return { url: HIDDEN, source: scrub(a.source), outcome: scrub(a.outcome) };
  };
  return {
    client: (signal) =>
      engine.client(signal).catch((e: unknown) => Promise.reject(e instanceof ToolError ? hide(e) : e)),
    invalidate: () => engine.invalidate(),
    info: () => {
      const info = engine.info();
      return info && { ...info, url: HIDDEN };
    },
    attempts: () => engine.attempts().map(hideAttempt),
  };
}

/** The host part of an engine URL (tcp://, ssh://, https://), or undefined for a socket path. */
function hostOf(url: string): string | undefined {
  try {
    const { hostname } = new URL(url);
    return hostname.length > 0 ? hostname : undefined;
  } catch {
    return undefined;
  }
}
