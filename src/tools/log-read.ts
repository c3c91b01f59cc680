/** What the log tools say about a read: a future `since`, lines left out for the size limit, long lines cut. */
import { ToolError } from '../core/errors.ts';
import type { Limits } from '../core/limits.ts';
import { newestFitting } from '../docker/logs.ts';
import { MAX_LINE_BYTES } from '../docker/streams.ts';

/** A future `since` selects nothing yet, and the engine answers it empty: refused, as docker_events does. */
export function refuseFutureSince(since: number | undefined, given: string | undefined, nowMs = Date.now()) {
  if (since !== undefined && since * 1000 > nowMs + 1000)
    throw new ToolError('invalid_argument', `invalid argument 'since': '${given}' is in the future`, {
      hint: 'Give a past time or a duration ago (10m), or leave since out.',
    });
}

/** Room in a result for everything but its lines: the fence's delimiters, names, counts and notes. */
const RESERVE = 2048;

/**
 * The newest of `lines` that fit the response limit, and a note for those left out: `wanted` is how
 * many the call asked for and found (min(tail, lines found)), so the figures add up whatever cut them;
 * `how` says how to read the rest.
 */
export function fitLines(
  lines: string[],
  wanted: number,
  limits: Limits,
  how = 'with until (before the first line here: timestamps shows its time), or narrow with grep',
) {
  const n = newestFitting(lines, Math.max(limits.maxResponseBytes - RESERVE, 1024));
  const kept = n === lines.length ? lines : lines.slice(lines.length - n);
  const leftOut = Math.max(wanted - kept.length, 0);
  return {
    lines: kept,
    leftOut,
    note:
      leftOut === 0
        ? undefined
        : `kept the newest ${kept.length} of ${wanted} lines: the rest would pass the ${Math.round(limits.maxResponseBytes / 1024)} KiB response limit (--max-response-bytes); read the older ${leftOut} ${how}`,
  };
}

/** Says that lines over the length a reader keeps were cut there, and what grep (or a pattern) saw of them. */
export const cutNote = (cut: number, matched: 'grep' | 'pattern' | undefined): string | undefined =>
  cut === 0
    ? undefined
    : `${cut === 1 ? '1 line was' : `${cut} lines were`} over ${MAX_LINE_BYTES / 1024} KiB and cut there (ending …)${matched ? `; ${matched} matched only the first ${MAX_LINE_BYTES / 1024} KiB of ${cut === 1 ? 'it' : 'each'}` : ''}`;
