/**
 * Reading an image archive's tar as the engine unpacks it, to know what it will find there. dockerd
 * untars the whole archive into a directory (the last entry of a name wins, a symlinked file is
 * followed) and then opens manifest.json, else `repositories`; another reader may take the first one.
 * Rather than copy either, the reader accepts only the shapes docker save writes and refuses the rest
 * (NotDockerSave): one regular manifest.json and `repositories` at most, no entry under a link, no
 * tar feature whose meaning differs between tar readers, no name, entry count or size far past what
 * docker save writes (the walk stays linear in the archive's size). The files left at the end are modelled
 * (name → kind, and a digest of the small ones) so the image IDs can be read from the configs.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** A shape of archive docker save does not write, which the engine might read otherwise than we do. */
export class NotDockerSave extends Error {}

/** manifest.json, repositories and image configs are small; anything larger is not from docker save. */
export const MAX_META = 4 * 1024 * 1024;
/** Go's tar reader refuses PAX and GNU long-name records larger than this. */
const MAX_SPECIAL = 1024 * 1024;
/** docker save writes a few entries per layer, with short names of a few parts. */
const MAX_ENTRIES = 100_000;
const MAX_NAME = 4096;
/** All names together: what the model of the unpacked files may hold (docker save's are a few KiB). */
const MAX_NAMES = 16 * 1024 * 1024;
const MAX_DEPTH = 256;
/** Body sizes past this are refused: no file is that large, and offsets stay exact numbers. */
const MAX_BODY = 2 ** 50;
const BLOCK = 512;
/** The files the engine reads the tags from: only one of each, regular, at the top. */
export const TAG_FILES = ['manifest.json', 'repositories'] as const;

export interface Reader {
  /** Exactly n bytes, or undefined at the end of the data. */
  read(n: number): Promise<Buffer | undefined>;
  skip(n: number): Promise<void>;
}

/** Positional reads of an open file: its read position stays where it was. */
export function fileReader(handle: FileHandle): Reader {
  let at = 0;
  let end: number | undefined;
  return {
    async read(n) {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await handle.read(buf, 0, n, at);
      at += bytesRead;
      return bytesRead < n ? undefined : buf;
    },
    async skip(n) {
      at += n;
      end ??= (await handle.stat()).size;
      if (at > end) refuse('it is truncated');
    },
  };
}

/** Reads from a stream of chunks (a decompressed file); a skip through a large body notices `signal`. */
export function streamReader(chunks: AsyncIterator<Buffer>, signal?: AbortSignal): Reader {
  let held: Buffer = Buffer.alloc(0);
  const fill = async (n: number) => {
    while (held.length < n) {
      const next = await chunks.next();
      if (next.done) return false;
      held = held.length === 0 ? next.value : Buffer.concat([held, next.value]);
    }
    return true;
  };
  return {
    async read(n) {
      if (!(await fill(n))) return undefined;
      const out = held.subarray(0, n);
      held = held.subarray(n);
      return out;
    },
    async skip(n) {
      let left = n;
      while (left > 0) {
        signal?.throwIfAborted();
        if (held.length === 0 && !(await fill(1))) return;
        const drop = Math.min(left, held.length);
        held = held.subarray(drop);
        left -= drop;
      }
    },
  };
}

const text = (b: Buffer, from: number, len: number) => {
  const field = b.subarray(from, from + len);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? len : end).toString('utf8');
};

const refuse = (why: string): never => {
  throw new NotDockerSave(why);
};

/** An octal field as Go reads it: spaces and NULs trimmed from both ends, then up to a NUL. */
function octal(b: Buffer, from: number, len: number): number | undefined {
  const s = b
    .subarray(from, from + len)
    .toString('latin1')
    .replace(/^[ \0]+|[ \0]+$/g, '')
    .replace(/\0.*$/s, '');
  if (s === '') return 0;
  return /^[0-7]+$/.test(s) ? Number.parseInt(s, 8) : undefined;
}

/** A numeric header field: octal text, or base-256 (high bit set). Anything else is refused. */
function numberOf(b: Buffer, from: number, len: number, field: string): number {
  if ((b[from] ?? 0) & 0x80) {
    if ((b[from] ?? 0) & 0x40) refuse(`an entry's ${field} is negative`);
    let n = (b[from] ?? 0) & 0x7f;
    for (let i = from + 1; i < from + len; i++) n = n * 256 + (b[i] ?? 0);
    return n <= Number.MAX_SAFE_INTEGER ? n : refuse(`an entry's ${field} is too large`);
  }
  const n = octal(b, from, len);
  return n !== undefined && n <= Number.MAX_SAFE_INTEGER ? n : refuse(`an entry's ${field} is not a number`);
}

/** Whether a 512-byte block is a tar header: its checksum adds up, unsigned or signed as Go accepts. */
export function isTarHeader(h: Buffer): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : (h[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const sum = octal(h, 148, 8);
  return sum === unsigned || sum === signed;
}

/** A PAX extended header's records ("len key=value\n"), parsed by their lengths as Go does. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (let at = 0; at < data.length; ) {
    const sp = data.indexOf(0x20, at);
    const len = sp < 0 ? Number.NaN : Number(data.subarray(at, sp).toString('latin1'));
    if (!Number.isInteger(len) || len < 5 || at + len > data.length || data[at + len - 1] !== 0x0a)
      return refuse('a PAX header is malformed');
    const record = data.subarray(sp + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq < 0) refuse('a PAX header is malformed');
    out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

/** The path the engine writes an entry to, relative to the archive's root ('' for the root itself). */
export function normalise(name: string): string {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0 && !name.startsWith('/'))
        return refuse(`entry '${name}' points outside the archive`);
      parts.pop();
    } else parts.push(p);
  }
  return parts.join('/');
}

export type Kind = 'file' | 'dir' | 'link';
export interface Node {
  kind: Kind;
  /** sha256 of a regular file up to MAX_META ('sha256:…'). */
  digest?: string;
}

type Entry = Node & { children?: Map<string, Entry> };

/**
 * The files an archive leaves once unpacked, as a tree: checking an entry's parents and replacing a
 * directory (with everything under it) cost one lookup per part of its name.
 */
export class FileTree {
  readonly root = new Map<string, Entry>();
  /** The node at a normalised name. */
  get(name: string): Node | undefined {
    let dir: Map<string, Entry> | undefined = this.root;
    let node: Entry | undefined;
    for (const part of name.split('/')) {
      node = dir?.get(part);
      dir = node?.children;
    }
    return node;
  }
}

export interface Walked {
  /** Whether it is a tar at all. */
  tar: boolean;
  manifest?: Buffer;
  repositories?: Buffer;
  /** The files the archive leaves once unpacked, by normalised name. */
  files: FileTree;
}

const KINDS: Record<string, Kind> = { '0': 'file', '\0': 'file', '1': 'link', '2': 'link', '5': 'dir' };

/** Walks every entry of the tar into `out`, refusing any shape docker save does not write. */
export async function walk(r: Reader, out: Walked, signal?: AbortSignal): Promise<Walked> {
  const seen = new Map<string, number>();
  let pax: Map<string, string> | undefined;
  let gnuName: string | undefined;
  let gnuLink: string | undefined;
  let entries = 0;
  let namesBytes = 0;
  for (;;) {
    signal?.throwIfAborted();
    const h = await r.read(BLOCK);
    const pending = pax || gnuName !== undefined || gnuLink !== undefined;
    if (!h) return pending ? refuse('it ends inside an entry') : out;
    if (h.every((b) => b === 0)) {
      // Go's reader ends at two zero blocks and fails on a zero block followed by data.
      const next = await r.read(BLOCK);
      if (pending || (next && !next.every((b) => b === 0)))
        refuse('it has data after an end-of-archive block');
      return out;
    }
    if (!isTarHeader(h)) return out.tar ? refuse('an entry header is damaged') : out;
    out.tar = true;
    const type = String.fromCharCode(h[156] ?? 0);
    const body = async (max: number) => {
      const size = numberOf(h, 124, 12, 'size');
      if (size > max) refuse(`its '${type}' header is too large`);
      return (await r.read(Math.ceil(size / BLOCK) * BLOCK))?.subarray(0, size) ?? refuse('it is truncated');
    };
    if (type === 'x') {
      if (pax) refuse('an entry has two PAX headers');
      pax = paxRecords(await body(MAX_SPECIAL));
      for (const [key, value] of pax) {
        if (key.startsWith('GNU.sparse.')) refuse('it holds a sparse file');
        if (['path', 'linkpath', 'size'].includes(key) && (value === '' || value.includes('\0')))
          refuse(`a PAX '${key}' is empty or holds a NUL byte`);
      }
      continue;
    }
    if (type === 'L' || type === 'K') {
      if ((type === 'L' ? gnuName : gnuLink) !== undefined) refuse('an entry has two GNU long names');
      const data = await body(MAX_SPECIAL);
      const value = text(data, 0, data.length);
      if (type === 'L') gnuName = value;
      else gnuLink = value;
      continue;
    }
    const kind =
      KINDS[type] ?? refuse(`it holds an entry of tar type '${type}', which docker save does not write`);
    const magic = h.subarray(257, 265).toString('latin1');
    const ustar = magic === 'ustar\u000000';
    const prefix = ustar ? text(h, 345, 155) : '';
    if (prefix && h.subarray(508, 512).toString('latin1') === 'tar\0') refuse('it is a star archive');
    const paxPath = pax?.get('path');
    if (paxPath !== undefined && gnuName !== undefined) refuse('an entry has both a PAX and a GNU long name');
    const raw = gnuName ?? paxPath ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
    const nameBytes = Buffer.byteLength(raw);
    if (nameBytes > MAX_NAME) refuse(`an entry's name is longer than ${MAX_NAME} bytes`);
    namesBytes += nameBytes;
    if (namesBytes > MAX_NAMES)
      refuse(`its entries' names add up to more than ${MAX_NAMES / 1024 / 1024} MiB`);
    if (++entries > MAX_ENTRIES) refuse(`it has more than ${MAX_ENTRIES} entries`);
    const paxSize = pax?.get('size');
    if (paxSize !== undefined && !/^\d+$/.test(paxSize)) refuse("a PAX 'size' is not a number");
    const size = paxSize !== undefined ? Number(paxSize) : numberOf(h, 124, 12, 'size');
    if (size > MAX_BODY) refuse(`entry '${raw}' is larger than any file`);
    pax = undefined;
    gnuName = undefined;
    gnuLink = undefined;
    // Go reads a V7 regular file whose name ends in '/' as a directory; later versions ignore the size
    // of a link or directory, earlier ones read it: docker save writes neither.
    const is: Kind = type === '\0' && raw.endsWith('/') ? 'dir' : kind;
    if (is !== 'file' && size !== 0) refuse(`entry '${raw}' is a ${is} with a body`);
    const name = normalise(raw);
    if (name === '') {
      if (is !== 'dir') refuse('an entry names the archive root');
      continue;
    }
    const parts = name.split('/');
    if (parts.length > MAX_DEPTH) refuse(`an entry's name is more than ${MAX_DEPTH} levels deep`);
    // An entry under a link would be written wherever the link points. A missing parent the engine
    // creates as a directory, which a later entry of that name replaces like any other.
    let dir = out.files.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i] as string;
      let node = dir.get(part);
      if (!node) {
        node = { kind: 'dir', children: new Map() };
        dir.set(part, node);
      }
      if (!node.children)
        return refuse(
          `entry '${raw}' lies under '${parts.slice(0, i + 1).join('/')}', which is a ${node.kind}`,
        );
      dir = node.children;
    }
    const leaf = parts[parts.length - 1] as string;
    const top = TAG_FILES.find((f) => name === f || name.startsWith(`${f}/`));
    if (top) {
      const n = (seen.get(top) ?? 0) + 1;
      seen.set(top, n);
      if (n > 1) refuse(`it has more than one entry named ${top}`);
      if (name !== top || is !== 'file' || raw.endsWith('/'))
        refuse(`its ${top} is ${name !== top ? 'a directory' : `a ${is}`}, not a regular file`);
    }
    // Unpacking replaces what was there, and everything under it, unless both are directories.
    const keep = is === 'dir' && dir.get(leaf)?.kind === 'dir';
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (is !== 'file' || (size > MAX_META && !top)) {
      await r.skip(padded);
      if (!keep) dir.set(leaf, is === 'dir' ? { kind: is, children: new Map() } : { kind: is });
      continue;
    }
    if (size > MAX_META) refuse(`its ${top} is larger than docker save writes`);
    const data = (await r.read(padded))?.subarray(0, size) ?? refuse('it is truncated');
    dir.set(leaf, { kind: is, digest: `sha256:${createHash('sha256').update(data).digest('hex')}` });
    if (top === 'manifest.json') out.manifest = data;
    if (top === 'repositories') out.repositories = data;
  }
}
