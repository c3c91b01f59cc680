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

/** A failure meant for the user: what failed and why, plus the next step in `hint`. */
export class ToolError extends Error {
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly retryable: boolean;
  /** For not_found: the kind of object that was missing, so the pipeline can say where to look. */
  readonly subject?: ObjectKind;

  constructor(
    kind: ErrorKind,
    message: string,
    options: { hint?: string; retryable?: boolean; subject?: ObjectKind } = {},
  ) {
    super(message);
    this.name = 'ToolError';
    this.kind = kind;
    this.hint = options.hint;
    this.retryable = options.retryable ?? RETRYABLE.has(kind);
    if (options.subject) this.subject = options.subject;
  }
}
