import type { ProgressFn } from '../tools/define.ts';

/**
 * Rate-limits progress to one notification per interval (the last value always wins), so a pull
 * with thousands of byte updates sends a handful of notifications.
 */
export function throttledProgress(
  send: ((p: { progress: number; total?: number; message?: string }) => void) | undefined,
  intervalMs = 250,
): ProgressFn & { flush(): void } {
  let last = 0;
  let pending: { progress: number; total?: number; message?: string } | undefined;
  let seen = -1;
  const emit = () => {
    if (!pending || !send) return;
    // Progress must increase; equal values are dropped.
    if (pending.progress > seen) {
      seen = pending.progress;
      send(pending);
    }
    pending = undefined;
    last = Date.now();
  };
  const fn = ((progress: number, total?: number, message?: string) => {
    if (!send) return;
    pending = { progress, ...(total !== undefined && { total }), ...(message && { message }) };
    if (Date.now() - last >= intervalMs) emit();
  }) as ProgressFn & { flush(): void };
  fn.flush = emit;
  return fn;
}
