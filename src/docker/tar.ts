/**
 * Just enough tar: read ustar/GNU/pax entries as a stream, write entry headers (files, directories,
 * symlinks; pax for long names) for a one-file archive or a build context.
 */
export interface TarEntry {
  name: string;
  size: number;
  type: 'file' | 'dir' | 'symlink' | 'link' | 'other';
  mode: number;
  linkname: string;
}

/** What to do with an entry's data: feed it to a sink, skip it, or stop reading the archive. */
export type TarAction = ((data: Buffer) => void) | 'skip' | 'stop';

const BLOCK = 512;
const META_MAX = 65_536;
const TYPES: Record<string, TarEntry['type']> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '5': 'dir',
  '2': 'symlink',
  '1': 'link',
};

/**
 * A streaming tar reader that holds one header block at a time: ustar names (with prefix), GNU
 * long names ('L', 'K') and pax headers ('x' path/linkpath/size). Entry data goes to the sink the
 * callback returns, so a large archive is never held in memory.
 */
export class TarReader {
  private block = Buffer.alloc(BLOCK);
  private fill = 0;
  private remaining = 0;
  private padding = 0;
  private sink: ((data: Buffer) => void) | undefined;
  private meta: { kind: string; chunks: Buffer[]; length: number } | undefined;
  private longName?: string;
  private longLink?: string;
  private pax: Record<string, string> = {};
  done = false;

  constructor(private readonly onEntry: (entry: TarEntry) => TarAction) {}

  /** Returns false once the archive ended or the callback asked to stop. */
  push(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length && !this.done) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.data(chunk.subarray(i, i + n));
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.endEntry();
      } else if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - i);
        this.padding -= n;
        i += n;
      } else {
        const n = Math.min(BLOCK - this.fill, chunk.length - i);
        chunk.copy(this.block, this.fill, i, i + n);
        this.fill += n;
        i += n;
        if (this.fill === BLOCK) {
          this.fill = 0;
          this.header();
        }
      }
    }
    return !this.done;
  }

  private header(): void {
    const b = this.block;
    if (b.every((x) => x === 0)) {
      this.done = true; // end-of-archive marker
      return;
    }
    const flag = String.fromCharCode(b[156] ?? 0);
    const size = this.pax.size !== undefined ? Number(this.pax.size) : tarNumber(b.subarray(124, 136));
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
      this.meta = { kind: flag, chunks: [], length: 0 };
      this.sink = undefined;
    } else {
      const prefix = b.toString('utf8', 257, 263).startsWith('ustar') ? cString(b, 345, 155) : '';
      const base = cString(b, 0, 100);
      const entry: TarEntry = {
        name: this.pax.path ?? this.longName ?? (prefix ? `${prefix}/${base}` : base),
        size,
        type: TYPES[flag] ?? 'other',
        mode: tarNumber(b.subarray(100, 108)),
        linkname: this.pax.linkpath ?? this.longLink ?? cString(b, 157, 100),
      };
      this.longName = undefined;
      this.longLink = undefined;
      this.pax = {};
      const action = this.onEntry(entry);
      if (action === 'stop') {
        this.done = true;
        return;
      }
      this.sink = action === 'skip' ? undefined : action;
    }
    if (this.remaining === 0) this.endEntry();
  }

  private data(bytes: Buffer): void {
    if (this.meta) {
      if (this.meta.length < META_MAX) this.meta.chunks.push(Buffer.from(bytes));
      this.meta.length += bytes.length;
    } else this.sink?.(bytes);
  }

  private endEntry(): void {
    const m = this.meta;
    this.meta = undefined;
    this.sink = undefined;
    if (!m) return;
    const text = Buffer.concat(m.chunks).toString('utf8');
    if (m.kind === 'L') this.longName = text.replace(/\0.*$/s, '');
    else if (m.kind === 'K') this.longLink = text.replace(/\0.*$/s, '');
    else if (m.kind === 'x') this.pax = parsePax(text);
  }
}

/** pax records: "<len> <key>=<value>\n". */
function parsePax(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rec of text.split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/s.exec(rec);
    if (m?.[1]) out[m[1]] = m[2] ?? '';
  }
  return out;
}

const cString = (b: Buffer, at: number, len: number) => {
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end === -1 || end > at + len ? at + len : end);
};

/** Octal, or base-256 when the high bit is set (GNU, for sizes over 8 GiB). */
function tarNumber(field: Buffer): number {
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let n = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] ?? 0);
    return n;
  }
  const s = field
    .toString('ascii')
    .replace(/[\0 ].*$/s, '')
    .trim();
  return s ? Number.parseInt(s, 8) : 0;
}

/** What a written entry needs; names and link targets of any length (pax carries long ones). */
export interface TarEntryHead {
  name: string;
  kind: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
  mtime: Date;
  linkname?: string;
}

const FLAGS = { file: '0', dir: '5', symlink: '2' } as const;
/** The largest size the 12-byte octal field holds; larger ones go in a pax record. */
const OCTAL_SIZE_MAX = 0o77777777777;

/** The header block(s) of one entry: a pax header first when a name, link or size does not fit ustar. */
export function tarEntryHeader(e: TarEntryHead): Buffer {
  const pax: Buffer[] = [];
  const link = e.linkname ?? '';
  if (Buffer.byteLength(e.name) > 100) pax.push(paxRecord('path', e.name));
  if (Buffer.byteLength(link) > 100) pax.push(paxRecord('linkpath', link));
  if (e.size > OCTAL_SIZE_MAX) pax.push(paxRecord('size', String(e.size)));
  const head = tarHeader(
    fitName(e.name),
    Math.min(e.size, OCTAL_SIZE_MAX),
    e.mode,
    e.mtime,
    FLAGS[e.kind],
    fitName(link),
  );
  if (pax.length === 0) return head;
  const body = Buffer.concat(pax);
  return Buffer.concat([tarHeader('PaxHeader', body.length, 0o644, e.mtime, 'x'), pad(body), head]);
}

/** Zeros after `size` bytes of data, up to the next block. */
export const tarPadding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** The end-of-archive marker: two zero blocks. */
export const tarTrailer = () => Buffer.alloc(BLOCK * 2);

/** At most 100 bytes, cut at a character boundary (a pax record carries the whole name). */
function fitName(name: string): string {
  if (Buffer.byteLength(name) <= 100) return name;
  let out = '';
  for (const ch of name) {
    if (Buffer.byteLength(out + ch) > 100) break;
    out += ch;
  }
  return out;
}

/** A tar archive holding one regular file (a pax header carries a name over 100 bytes). */
export function tarOneFile(name: string, data: Buffer, mode: number, mtime = new Date()): Buffer {
  return Buffer.concat([
    tarEntryHeader({ name, kind: 'file', size: data.length, mode, mtime }),
    data,
    tarPadding(data.length),
    tarTrailer(),
  ]);
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  return Buffer.from(`${len}${body}`);
}

const pad = (b: Buffer) => Buffer.concat([b, tarPadding(b.length)]);

function tarHeader(
  name: string,
  size: number,
  mode: number,
  mtime: Date,
  flag: string,
  linkname = '',
): Buffer {
  const h = Buffer.alloc(BLOCK);
  const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.floor(mtime.getTime() / 1000)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(flag, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 'binary');
  let sum = 0;
  for (const x of h) sum += x;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}
