/**
 * A confirmed call acts on what its question showed. A preview that names an object by name pins it
 * in its plan (its id, or what tells it apart); the handler, given that plan back, refuses when the
 * name now holds another object, since between the question and the answer anyone can rename,
 * retag or recreate. Without a confirmation there is no plan and nothing to compare.
 */
import { ToolError } from '../core/errors.ts';

/** The field `key` of the accepted plan, when the call was confirmed with one. */
export function pinned(confirmed: unknown, key: string): unknown {
  return confirmed && typeof confirmed === 'object' && !Array.isArray(confirmed)
    ? (confirmed as Record<string, unknown>)[key]
    : undefined;
}

/** Refuses the call when `now` is not what the question showed (`was`). */
export function sameAsAsked(
  confirmed: unknown,
  key: string,
  now: unknown,
  what: string,
  shown: (v: unknown) => string = String,
): void {
  if (confirmed === undefined) return;
  const was = pinned(confirmed, key);
  if (was === now) return;
  throw new ToolError(
    'conflict',
    `${what} is not what the user was asked about (${shown(was)} then, ${shown(now)} now); nothing changed`,
    { hint: 'Call again: the user will be asked about it as it is now.', retryable: false },
  );
}
