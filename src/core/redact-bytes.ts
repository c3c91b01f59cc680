/**
 * Redaction of bytes that travel as base64 (a binary file read from a container): decoded, they are
 * as readable as text, so the secrets in their text are masked in the bytes before they are encoded.
 */
import { redactText } from './redact.ts';

/** Shorter runs of text cannot hold a name, `=` and a value. */
const MIN_RUN = 4;
const STAR = 42;

/** A byte of text as redaction reads it: printable ASCII, tab, line feed or carriage return (CRLF text). */
const texty = (b: number | undefined) =>
  b !== undefined && ((b >= 32 && b < 127) || b === 9 || b === 10 || b === 13);

/**
 * The bytes of the character of text at `i`: 1 for an ASCII one, 2 to 4 for a whole UTF-8 sequence (a
 * value's `ä` must not end the run, or the value's tail after it is read as a run without its name),
 * 0 for anything else.
 */
function textChar(data: Uint8Array, i: number): number {
  const b = data[i];
  if (b === undefined) return 0;
  if (b < 0x80) return texty(b) ? 1 : 0;
  const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  for (let k = 1; k < n; k++) {
    const c = data[i + k];
    if (c === undefined || c < 0x80 || c > 0xbf) return 0;
  }
  return n;
}

/** A UTF-16 code unit of text: an ASCII one as `texty`, or a Latin-1 letter (`ä`), its high byte 0. */
const wideText = (lo: number | undefined) => texty(lo) || (lo !== undefined && lo >= 0xa0);

/**
 * `data` with the secrets found in its runs of text masked, each run's masked stretch overwritten with
 * `*` (the length and every other byte kept, so offsets in the file still hold); undefined when
 * nothing was masked. Runs are ASCII with UTF-8 sequences, and UTF-16 of either byte order (a character
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
  // One byte a character (ASCII), or a UTF-8 sequence read as its bytes' Latin-1 characters, so each
  // masked character is one byte of the file.
  for (let i = 0; i < data.length; ) {
    if (!textChar(data, i)) {
      i++;
      continue;
    }
    const start = i;
    for (let n = textChar(data, i); n; n = textChar(data, i)) i += n;
    if (i - start >= MIN_RUN) mask(start, i, 1);
  }
  // Two bytes a character, the NUL after it (UTF-16LE); UTF-16BE is the same run one byte on.
  for (let i = 0; i + 1 < data.length; ) {
    if (!(wideText(data[i]) && data[i + 1] === 0)) {
      i++;
      continue;
    }
    const start = i;
    while (i + 1 < data.length && wideText(data[i]) && data[i + 1] === 0) i += 2;
    if ((i - start) / 2 >= MIN_RUN) mask(start, i, 2);
  }
  return out;
}
