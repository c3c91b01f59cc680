import type { KeepEnd } from '../core/tool.ts';

export interface Truncation {
  field: string;
  kept: number;
  dropped: number;
  note: string;
}

const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/**
 * Keeps a result under `maxBytes` by trimming its largest array or string, keeping the useful end
 * (`tail` = newest log lines / last output, `head` = first rows), and says what was cut and how to
 * narrow the request. Never returns more than `maxBytes` of JSON.
 */
export function capResult(
  value: Record<string, unknown>,
  maxBytes: number,
  keep: KeepEnd,
  narrowHint: string,
): { value: Record<string, unknown>; truncated?: Truncation } {
  if (size(value) <= maxBytes) return { value };
  let current = { ...value };
  let truncation: Truncation | undefined;
  // Trim the biggest field first; a second pass handles results with two large fields.
  for (let pass = 0; pass < 3 && size(current) > maxBytes; pass++) {
    const field = largestField(current);
    if (!field) break;
    const budget = maxBytes - (size(current) - size(current[field])) - 512; // room for the note
    const fit = fitField(current[field] as unknown[] | string, Math.max(budget, 0), keep);
    current = { ...current, [field]: fit.value };
    const unit = typeof fit.value === 'string' ? 'characters' : 'items';
    truncation = {
      field,
      kept: fit.kept,
      dropped: fit.dropped,
      note: `Result over ${Math.round(maxBytes / 1024)} KiB: kept the ${keep === 'tail' ? 'last' : 'first'} ${fit.kept} ${unit} of '${field}', dropped ${fit.dropped}. ${narrowHint}`,
    };
  }
  if (size(current) > maxBytes) {
    return {
      value: {},
      truncated: {
        field: '*',
        kept: 0,
        dropped: 1,
        note: `Result over ${Math.round(maxBytes / 1024)} KiB and could not be trimmed. ${narrowHint}`,
      },
    };
  }
  return { value: current, truncated: truncation };
}

function largestField(obj: Record<string, unknown>): string | undefined {
  let best: string | undefined;
  let bestSize = 0;
  for (const [k, v] of Object.entries(obj)) {
    if (!Array.isArray(v) && typeof v !== 'string') continue;
    const s = size(v);
    if (s > bestSize) {
      best = k;
      bestSize = s;
    }
  }
  return best;
}

function fitField(v: unknown[] | string, budget: number, keep: KeepEnd) {
  const total = v.length;
  const take = (n: number) => (keep === 'tail' ? v.slice(total - n) : v.slice(0, n));
  // Binary search the largest n whose JSON fits: O(log n) serialisations.
  let lo = 0;
  let hi = total;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(take(mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return { value: take(lo), kept: lo, dropped: total - lo };
}
