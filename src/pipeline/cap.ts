/**
 * The byte cap, the last stage for every primitive: a tool result, a prompt's message text, a
 * resource's text. It is measured on the UTF-8 bytes a client reads (a tool result's text content is
 * the JSON of its structuredContent) after redaction and fencing, so nothing added later can break it.
 * A fenced block is trimmed inside its delimiters: both stay, and the note says what was cut.
 */
import type { KeepEnd } from '../core/tool.ts';
import { measuredAs } from './result-json.ts';

export interface Truncation {
  field: string;
  kept: number;
  dropped: number;
  note: string;
}

const bytes = (s: string) => Buffer.byteLength(s);
const size = (v: unknown) => bytes(JSON.stringify(v));

/** fence.ts's delimiters: `<untrusted-TAG source="…">` and `</untrusted-TAG>`. */
const OPEN = /^<untrusted-([0-9a-z]+) source="[^"]*">$/;
const closeOf = (tag: string) => `</untrusted-${tag}>`;
const FENCED_TEXT = /^(<untrusted-([0-9a-z]+) source="[^"]*">\n)([\s\S]*)(\n<\/untrusted-\2>)$/;

const over = (maxBytes: number) => `Result over ${Math.round(maxBytes / 1024)} KiB`;

/**
 * Keeps a result under `maxBytes` by trimming its largest array or string, keeping the useful end
 * (`tail` = newest log lines / last output, `head` = first rows), and says in `truncated` what was
 * cut and how to narrow the request. The JSON of the returned value, `truncated` included, is never
 * more than `maxBytes`.
 */
export function capResult(
  value: Record<string, unknown>,
  maxBytes: number,
  keep: KeepEnd,
  narrowHint: string,
  /** JSON.stringify(value), when the caller already made it. */
  known?: string,
): { value: Record<string, unknown>; truncated?: Truncation } {
  const json = known ?? JSON.stringify(value);
  if (bytes(json) <= maxBytes) {
    measuredAs(value, json);
    return { value };
  }
  let current = { ...value };
  let truncation: Truncation | undefined;
  // Trim the biggest field first; a second pass handles results with two large fields.
  for (let pass = 0; pass < 3 && size(withNote(current, truncation)) > maxBytes; pass++) {
    const field = largestField(current);
    if (!field) break;
    const fitter = fitterOf(current[field] as unknown[] | string);
    const unit = typeof current[field] === 'string' ? 'characters' : 'items';
    const note = (kept: number, dropped: number): Truncation => ({
      field,
      kept,
      dropped,
      note: `${over(maxBytes)}: kept the ${keep === 'tail' ? 'last' : 'first'} ${kept} ${unit} of '${field}', dropped ${dropped}. ${narrowHint}`,
    });
    // Room for the note at its longest (kept and dropped are at most the total).
    const reserve = size(note(fitter.total, fitter.total)) + bytes(',"truncated":');
    const rest = size(current) - size(current[field]);
    const fit = fitter.fit(Math.max(maxBytes - rest - reserve, 0), keep);
    current = { ...current, [field]: fit.value };
    truncation = note(fit.kept, fit.dropped);
  }
  const capped = withNote(current, truncation);
  if (size(capped) > maxBytes) {
    return {
      value: {},
      truncated: {
        field: '*',
        kept: 0,
        dropped: 1,
        note: `${over(maxBytes)} and could not be trimmed. ${narrowHint}`,
      },
    };
  }
  return { value: current, truncated: truncation };
}

const withNote = (v: Record<string, unknown>, t: Truncation | undefined) => (t ? { ...v, truncated: t } : v);

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

/** How to trim one field: its inner part (inside a fence, when fenced) and how to wrap it back. */
function fitterOf(v: unknown[] | string) {
  let inner: unknown[] | string = v;
  let wrap = (x: unknown[] | string): unknown => x;
  if (Array.isArray(v)) {
    const tag = typeof v[0] === 'string' ? OPEN.exec(v[0])?.[1] : undefined;
    if (tag !== undefined && v.length >= 2 && v[v.length - 1] === closeOf(tag)) {
      const [first, last] = [v[0], v[v.length - 1]];
      inner = v.slice(1, -1);
      wrap = (x) => [first, ...(x as unknown[]), last];
    }
  } else {
    const m = FENCED_TEXT.exec(v);
    if (m) {
      inner = m[3] as string;
      wrap = (x) => `${m[1]}${x as string}${m[4]}`;
    }
  }
  const total = inner.length;
  return {
    total,
    fit(budget: number, keep: KeepEnd) {
      const take = (n: number) => (keep === 'tail' ? inner.slice(total - n) : inner.slice(0, n));
      // Binary search the largest n whose JSON fits: O(log n) serialisations.
      let lo = 0;
      let hi = total;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (size(wrap(take(mid))) <= budget) lo = mid;
        else hi = mid - 1;
      }
      return { value: wrap(take(lo)), kept: lo, dropped: total - lo };
    },
  };
}

/** Fenced blocks in a text: `<untrusted-TAG source="…">\n BODY \n</untrusted-TAG>`. */
const FENCE_IN_TEXT = /(<untrusted-([0-9a-z]+) source="[^"]*">\n)([\s\S]*?)(\n<\/untrusted-\2>)/g;

/**
 * The same promise for a text a client reads as is (a prompt message, a resource's contents):
 * at most `maxBytes` UTF-8 bytes. The largest fenced block is trimmed first, by whole lines from
 * the end not kept (`tail`: its newest lines stay), its delimiters kept; a text still too long is cut
 * before the first block that would not fit whole. A note at the end says what was cut.
 */
export function capText(
  text: string,
  maxBytes: number,
  keep: KeepEnd,
  narrowHint: string,
): { text: string; truncated?: string } {
  if (bytes(text) <= maxBytes) return { text };
  let current = text;
  let keptLines = 0;
  let droppedLines = 0;
  const noteOf = (kept: number, dropped: number) =>
    `\n\n[${over(maxBytes)}: kept the ${keep === 'tail' ? 'last' : 'first'} ${kept} lines of untrusted text, dropped ${dropped}. ${narrowHint}]`;
  // Each pass trims the largest block still trimmable; a prompt holds a handful of blocks.
  for (let pass = 0; pass < 8; pass++) {
    const reserve = bytes(noteOf(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) + 40;
    if (bytes(current) + (droppedLines > 0 ? reserve : 0) <= maxBytes) break;
    const blocks = [...current.matchAll(FENCE_IN_TEXT)];
    const largest = blocks
      .filter((b) => (b[3] as string).length > 0)
      .sort((a, b) => bytes(b[3] as string) - bytes(a[3] as string))[0];
    if (!largest) break;
    const body = largest[3] as string;
    const lines = body.split('\n');
    const budget = maxBytes - reserve - (bytes(current) - bytes(body));
    const take = (n: number) =>
      (keep === 'tail' ? lines.slice(lines.length - n) : lines.slice(0, n)).join('\n');
    let lo = 0;
    let hi = lines.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (bytes(take(mid)) <= budget) lo = mid;
      else hi = mid - 1;
    }
    // A single line longer than the budget: keep the part of it that fits.
    let kept = take(lo);
    if (lo === 0 && budget > 0 && lines.length > 0)
      kept = fitChars(lines[keep === 'tail' ? lines.length - 1 : 0] as string, budget, keep);
    keptLines += lo;
    droppedLines += lines.length - lo;
    const at = largest.index ?? 0;
    const whole = largest[0];
    current = `${current.slice(0, at)}${largest[1]}${kept}${largest[4]}${current.slice(at + whole.length)}`;
    if (lo === lines.length) break;
  }
  let note = droppedLines > 0 ? noteOf(keptLines, droppedLines) : '';
  if (bytes(current) + bytes(note) > maxBytes) {
    note =
      droppedLines > 0
        ? `${note.slice(0, -1)} The end of the text was cut too.]`
        : `\n\n[${over(maxBytes)}: the end of the text was cut. ${narrowHint}]`;
    current = cutOutsideFences(current, maxBytes - bytes(note));
  }
  return { text: `${current}${note}`, truncated: note.trim() };
}

/** The longest end (`keep`) of `s` within `budget` bytes. */
function fitChars(s: string, budget: number, keep: KeepEnd): string {
  let lo = 0;
  let hi = s.length;
  const take = (n: number) => (keep === 'tail' ? s.slice(s.length - n) : s.slice(0, n));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytes(take(mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return take(lo);
}

/** The head of `text` within `budget` bytes, never ending inside a fenced block (the block goes whole). */
function cutOutsideFences(text: string, budget: number): string {
  let cut = fitChars(text, Math.max(budget, 0), 'head').length;
  for (const b of text.matchAll(FENCE_IN_TEXT)) {
    const start = b.index ?? 0;
    if (start < cut && cut < start + b[0].length) cut = start;
  }
  return text.slice(0, cut);
}
