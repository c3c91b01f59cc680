/**
 * Redaction of bytes that travel as base64 (a binary file read from a container): decoded, they are
 * as readable as text, so the secrets in their text are masked in the bytes before they are encoded.
 */
import { redactText } from './redact.ts';

/** Shorter runs of text cannot hold a name, `=` and a value. */
const MIN_RUN = 4;
const STAR = 42;

/** A byte of text as redaction reads it: printable ASCII, tab or line feed. */
const texty = (b: number | undefined) => b !== undefined && ((b >= 32 && b < 127) || b === 9 || b === 10);

/**
 * `data` with the secrets found in its runs of text masked, each run's masked stretch overwritten with
 * `*` (the length and every other byte kept, so offsets in the file still hold); undefined when
 * nothing was masked. Runs are ASCII (UTF-8, Latin-1) and UTF-16 of either byte order (a character
 * and a NUL). Text compressed or encoded inside the file (gzip, base64) is not seen.
 */
export function redactBytes(data: Uint8Array): Uint8Array | undefined {
  let out: Uint8Array | undefined;
  // The run of `step`-byte characters from `from` to `to`.
  const mask = (from: number, to: number, step: 1 | 2) => {
    const text = Buffer.from(data.buffer, data.byteOffset + from, to - from).toString(
      step === 1 ? 'latin1' : 'utf16le',
    );
    const masked = redactText(text);
    if (masked === text) return;
    // The stretch between the first and the last character the masking changed.
    let head = 0;
    while (head < text.length && text[head] === masked[head]) head++;
    let tail = 0;
    while (tail < text.length - head && text[text.length - 1 - tail] === masked[masked.length - 1 - tail])
      tail++;
    out ??= Uint8Array.from(data);
    for (let c = head; c < text.length - tail; c++) out[from + c * step] = STAR;
  };
  // One byte a character.
  for (let i = 0; i < data.length; ) {
    if (!texty(data[i])) {
      i++;
      continue;
    }
    const start = i;
    while (texty(data[i])) i++;
    if (i - start >= MIN_RUN) mask(start, i, 1);
  }
  // Two bytes a character, the NUL after it (UTF-16LE); UTF-16BE is the same run one byte on.
  for (let i = 0; i + 1 < data.length; ) {
    if (!(texty(data[i]) && data[i + 1] === 0)) {
      i++;
      continue;
    }
    const start = i;
    while (i + 1 < data.length && texty(data[i]) && data[i + 1] === 0) i += 2;
    if ((i - start) / 2 >= MIN_RUN) mask(start, i, 2);
  }
  return out;
}
