/**
 * The tags an image archive (docker save) puts on the engine, read from the open file before it is
 * loaded: manifest.json's RepoTags with each image's ID (its config digest), else the legacy
 * `repositories` file (tags without IDs). The whole tar is walked, as the engine unpacks it all (see
 * archive-tar.ts): a plain tar costs a read per entry header and per small body, a gzip one is read
 * through decompressed. Other compressions cannot be read here.
 * A tag that names another image on the engine moves when the archive is loaded: docker_load_image
 * treats that as docker_tag_image treats `force`.
 */
import type { FileHandle } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import type { Preview } from '../../core/tool.ts';
import { shortId } from '../../docker/names.ts';
import { inspectImage } from '../../docker/resolve.ts';
import {
  FileTree,
  fileReader,
  NotDockerSave,
  normalise,
  streamReader,
  type Walked,
  walk,
} from './archive-tar.ts';

export interface ArchiveTag {
  /** repo:tag as the archive names it. */
  tag: string;
  /** The image it will name ('sha256:…'); absent when the archive does not say (legacy format). */
  id?: string;
}

/** The archive's tags, or why they cannot be known (the engine may still load it). */
export type ArchiveTags = { known: true; tags: ArchiveTag[] } | { known: false; why: string };

/** The fields Go decodes a manifest.json item into; its JSON matches keys case-insensitively. */
const MANIFEST_KEYS = ['Config', 'RepoTags', 'Layers', 'Parent', 'LayerSources'];
/** Go's case folding of a key, widened to cover its versions: 'ſ' is 'S', 'ı' is 'I', the Kelvin sign 'K'. */
const fold = (key: string) => key.replace(/[^ -~]/g, (c) => c.toLowerCase().toUpperCase()).toUpperCase(); // ASCII controls fold to themselves

/** The image ID a manifest item's config gives it: the digest of that file as the archive leaves it. */
function configDigest(walked: Walked, config: unknown): string | undefined {
  if (typeof config !== 'string') return undefined;
  try {
    const node = walked.files.get(normalise(config));
    return node?.kind === 'file' ? node.digest : undefined;
  } catch (e) {
    if (e instanceof NotDockerSave) return undefined; // a path outside the archive: the engine fails
    throw e;
  }
}

/** The tags the metadata names; undefined when it does not parse. */
function tagsOf(walked: Walked): ArchiveTag[] | undefined {
  // The engine reads `repositories` only when there is no manifest.json.
  if (walked.manifest) {
    let entries: unknown;
    try {
      entries = JSON.parse(walked.manifest.toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Array.isArray(entries)) return undefined;
    return entries.flatMap((e: unknown) => {
      if (typeof e !== 'object' || e === null) return [];
      for (const key of Object.keys(e)) {
        const field = MANIFEST_KEYS.find((k) => fold(k) === fold(key));
        if (field && field !== key)
          throw new NotDockerSave(`its manifest.json spells '${field}' as '${key}'`);
      }
      const { Config, RepoTags } = e as { Config?: unknown; RepoTags?: unknown };
      const id = configDigest(walked, Config);
      const tags = Array.isArray(RepoTags) ? RepoTags.filter((t) => typeof t === 'string') : [];
      return tags.map((tag: string) => ({ tag, ...(id && { id }) }));
    });
  }
  if (walked.repositories) {
    try {
      const repos = JSON.parse(walked.repositories.toString('utf8')) as Record<
        string,
        Record<string, unknown>
      >;
      return Object.entries(repos).flatMap(([repo, tags]) =>
        Object.keys(tags ?? {}).map((t) => ({ tag: `${repo}:${t}` })),
      );
    } catch {
      return undefined;
    }
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

/** What the engine takes for gzip (deflate method included): anything else it reads as a plain tar. */
const GZIP = Buffer.from([0x1f, 0x8b, 0x08]);
/** Compressions the engine reads and this module does not. */
const OTHER: [Buffer, string][] = [
  [Buffer.from('BZh'), 'bzip2'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
];

const HINT_SHAPE =
  'Load the archive docker save or docker_save_image wrote, unchanged; an archive made by hand must hold one regular manifest.json at its top and no entry under a link.';

/** The archive cannot be loaded safely: the engine could read other tags from it than the server. */
const unsafe = (path: string, why: string) =>
  new ToolError(
    'invalid_argument',
    `'${path}' is not an archive docker save writes (${why}), so it was not loaded`,
    {
      hint: HINT_SHAPE,
    },
  );

/**
 * The tags the archive open at `handle` will set. Not a tar at all (nor gzip): no tags, the engine
 * refuses it anyway. A tar without its metadata, or compressed otherwise: not known. A shape the engine
 * could read otherwise (NotDockerSave) is thrown.
 */
export async function archiveTags(handle: FileHandle, signal?: AbortSignal): Promise<ArchiveTags> {
  const head = Buffer.alloc(8);
  await handle.read(head, 0, head.length, 0);
  const other = OTHER.find(([magic]) => head.subarray(0, magic.length).equals(magic));
  if (other) return { known: false, why: `it is ${other[1]}-compressed` };
  const walked: Walked = { tar: false, files: new FileTree() };
  if (head.subarray(0, GZIP.length).equals(GZIP)) {
    // Positional reads from the start: the descriptor stays open, and where it was, for the load.
    // pipeline passes a read error on to gunzip, which would otherwise wait for more data forever.
    const gunzip = createGunzip();
    pipeline(Readable.from(chunksOf(handle)), gunzip, () => {});
    try {
      await walk(streamReader(gunzip[Symbol.asyncIterator](), signal), walked, signal);
    } catch (e) {
      if (signal?.aborted || e instanceof NotDockerSave) throw e;
      // The engine's gzip reader (Go's, or unpigz) may accept what this one refuses.
      return { known: false, why: 'its gzip stream cannot be read here' };
    } finally {
      gunzip.destroy();
    }
  } else await walk(fileReader(handle), walked, signal);
  if (!walked.tar) return { known: true, tags: [] };
  const tags = tagsOf(walked);
  return tags
    ? { known: true, tags }
    : { known: false, why: 'it holds no manifest.json the server can read' };
}

/** A tag the load moves, and the image it names now (short ID). */
export interface Moved {
  tag: string;
  was: string;
}

/** What a load was checked against: the tags it was expected to move, and every archive tag's image now. */
export interface BeforeLoad {
  moved: Moved[];
  /** Each archive tag that names an image now, and its full ID; empty when the tags could not be read. */
  before: Map<string, string>;
}

/** An image ID without its algorithm (Podman may answer either form). */
const bare = (id: string) => id.replace(/^sha256:/, '');

/** The image `tag` names on the engine now (full ID), if any. */
const imageOf = (docker: Dockerode, tag: string, signal: AbortSignal) =>
  inspectImage(docker, tag, signal).then(
    (i) => i.Id,
    (e: unknown) => {
      if (e instanceof ToolError && e.kind === 'not_found') return undefined;
      throw e;
    },
  );

/** The tags that name another image on the engine now than the one the archive gives them. */
async function movedOnEngine(
  docker: Dockerode,
  tags: ArchiveTag[],
  signal: AbortSignal,
): Promise<BeforeLoad> {
  const out: BeforeLoad = { moved: [], before: new Map() };
  for (const { tag, id } of tags) {
    const now = await imageOf(docker, tag, signal);
    if (!now) continue;
    out.before.set(tag, now);
    if (bare(now) !== (id && bare(id))) out.moved.push({ tag, was: shortId(now) });
  }
  return out;
}

/** The archive's tags, NotDockerSave worded for the caller. */
async function readTags(handle: FileHandle, path: string, signal: AbortSignal): Promise<ArchiveTags> {
  try {
    return await archiveTags(handle, signal);
  } catch (e) {
    if (e instanceof NotDockerSave) throw unsafe(path, e.message);
    throw e;
  }
}

const FORCE_HINT =
  'Pass force: true to load it anyway (a destructive operation: those images lose these names), or remove or retag them first.';

/**
 * The tags loading the archive at `handle` moves off the image they are on now, read before it is
 * loaded. An archive the engine could read otherwise is refused, even with `force`. Without `force`,
 * a tag that moves, or an archive whose tags cannot be read, refuses the load; on a confirmed call
 * (`confirmed`: the tags the user was shown), so does a tag beyond those.
 */
export async function tagsMoved(
  docker: Dockerode,
  handle: FileHandle,
  path: string,
  { force, confirmed }: { force: boolean; confirmed?: unknown },
  signal: AbortSignal,
): Promise<BeforeLoad> {
  const read = await readTags(handle, path, signal);
  if (!read.known) {
    if (force) return { moved: [], before: new Map() };
    throw new ToolError(
      'conflict',
      `cannot tell which tags '${path}' sets (${read.why}), so it was not loaded: it could move existing tags to other images`,
      { hint: `${FORCE_HINT} A tar or .tar.gz from docker save is read first.` },
    );
  }
  const checked = await movedOnEngine(docker, read.tags, signal);
  const { moved } = checked;
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
  return checked;
}

/** A tag as Docker prints it: without the default registry and library namespace. */
const familiar = (tag: string) => tag.replace(/^(?:index\.)?docker\.io\/(?:library\/(?=[^/]+$))?/, '');

/**
 * The tags a finished load moved, from the engine itself: each archive tag whose image is not the one
 * it named before, plus any the engine said it moved (`said`, e.g. for an archive that was not read).
 */
export async function tagsMovedBy(
  docker: Dockerode,
  { before }: BeforeLoad,
  said: Moved[],
  signal: AbortSignal,
): Promise<Moved[]> {
  const moved: Moved[] = [];
  for (const [tag, was] of before) {
    const now = await imageOf(docker, tag, signal);
    if (now && bare(now) !== bare(was)) moved.push({ tag, was: shortId(was) });
  }
  const known = new Set([...before.keys()].map(familiar));
  return [...moved, ...said.filter((m) => !known.has(familiar(m.tag)))];
}

/** What the question says of a load: the tags it moves (the plan), or that it cannot tell. */
export async function loadPreview(
  docker: Dockerode,
  handle: FileHandle,
  path: string,
  signal: AbortSignal,
): Promise<Preview> {
  const read = await readTags(handle, path, signal);
  if (!read.known)
    return {
      action: `load images from '${path}'; which tags it sets cannot be read (${read.why}), and any that names another image moves`,
    };
  const { moved } = await movedOnEngine(docker, read.tags, signal);
  return {
    action:
      moved.length === 0
        ? `load images from '${path}'; it moves no existing tag`
        : `load images from '${path}', moving ${moved.length} tag(s) off the image they name now`,
    objects: moved.map((m) => `${m.tag} (now on ${m.was})`),
    plan: moved.map((m) => m.tag),
    beyondObjects: true, // the load itself
  };
}
