/**
 * Requests refused before anyone is authenticated (a Host or Origin not allowed: DNS rebinding or a
 * cross-site page; a body too large or compressed) leave a trace: an audit line (`request_refused`,
 * throttled like every refusal) and a warning in the server's log at most once a minute per reason,
 * with how many more came meanwhile. So a flood can fill neither the disk nor the log.
 */
import type { Log } from '../../log.ts';
import type { Auditor } from './audit.ts';

export type RefusedWhy =
  | 'host_not_allowed'
  | 'origin_not_allowed'
  | 'body_too_large'
  | 'unsupported_encoding';

export interface Refused {
  outcome: RefusedWhy;
  /** What was refused, for the operator; a value the client sent goes through `screened`. */
  detail: string;
}

export type OnRefused = (request: Request, refused: Refused) => void;

const SHOWN = 100;

/** A value the client chose, safe to write: printable ASCII kept, anything else escaped, cut, quoted. */
export function screened(value: string): string {
  const cut = value.length > SHOWN ? `${value.slice(0, SHOWN)}…(${value.length} chars)` : value;
  const escaped = cut.replace(/[^\x20-\x7e…]|["\\]/g, (c) =>
    c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `"${escaped}"`;
}

const LOG_EVERY_MS = 60_000;

export function refusalReporter(
  log: Log,
  audit: Auditor | undefined,
  ipOf: (request: Request) => string | undefined,
  now: () => number = Date.now,
): OnRefused {
  // One entry per reason: a fixed handful, whatever the flood.
  const logged = new Map<RefusedWhy, { at: number; more: number }>();
  return (request, { outcome, detail }) => {
    const ip = ipOf(request);
    audit?.record({ event: 'request_refused', ip, outcome, detail });
    const t = now();
    const last = logged.get(outcome);
    if (last && t - last.at < LOG_EVERY_MS) {
      last.more++;
      return;
    }
    const more = last?.more ? ` (and ${last.more} more like it since the last warning)` : '';
    logged.set(outcome, { at: t, more: 0 });
    log.warn(`http: refused a request from ${ip ?? 'an unknown address'}: ${detail}${more}`);
  };
}
