import { type ErrorKind, ToolError } from '../core/errors.ts';

/** Connection-level failures: the engine is not there (or not ours to talk to). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTSOCK',
  'FailedToOpenSocket',
  'ConnectionRefused',
  'ConnectionClosed',
]);

interface EngineHttpError {
  statusCode?: number;
  reason?: string;
  json?: { message?: string } | null;
  code?: string;
  message?: string;
}

const LIST_TOOL: [RegExp, string][] = [
  [/no such container/i, 'docker_list_containers'],
  [/no such image|image .* not found|repository .* not found/i, 'docker_list_images'],
  [/network .* not found|no such network/i, 'docker_list_networks'],
  [/no such volume|volume .* not found/i, 'docker_list_volumes'],
];

/**
 * Turns anything a handler threw into a ToolError a user can act on. Engine HTTP statuses map to
 * kinds; connection failures to engine_unreachable; the rest to internal, without stack or paths.
 */
export function mapError(
  e: unknown,
  opts: { aborted?: ToolError; scrub?: string[]; endpoint?: string } = {},
): ToolError {
  if (e instanceof ToolError) return e;
  if (opts.aborted) return opts.aborted;
  const err = (e ?? {}) as EngineHttpError;
  if (err.code && UNREACHABLE.has(err.code)) {
    // The endpoint is the user's own setting (DOCKER_HOST, a context): naming it says which engine to check.
    const at = opts.endpoint ? ` at ${opts.endpoint}` : '';
    return new ToolError(
      'engine_unreachable',
      `lost the connection to the Docker engine${at} (${err.code})`,
      {
        hint: 'Check that the engine is running; the next call reconnects by itself.',
      },
    );
  }
  const scrub = (s: string) =>
    (opts.scrub ?? []).reduce((acc, p) => (p ? acc.split(p).join('<engine>') : acc), s);
  if (typeof err.statusCode === 'number') {
    const detail = scrub(engineMessage(err));
    const [kind, hint] = classify(err.statusCode, detail);
    return new ToolError(kind, clip(detail), { hint });
  }
  const message = clip(scrub(firstLine((e as Error)?.message ?? String(e))));
  return new ToolError('internal', `unexpected error: ${message}`, {
    hint: 'This is likely a bug in mcp-docker; retrying may help. Please report it with the tool name and arguments.',
  });
}

function engineMessage(err: EngineHttpError): string {
  const m =
    err.json?.message ?? (typeof err.json === 'string' ? err.json : undefined) ?? err.reason ?? err.message;
  return firstLine(String(m ?? `engine answered HTTP ${err.statusCode}`)).trim();
}

function classify(status: number, message: string): [ErrorKind, string | undefined] {
  if (status === 404) {
    const list = LIST_TOOL.find(([re]) => re.test(message))?.[1];
    return ['not_found', list ? `See what exists with ${list}.` : undefined];
  }
  if (status === 409) return ['conflict', conflictHint(message)];
  if (status === 304) return ['conflict', 'Nothing to do: it is already in that state.'];
  if (status === 400) return ['invalid_argument', 'Fix the argument and call again.'];
  // Payload, URL or headers too large: an argument (often one that travels in the query) is too long.
  if (status === 413 || status === 414 || status === 431)
    return [
      'invalid_argument',
      'An argument is too long for the engine to accept; shorten it and call again.',
    ];
  if (status === 401) return ['registry_auth', 'Check the registry credentials.'];
  if (status === 403) return ['policy_denied', 'The engine refused this operation.'];
  if (/executable file not found|no such file or directory/i.test(message))
    return ['invalid_argument', 'Check the command: it must exist inside the container.'];
  return ['internal', 'The engine reported an error; check its state and retry.'];
}

function conflictHint(message: string): string | undefined {
  if (/is running|running container/i.test(message))
    return 'Stop it first with docker_stop_container, or pass force: true.';
  if (/is not running|is paused/i.test(message)) return 'Start (or unpause) the container first.';
  if (/already in use/i.test(message)) return 'Pick another name, or remove the existing one first.';
  return undefined;
}

const firstLine = (s: string) => s.split('\n')[0] ?? '';

/**
 * At most ~MAX_DETAIL characters, the start and the end kept (the reason is often last), cut after
 * scrubbing so no path is half-kept: engines quote arguments back ('exec: "<argv[0]>": executable
 * file not found'), and a 128 KB argument must not come back as a 128 KB error.
 */
const MAX_DETAIL = 1000;
const clip = (s: string) =>
  s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL * 0.6)} … ${s.slice(-MAX_DETAIL * 0.4)}` : s;
