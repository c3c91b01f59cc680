/**
 * Errors for callers on other hosts. Over stdio the user started the server and chose the engine, so
 * an error naming the engine's address (DOCKER_HOST, a socket path) tells them what to fix. A remote
 * caller (HTTP) cannot fix it, and the addresses and paths map the operator's network and disks. So,
 * when the transport sets `PipelineEnv.remote`:
 * - `engine_unreachable` becomes one generic message that points at the operator;
 * - an `internal` error keeps its wording with absolute paths and addresses replaced;
 * - a `policy_denied` refusal of a host path keeps the path the caller gave, drops what the server
 *   resolved it to and the roots it allows (its home, symlink targets), and points at the operator;
 * - the engine a handler sees (the health check reports it) hides addresses and paths the same way;
 * and what was hidden is written whole to the server log, where the operator looks.
 */
import type { Attempt, EngineAccess } from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';

/** Set by a transport whose callers are remote; `log` receives what their errors leave out. */
export interface RemoteCallers {
  log(message: string): void;
}

export const ENGINE_UNREACHABLE_REMOTE =
  'the Docker engine is unreachable from the server — ask its operator; `mcp-docker doctor` on the server host shows why';
const RETRY_HINT = 'The server retries the engine on the next call by itself.';

/** What stands in for an address or a path. */
export const HIDDEN = '<hidden>';

/**
 * Engine URLs (unix://, tcp://, npipe://, ssh://, http(s)://), Windows paths and pipes, IPv4 addresses
 * with their port, and absolute POSIX paths of at least one segment that start a word.
 */
const ADDRESS_OR_PATH = new RegExp(
  [
    String.raw`\b(?:unix|tcp|npipe|ssh|https?|fd):\/\/[^\s'"()<>,;]*[^\s'"()<>,;:.]`,
    String.raw`\\\\[.?]\\[^\s'"]+`,
    String.raw`\b[A-Za-z]:\\[^\s'"]*`,
    String.raw`\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b`,
    String.raw`(?<![\w.~/-])\/(?:[\w.@+~-]+\/?)+`,
  ].join('|'),
  'g',
);

/** `text` with every absolute path and engine address replaced by HIDDEN. */
export const scrubPaths = (text: string): string => text.replace(ADDRESS_OR_PATH, HIDDEN);

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
  } else if (error.kind === 'policy_denied') shown = hostPathForRemote(error);
  if (shown !== error)
    remote.log(`${label}: ${error.kind}: ${error.message} (a remote caller was told less)`);
  return shown;
}

/**
 * `ARG: host path 'P'[ (from 'Q')][ (resolving to 'R')] is refused: WHY` — what the policy says
 * (docker/policy/paths.ts). The caller's own path (and its lexical form) is theirs to see.
 */
const HOST_PATH_REFUSAL =
  /^(.*?host path '[^']*'(?: \(from '[^']*'\))?)(?: \(resolving to '[^']*'\))? is refused: (.*)$/s;
/** A setting named in a refusal, e.g. `SAFETY_VOLUME_MOUNT_ALLOWLIST (--mount-allowlist)`. */
const SETTING = /\b[A-Z][A-Z0-9_]+ \(--[a-z0-9-]+\)/g;
/** ` (<hidden>, <hidden>…)`: a list of the server's paths, dropped whole. */
const HIDDEN_LIST = new RegExp(` \\((?:${HIDDEN}(?:, |…)*)+\\)`, 'g');

function hostPathForRemote(error: ToolError): ToolError {
  const m = HOST_PATH_REFUSAL.exec(error.message);
  if (!m) return error;
  const [, head = '', why = ''] = m;
  // Paths in the reason are the server's (its roots, home, sensitive places); a list of them goes whole.
  const reason = scrubPaths(why).replace(HIDDEN_LIST, '').trim();
  const settings = [...new Set(`${error.message} ${error.hint ?? ''}`.match(SETTING) ?? [])];
  return new ToolError('policy_denied', `${head} is refused: ${reason}`, {
    hint: `Use a host path this server allows; its operator decides which with ${settings.join(' and ') || 'the mount allowlist'}.`,
    retryable: error.retryable,
  });
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
