/**
 * Reading the engine's byte streams (logs, exec, archives) with bounded memory: demultiplexing
 * stdout/stderr frames, keeping only the newest bytes or lines, splitting lines across chunks.
 * Knows nothing of MCP or of any tool.
 */
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { fromWholeLine } from '../core/cut.ts';
import { dialEngine, dialOptions } from './request.ts';

export type StreamName = 'stdout' | 'stderr';
/** `frameStart`: `data` begins a frame (one log entry); never set for a TTY stream, which has no frames. */
export type DataFn = (stream: StreamName, data: Buffer, frameStart?: boolean) => void;

/**
 * Splits Docker's multiplexed stream (non-TTY logs, attach, exec): frames of an 8-byte header
 * `[stream, 0, 0, 0, size u32 BE]` then `size` bytes, cut anywhere across chunks.
 * Stream 2 (stderr) and 3 (engine error) count as stderr; 0 and 1 as stdout.
 */
export class FrameDemuxer {
  private readonly header = Buffer.alloc(8);
  private headerFill = 0;
  private remaining = 0;
  private current: StreamName = 'stdout';
  private fresh = false;
  /** Frame headers read: one per log entry in a log stream. */
  frames = 0;

  constructor(private readonly onData: DataFn) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining === 0) {
        const n = Math.min(8 - this.headerFill, chunk.length - i);
        chunk.copy(this.header, this.headerFill, i, i + n);
        this.headerFill += n;
        i += n;
        if (this.headerFill < 8) return;
        this.headerFill = 0;
        this.frames++;
        this.current = (this.header[0] ?? 1) >= 2 ? 'stderr' : 'stdout';
        this.remaining = this.header.readUInt32BE(4);
        this.fresh = true;
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - i);
      this.onData(this.current, chunk.subarray(i, i + n), this.fresh);
      this.fresh = false;
      this.remaining -= n;
      i += n;
    }
  }
}

/**
 * A chunk handler for an engine stream: framed unless the container has a TTY (then it is all stdout).
 * `frames()` counts the frames seen (undefined with a TTY, which has none).
 */
export function demux(
  tty: boolean,
  onData: DataFn,
): ((chunk: Buffer) => void) & { frames: () => number | undefined } {
  if (tty) return Object.assign((chunk: Buffer) => onData('stdout', chunk), { frames: () => undefined });
  const d = new FrameDemuxer(onData);
  return Object.assign((chunk: Buffer) => d.push(chunk), { frames: () => d.frames });
}

/**
 * Keeps the last `max` bytes written; `total` counts everything seen. When bytes were dropped, `text()`
 * starts at the first whole line kept (core/cut.ts): redaction runs on it later, and must see a
 * secret's name whole.
 */
export class TailBytes {
  private chunks: Buffer[] = [];
  private length = 0;
  /** text() as of the last push, and the bytes it holds. */
  private shown?: { text: string; bytes: number };
  total = 0;

  constructor(readonly max: number) {}

  push(data: Buffer): void {
    this.total += data.length;
    this.shown = undefined;
    if (data.length >= this.max) {
      this.chunks = [Buffer.from(data.subarray(data.length - this.max))];
      this.length = this.max;
      return;
    }
    // Copy: `data` is often a view into a larger chunk (a frame of a demultiplexed stream); kept
    // views of chunks mostly made of the other stream would hold far more than `max` bytes alive.
    this.chunks.push(Buffer.from(data));
    this.length += data.length;
    while (this.length > this.max) {
      const first = this.chunks[0] as Buffer;
      const excess = this.length - this.max;
      if (first.length <= excess) {
        this.chunks.shift();
        this.length -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.length -= excess;
      }
    }
  }

  /** Bytes written and not in text(): those cut off, and a partial first line after them. */
  get dropped(): number {
    return this.total - this.view().bytes;
  }

  /** The kept bytes as UTF-8, from the first whole line when the front was cut (see the class). */
  text(): string {
    return this.view().text;
  }

  private view(): { text: string; bytes: number } {
    if (this.shown) return this.shown;
    const buf = Buffer.concat(this.chunks, this.length);
    if (this.total === this.length) this.shown = { text: buf.toString('utf8'), bytes: this.length };
    else {
      const text = fromWholeLine(buf.toString('utf8'));
      this.shown = { text, bytes: Buffer.byteLength(text) };
    }
    return this.shown;
  }
}

/**
 * Cuts a byte stream into lines across chunk boundaries. A line longer than `maxLineBytes` is cut
 * there (marked with '…', and `cut` set for it) so one endless line cannot fill memory. A trailing
 * '\r' is dropped.
 */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialLength = 0;
  private overflow = false;

  constructor(
    private readonly onLine: (line: string, cut: boolean) => void,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  push(data: Buffer): void {
    let start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      this.append(data.subarray(start, nl));
      this.emit();
      start = nl + 1;
    }
    if (start < data.length) this.append(data.subarray(start));
  }

  /** Emits the last line if it had no newline. */
  flush(): void {
    if (this.partialLength > 0 || this.overflow) this.emit();
  }

  private append(bytes: Buffer): void {
    const room = this.maxLineBytes - this.partialLength;
    if (bytes.length > room) this.overflow = true;
    const kept = bytes.length > room ? bytes.subarray(0, Math.max(room, 0)) : bytes;
    if (kept.length === 0) return;
    // Copy: the chunk may be a view into a larger buffer we do not want to keep alive.
    this.partial.push(Buffer.from(kept));
    this.partialLength += kept.length;
  }

  private emit(): void {
    let line = Buffer.concat(this.partial, this.partialLength).toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const cut = this.overflow;
    if (cut) line += '…';
    this.partial = [];
    this.partialLength = 0;
    this.overflow = false;
    this.onLine(line, cut);
  }
}

/** Longest line a LineSplitter keeps by default: the rest of a longer one is dropped. */
export const MAX_LINE_BYTES = 16_384;

/** Keeps the newest lines within both a line and a byte budget (a ring: old lines fall off the front). */
export class TailLines<T extends string = string> {
  private ring: T[] = [];
  private head = 0;
  private bytes = 0;
  /** Lines offered, kept or not. */
  total = 0;

  constructor(
    readonly maxLines: number,
    readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  push(line: T): void {
    this.total++;
    if (this.maxLines <= 0) return;
    this.ring.push(line);
    this.bytes += line.length;
    while (
      this.ring.length - this.head > this.maxLines ||
      (this.bytes > this.maxBytes && this.ring.length - this.head > 1)
    ) {
      this.bytes -= (this.ring[this.head] as T).length;
      this.head++;
    }
    // Compact now and then so the array does not grow with everything ever seen.
    if (this.head > 1024 && this.head > this.ring.length / 2) {
      this.ring = this.ring.slice(this.head);
      this.head = 0;
    }
  }

  /** Oldest to newest. */
  lines(): T[] {
    return this.ring.slice(this.head);
  }
}

/**
 * Feeds a stream's chunks to `onChunk` until it ends. Aborting the signal destroys the stream (for a
 * hijacked exec that closes the socket) and rejects with the signal's reason. `onChunk` returning
 * false stops reading early and destroys the stream.
 */
export function consume(
  stream: Readable,
  onChunk: (chunk: Buffer) => boolean | undefined,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error !== undefined) reject(error);
      else resolve();
    };
    const onAbort = () => {
      settle(signal.reason ?? new Error('aborted'));
      stream.destroy();
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (onChunk(chunk) === false) {
        settle();
        stream.destroy();
      }
    });
    stream.on('end', () => settle());
    stream.on('close', () => settle());
    stream.on('error', (e) => settle(e));
  });
}

/**
 * The one stream function: an engine endpoint's answer as a stream, through the same dial (and
 * guard) as every other request (dockerode buffers some streams, e.g. non-follow logs, whole).
 */
export function engineStream(
  docker: Dockerode,
  path: string,
  query: Record<string, unknown>,
  signal: AbortSignal,
): Promise<Readable> {
  return dialEngine<Readable>(docker, { ...dialOptions({ path, query }, signal), isStream: true });
}
