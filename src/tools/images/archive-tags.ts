/**
 * The tags an image archive (docker save) puts on the engine, read from the open file before it is
 * loaded: manifest.json's RepoTags with each image's ID (its config digest), else the legacy
 * `repositories` file (tags without IDs). A plain tar costs a read per entry header, bodies skipped;
 * a gzip one is read through decompressed until manifest.json. Other compressions cannot be read here.
 * A tag that names another image on the engine moves when the archive is loaded: docker_load_image
 * treats that as docker_tag_image treats `force`.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import type { Preview } from '../../core/tool.ts';
import { shortId } from '../../docker/names.ts';
import { inspectImage } from '../../docker/resolve.ts';

export interface ArchiveTag {
  /** repo:tag as the archive names it. */
  tag: string;
  /** The image it will name ('sha256:…'); absent when the archive does not say (legacy format). */
  id?: string;
}

/** The archive's tags, or why they cannot be known (the engine may still load it). */
export type ArchiveTags = { known: true; tags: ArchiveTag[] } | { known: false; why: string };

/** manifest.json and repositories are small; anything larger is not from docker save. */
const MAX_META = 4 * 1024 * 1024;
const BLOCK = 512;

interface Reader {
  /** Exactly n bytes, or undefined at the end of the data. */
  read(n: number): Promise<Buffer | undefined>;
  skip(n: number): Promise<void>;
}

/** Positional reads of an open file: its read position stays where it was. */
function fileReader(handle: FileHandle): Reader {
  let at = 0;
  return {
    async read(n) {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await handle.read(buf, 0, n, at);
      at += bytesRead;
      return bytesRead < n ? undefined : buf;
    },
    async skip(n) {
      at += n;
    },
  };
}

/** Reads from a stream of chunks (a decompressed file). */
function streamReader(chunks: AsyncIterator<Buffer>): Reader {
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

/** A numeric header field: octal text, or base-256 (high bit set) for large values. */
function numberOf(b: Buffer, from: number, len: number): number {
  if ((b[from] ?? 0) & 0x80) {
    let n = (b[from] ?? 0) & 0x7f;
    for (let i = from + 1; i < from + len; i++) n = n * 256 + (b[i] ?? 0);
    return n;
  }
  const s = text(b, from, len).trim();
  return s === '' ? 0 : Number.parseInt(s, 8);
}

/** Whether a 512-byte block is a tar header (its checksum adds up). */
export function isTarHeader(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] ?? 0);
  return sum === numberOf(h, 148, 8);
}

/** `path` from a PAX extended header's records ("len key=value\n"). */
function paxPath(data: Buffer): string | undefined {
  for (const record of data.toString('utf8').split('\n')) {
    const eq = record.indexOf('=');
    const key = record.slice(record.indexOf(' ') + 1, eq);
    if (eq > 0 && key === 'path') return record.slice(eq + 1);
  }
  return undefined;
}

type Found = { manifest?: Buffer; repositories?: Buffer; tar: boolean };

/** Walks the tar's headers until manifest.json, keeping it and `repositories`. */
async function walk(r: Reader, signal?: AbortSignal): Promise<Found> {
  const found: Found = { tar: false };
  let longName: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const h = await r.read(BLOCK);
    if (!h || h.every((b) => b === 0) || !isTarHeader(h)) return found;
    found.tar = true;
    const size = numberOf(h, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    const type = String.fromCharCode(h[156] ?? 0);
    const keep = async () => {
      if (size > MAX_META) {
        await r.skip(padded);
        return undefined;
      }
      return (await r.read(padded))?.subarray(0, size);
    };
    if (type === 'x' || type === 'L') {
      const data = await keep();
      if (data) longName = type === 'x' ? (paxPath(data) ?? longName) : text(data, 0, data.length);
      continue;
    }
    const prefix = text(h, 257, 6) === 'ustar' ? text(h, 345, 155) : '';
    const name = (longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100))).replace(
      /^\.\//,
      '',
    );
    longName = undefined;
    const regular = type === '0' || type === '\0';
    if (regular && (name === 'manifest.json' || name === 'repositories')) {
      const data = await keep();
      if (name === 'manifest.json' && data) {
        found.manifest = data;
        return found;
      }
      if (data) found.repositories = data;
    } else await r.skip(padded);
  }
}

const digestOf = (config: unknown) => {
  const hex = typeof config === 'string' ? /([a-f0-9]{64})/.exec(config)?.[1] : undefined;
  return hex && `sha256:${hex}`;
};

/** The tags the metadata names; undefined when it does not parse. */
function tagsOf(found: Found): ArchiveTag[] | undefined {
  try {
    if (found.manifest) {
      const entries = JSON.parse(found.manifest.toString('utf8')) as unknown;
      if (!Array.isArray(entries)) return undefined;
      return entries.flatMap((e: { Config?: unknown; RepoTags?: unknown }) => {
        const id = digestOf(e?.Config);
        const tags = Array.isArray(e?.RepoTags) ? e.RepoTags.filter((t) => typeof t === 'string') : [];
        return tags.map((tag: string) => ({ tag, ...(id && { id }) }));
      });
    }
    if (found.repositories) {
      const repos = JSON.parse(found.repositories.toString('utf8')) as Record<
        string,
        Record<string, unknown>
      >;
      return Object.entries(repos).flatMap(([repo, tags]) =>
        Object.keys(tags ?? {}).map((t) => ({ tag: `${repo}:${t}` })),
      );
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** An open file's bytes from its start, by positional reads. */
async function* chunksOf(handle: FileHandle): AsyncGenerator<Buffer> {
  for (let at = 0; ; ) {
    const buf = Buffer.alloc(65_536);
    const { bytesRead } = await handle.read(buf, 0, buf.length, at);
    if (bytesRead === 0) return;
    at += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

const GZIP = Buffer.from([0x1f, 0x8b]);
/** Compressions the engine reads and this module does not. */
const OTHER: [Buffer, string][] = [
  [Buffer.from('BZh'), 'bzip2'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
];

/**
 * The tags the archive open at `handle` will set. Not a tar at all (nor gzip): no tags, the engine
 * refuses it anyway. A tar without its metadata, or compressed otherwise: not known.
 */
export async function archiveTags(handle: FileHandle, signal?: AbortSignal): Promise<ArchiveTags> {
  const head = Buffer.alloc(8);
  await handle.read(head, 0, head.length, 0);
  const other = OTHER.find(([magic]) => head.subarray(0, magic.length).equals(magic));
  if (other) return { known: false, why: `it is ${other[1]}-compressed` };
  let found: Found;
  if (head.subarray(0, 2).equals(GZIP)) {
    // Positional reads from the start: the descriptor stays open, and where it was, for the load.
    const gunzip = Readable.from(chunksOf(handle)).pipe(createGunzip());
    try {
      found = await walk(streamReader(gunzip[Symbol.asyncIterator]()), signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      found = { tar: false };
    } finally {
      gunzip.destroy();
    }
  } else found = await walk(fileReader(handle), signal);
  if (!found.tar) return { known: true, tags: [] };
  const tags = tagsOf(found);
  return tags
    ? { known: true, tags }
    : { known: false, why: 'it holds no manifest.json the server can read' };
}

/** A tag the load moves, and the image it names now (short ID). */
export interface Moved {
  tag: string;
  was: string;
}

/** An image ID without its algorithm (Podman may answer either form). */
const bare = (id: string) => id.replace(/^sha256:/, '');

/** The tags that name another image on the engine now than the one the archive gives them. */
async function movedOnEngine(docker: Dockerode, tags: ArchiveTag[], signal: AbortSignal): Promise<Moved[]> {
  const moved: Moved[] = [];
  for (const { tag, id } of tags) {
    const now = await inspectImage(docker, tag, signal).catch((e: unknown) => {
      if (e instanceof ToolError && e.kind === 'not_found') return undefined;
      throw e;
    });
    if (now && bare(now.Id) !== (id && bare(id))) moved.push({ tag, was: shortId(now.Id) });
  }
  return moved;
}

const FORCE_HINT =
  'Pass force: true to load it anyway (a destructive operation: those images lose these names), or remove or retag them first.';

/**
 * The tags loading the archive at `handle` moves off the image they are on now, read before it is
 * loaded. Without `force`, any such tag, or an archive whose tags cannot be read, refuses the load;
 * on a confirmed call (`confirmed`: the tags the user was shown), so does a tag beyond those.
 */
export async function tagsMoved(
  docker: Dockerode,
  handle: FileHandle,
  path: string,
  { force, confirmed }: { force: boolean; confirmed?: unknown },
  signal: AbortSignal,
): Promise<Moved[]> {
  const read = await archiveTags(handle, signal);
  if (!read.known) {
    if (force) return [];
    throw new ToolError(
      'conflict',
      `cannot tell which tags '${path}' sets (${read.why}), so it was not loaded: it could move existing tags to other images`,
      { hint: `${FORCE_HINT} A tar or .tar.gz from docker save is read first.` },
    );
  }
  const moved = await movedOnEngine(docker, read.tags, signal);
  const named = (ms: Moved[]) => ms.map((m) => `'${m.tag}' (now on ${m.was})`).join(', ');
  if (moved.length > 0 && !force)
    throw new ToolError(
      'conflict',
      `loading '${path}' would move ${named(moved)} to another image, so it was not loaded`,
      {
        hint: FORCE_HINT,
      },
    );
  if (Array.isArray(confirmed)) {
    const unseen = moved.filter((m) => !confirmed.includes(m.tag));
    if (unseen.length > 0)
      throw new ToolError(
        'conflict',
        `loading '${path}' would now also move ${named(unseen)}, which the user was not asked about, so it was not loaded`,
        { hint: 'Call again: the user will be asked about every tag it moves.', retryable: false },
      );
  }
  return moved;
}

/** What the question says of a load: the tags it moves (the plan), or that it cannot tell. */
export async function loadPreview(
  docker: Dockerode,
  handle: FileHandle,
  path: string,
  signal: AbortSignal,
): Promise<Preview> {
  const read = await archiveTags(handle, signal);
  if (!read.known)
    return {
      action: `load images from '${path}'; which tags it sets cannot be read (${read.why}), and any that names another image moves`,
    };
  const moved = await movedOnEngine(docker, read.tags, signal);
  return {
    action:
      moved.length === 0
        ? `load images from '${path}'; it moves no existing tag`
        : `load images from '${path}', moving ${moved.length} tag(s) off the image they name now`,
    objects: moved.map((m) => `${m.tag} (now on ${m.was})`),
    plan: moved.map((m) => m.tag),
  };
}
