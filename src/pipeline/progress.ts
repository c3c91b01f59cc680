import type { ProgressFn } from '../core/progress.ts';
import { redactText } from '../core/redact.ts';

/**
 * Rate-limits progress to one notification per interval (the last value always wins), so a pull
 * with thousands of byte updates sends a handful of notifications.
 */
export function throttledProgress(
  send: ((p: { progress: number; total?: number; message?: string }) => void) | undefined,
  intervalMs = 250,
): ProgressFn & { flush(): void; cancel(): void } {
  // Nobody to tell (no progress token): one shared function that does nothing.
  if (!send) return SILENT;
  let last = 0;
  let pending: { progress: number; total?: number; message?: string } | undefined;
  let seen = -1;
  // A value held back by the rate limit is sent when its interval is up, not at the next update:
  // during a long build step there may be no next update for minutes.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const emit = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!pending || !send) return;
    // Progress must increase; equal values are dropped.
    if (pending.progress > seen) {
      seen = pending.progress;
      // A message quotes what the engine reports (a build step's ENV line): redacted like a result.
      const { message } = pending;
      send(message ? { ...pending, message: redactText(message) } : pending);
    }
    pending = undefined;
    last = Date.now();
  };
  const fn = ((progress: number, total?: number, message?: string) => {
    if (!send) return;
    pending = { progress, ...(total !== undefined && { total }), ...(message && { message }) };
    const wait = intervalMs - (Date.now() - last);
    if (wait <= 0) emit();
    else timer ??= setTimeout(emit, wait);
  }) as ProgressFn & { flush(): void; cancel(): void };
  fn.flush = emit;
  fn.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    pending = undefined;
  };
  return fn;
}

const SILENT = Object.assign(() => {}, { flush() {}, cancel() {} }) as ProgressFn & {
  flush(): void;
  cancel(): void;
};
