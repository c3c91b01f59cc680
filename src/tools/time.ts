/** Time points in tool arguments (see `TimePoint` in params.ts), parsed in one place. */
import { ToolError } from '../core/errors.ts';

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const RELATIVE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const RELATIVE_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
const UNIX = /^\d+(?:\.\d+)?$/;
/** The latest time the engine can hold (int64 nanoseconds: 2262-04-11). */
const MAX_SECONDS = 9_223_372_036;
const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Unix seconds for an RFC 3339 time, unix seconds, or a duration meaning "that long ago"
 * (`30s`, `10m`, `2h`, `1d`, `1h30m`). A date or time without an offset is taken as UTC.
 * Anything else is an invalid_argument naming `field` and the accepted forms.
 */
export function parseTimePoint(value: string, field: string, nowMs = Date.now()): number {
  const v = value.trim();
  let seconds: number | undefined;
  if (UNIX.test(v)) seconds = Number(v);
  else if (RELATIVE.test(v)) {
    let ago = 0;
    for (const [, n, unit] of v.matchAll(RELATIVE_PART)) ago += Number(n) * (UNITS[unit as string] as number);
    seconds = nowMs / 1000 - ago;
  } else if (RFC3339.test(v)) {
    const hasZone = /(?:[Zz]|[+-]\d{2}:?\d{2})$/.test(v) && v.length > 10;
    const iso = v.length === 10 ? `${v}T00:00:00Z` : hasZone ? v : `${v}Z`;
    const normal = iso
      .replace(' ', 'T')
      .replace(/\.(\d{1,3})\d*/, '.$1')
      .replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
    const ms = Date.parse(normal);
    if (!Number.isNaN(ms)) seconds = ms / 1000;
  }
  // The engine reads a time as 64-bit nanoseconds: past the year 2262 it fails with a server error.
  if (seconds !== undefined && seconds > MAX_SECONDS)
    throw new ToolError(
      'invalid_argument',
      `invalid argument '${field}': '${value}' is too far in the future`,
      {
        hint: `Give ${field} before the year 2262, as RFC 3339 (2024-05-01T12:00:00Z), unix seconds or a duration ago.`,
      },
    );
  if (seconds === undefined || !Number.isFinite(seconds))
    throw new ToolError('invalid_argument', `invalid argument '${field}': '${value}' is not a time`, {
      hint: `Give ${field} as RFC 3339 (2024-05-01T12:00:00Z), unix seconds (1714564800), or a duration ago (30s, 10m, 2h, 1d).`,
    });
  return Math.round(seconds * 1000) / 1000;
}

/**
 * A since/until window in unix seconds, each end parsed as parseTimePoint does (against one `nowMs`,
 * so `10m`/`5m` keep their order). An `until` before `since` selects nothing: refused, not answered empty.
 */
export function timeWindow(
  args: { since?: string; until?: string },
  nowMs = Date.now(),
): { since?: number; until?: number } {
  const since = args.since === undefined ? undefined : parseTimePoint(args.since, 'since', nowMs);
  const until = args.until === undefined ? undefined : parseTimePoint(args.until, 'until', nowMs);
  if (since !== undefined && until !== undefined && until < since)
    throw new ToolError('invalid_argument', "invalid argument 'until': it is before 'since'", {
      hint: 'Give until a later time than since, or leave it out.',
    });
  return { since, until };
}
