/** Error kinds a client can act on; one mapper turns them into `isError` results. */
export type ErrorKind =
  | 'invalid_argument'
  | 'not_found'
  | 'conflict'
  | 'policy_denied'
  | 'engine_unreachable'
  | 'timeout'
  | 'cancelled'
  | 'registry_auth'
  | 'internal';

/** The engine objects a reference can name; service, node, secret and config can follow. */
export type ObjectKind = 'container' | 'image' | 'network' | 'volume';

const RETRYABLE: ReadonlySet<ErrorKind> = new Set(['engine_unreachable', 'timeout']);

/**
 * The same failure worded for a caller on another host: without the server's own paths (what a host
 * path resolved to, the roots and sensitive places that refused it). The place that knows which parts
 * are the caller's writes it; the pipeline shows it to remote callers instead of message and hint.
 */
export interface RemoteWording {
  message: string;
  hint?: string;
}

/**
 * Words of a party outside the server (a registry, as the engine relays its answer) that an error
 * quotes. They are kept apart from the message, and the pipeline screens them the way untrusted result
 * text is screened before it appends them, marked as `by`'s (`renderQuote` in pipeline/map-errors.ts).
 */
export interface Quote {
  by: string;
  text: string;
}

export interface ToolErrorOptions {
  hint?: string;
  retryable?: boolean;
  subject?: ObjectKind;
  remote?: RemoteWording;
  quote?: Quote;
}

/** A failure meant for the user: what failed and why, plus the next step in `hint`. */
export class ToolError extends Error {
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly retryable: boolean;
  /** For not_found: the kind of object that was missing, so the pipeline can say where to look. */
  readonly subject?: ObjectKind;
  readonly remote?: RemoteWording;
  /** Outside text the message is about; shown only as the pipeline screens it. */
  readonly quote?: Quote;

  constructor(kind: ErrorKind, message: string, options: ToolErrorOptions = {}) {
    super(message);
    this.name = 'ToolError';
    this.kind = kind;
    this.hint = options.hint;
    this.retryable = options.retryable ?? RETRYABLE.has(kind);
    if (options.subject) this.subject = options.subject;
    if (options.remote) this.remote = options.remote;
    if (options.quote) this.quote = options.quote;
  }
}

/**
 * `error` in other words: `message` rewrites its message, and its remote wording the same way, so a
 * prefix or suffix reaches both; `hint`, when given, rewrites both hints. Kind, retryability, subject
 * and quote are kept. Every rewording of an error goes through here, so none drops what remote callers are told.
 */
export function reword(
  error: ToolError,
  message: (text: string) => string,
  hint?: (text: string | undefined) => string | undefined,
): ToolError {
  const { remote } = error;
  return new ToolError(error.kind, message(error.message), {
    hint: hint ? hint(error.hint) : error.hint,
    retryable: error.retryable,
    subject: error.subject,
    remote: remote && { message: message(remote.message), hint: hint ? hint(remote.hint) : remote.hint },
    quote: error.quote,
  });
}
