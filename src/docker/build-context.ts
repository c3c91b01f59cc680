/**
 * A build context directory as the tar stream the engine's /build reads. Every entry is checked before
 * anything is sent, and packing itself never throws into the request: a FIFO, socket or device node, a
 * name that is not valid UTF-8, or a file that cannot be read is a ToolError naming the entry, and the
 * server stays up. A FIFO is never opened (lstat first, then open with O_NONBLOCK and fstat, so one
 * swapped in after the check cannot block either). Symlinks are sent as symlinks, never followed (as
 * dockerode's packer did before). `.dockerignore` is honoured with the same matcher dockerode used.
 * Knows nothing of MCP or of any tool.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import type { EngineFacts } from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';
import { dockerfileName, sentDockerfiles } from './dockerfile.ts';
import { type HostDir, hostFile, openedAt, openForRead, openHostDir, readRegularFile } from './host-files.ts';
import { tarEntryHeader, tarPadding, tarTrailer } from './tar.ts';

export type ContextKind = 'file' | 'dir' | 'symlink';

/** One entry to send: files, symlinks, and empty directories (others are implied by their files). */
export interface ContextEntry {
  path: string;
  kind: ContextKind;
}

const MAX_DOCKERFILE_BYTES = 1_048_576;
const HINT = 'Add it to .dockerignore in the context directory, or remove it; then build again.';
const CHUNK = 65_536;
const MAX_IGNORE_BYTES = 1024 * 1024;

const refuse = (entry: string, why: string) =>
  new ToolError('invalid_argument', `invalid argument 'path': the build context holds '${entry}', ${why}`, {
    hint: HINT,
  });

/** Bytes that are not printable ASCII shown as \xNN, so a name that is not UTF-8 can still be named. */
const showBytes = (name: Buffer) =>
  [...name].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16)}`)).join('');

const code = (e: unknown) => (e as { code?: string }).code ?? String(e);

/** What no tar entry can carry, by file type. */
function special(e: Stats): string | undefined {
  if (e.isFIFO()) return 'a FIFO (named pipe), which cannot be sent to the engine';
  if (e.isSocket()) return 'a socket, which cannot be sent to the engine';
  if (e.isBlockDevice() || e.isCharacterDevice()) return 'a device node, which cannot be sent to the engine';
  return undefined;
}

/** The `.dockerignore` filter of `root` (true = send), as dockerode applied it. */
async function ignoreFilter(root: string): Promise<(path: string) => boolean> {
  const text = (await readRegularFile(join(root, '.dockerignore'), MAX_IGNORE_BYTES))?.toString('utf8');
  if (text === undefined) return () => true;
  return dockerignore({ ignorecase: false }).add(text).createFilter();
}

/**
 * The entries of the context under `root` that `.dockerignore` keeps, each checked: an entry that
 * cannot be sent is an invalid_argument naming it (ignored entries are never looked at twice).
 */
export async function listContext(
  root: string,
  signal: AbortSignal,
  maxEntries = 100_000,
): Promise<ContextEntry[]> {
  const keep = await ignoreFilter(root);
  const out: ContextEntry[] = [];
  let seen = 0;
  const walk = async (rel: string): Promise<boolean> => {
    let any = false;
    const dir = rel ? join(root, rel) : root;
    // Raw names (a name that is not UTF-8 would otherwise be decoded lossily and not found again).
    const names = await readdir(dir, { encoding: 'buffer' }).catch((e) => {
      throw refuse(rel || '.', `a directory that cannot be read (${code(e)})`);
    });
    for (const raw of names) {
      signal.throwIfAborted();
      if (++seen > maxEntries)
        throw new ToolError('invalid_argument', `the context holds more than ${maxEntries} entries`, {
          hint: 'Use a smaller context directory or a .dockerignore.',
        });
      const name = raw.toString('utf8');
      const p = rel ? `${rel}/${name}` : name;
      const sent = keep(p);
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        if (!sent) continue;
        throw refuse(`${rel ? `${rel}/` : ''}${showBytes(raw)}`, 'whose name is not valid UTF-8');
      }
      const e = await lstat(Buffer.concat([Buffer.from(`${dir}/`), raw])).catch((err) => {
        throw refuse(p, `which cannot be read (${code(err)})`);
      });
      if (e.isDirectory()) {
        // Walked even when ignored: a `!exception` may bring back a file inside.
        const inner = await walk(p);
        if (!inner && sent) out.push({ path: p, kind: 'dir' });
        any ||= inner || sent;
        continue;
      }
      if (!sent) continue;
      const why = special(e);
      if (why) throw refuse(p, why);
      out.push({ path: p, kind: e.isSymbolicLink() ? 'symlink' : 'file' });
      any = true;
    }
    return any;
  };
  await walk('');
  return out;
}

/**
 * The tar stream of `entries` under `root`. It never errors: a failure while packing (a file that
 * cannot be read, or was swapped for something else) goes to `onFailure`, which should abort the
 * request, and the stream ends.
 */
export function packContext(
  root: string,
  entries: ContextEntry[],
  onFailure: (e: ToolError) => void,
  signal: AbortSignal,
  real?: string,
  dockerfile?: ReadDockerfile,
): Readable {
  async function* blocks(): AsyncGenerator<Buffer> {
    try {
      for (const entry of entries) {
        if (signal.aborted) return;
        // The Dockerfile goes as the bytes read (and judged) before the request, never read again.
        if (entry.path === dockerfile?.name) yield* packBytes(dockerfile);
        else yield* packEntry(root, entry, real);
      }
      yield tarTrailer();
    } catch (e) {
      onFailure(e instanceof ToolError ? e : refuse('?', `which could not be packed (${String(e)})`));
    }
  }
  return Readable.from(blocks(), { objectMode: false });
}

/** A build context ready to send: its tar stream, the signal the request must use, and what packing hit. */
export interface OpenContext {
  stream: Readable;
  /** The call's signal, also aborted when packing fails: the request ends instead of hanging. */
  sending: AbortSignal;
  /** Why packing failed, once it has: the result to give rather than the engine's error. */
  failure(): ToolError | undefined;
  /** The Dockerfile's text, exactly as the stream carries it. */
  dockerfile: string;
  /** Its name in the context as sent (`sub/../Dockerfile` is `Dockerfile`): what to ask the engine to build. */
  dockerfileName: string;
}

/** How a refusal of the Dockerfile reads: `why` follows the name as given; the caller leads with its field. */
export type DockerfileRefusal = (why: string, hint: string) => ToolError;

const dockerfileArgument =
  (given: string): DockerfileRefusal =>
  (why, hint) =>
    new ToolError('invalid_argument', `invalid argument 'dockerfile': '${given}' ${why}`, { hint });

/** The Dockerfile as packed: its name in the context (normalised), its bytes and its header fields. */
interface ReadDockerfile {
  name: string;
  bytes: Buffer;
  mode: number;
  mtime: Date;
}

/**
 * Lists `root` (refusing FIFOs, sockets, devices and odd names before anything is sent), reads the
 * Dockerfile `dockerfile` (a regular file in the context, sent even when `.dockerignore` leaves it out,
 * as the docker CLI does) and packs it; a failure while packing aborts `sending` and is kept for
 * `failure()`. The stream is known to `sentDockerfile`, with the Dockerfile's bytes exactly as sent.
 * This is the one check of the Dockerfile's name: `refusal` words it for the caller's argument.
 */
export async function openContext(
  root: string,
  signal: AbortSignal,
  real?: string,
  dockerfile = 'Dockerfile',
  refusal: DockerfileRefusal = dockerfileArgument(dockerfile),
): Promise<OpenContext> {
  const name = dockerfileName(dockerfile);
  if (name === undefined)
    throw refusal(
      'is not inside the context',
      'Give a path relative to the context, e.g. docker/Dockerfile.',
    );
  const entries = await listContext(root, signal);
  const file = await readDockerfileEntry(root, entries, name, refusal, real);
  let failed: ToolError | undefined;
  const packing = new AbortController();
  const sending = AbortSignal.any([signal, packing.signal]);
  const stream = packContext(
    root,
    entries,
    (e) => {
      failed = e;
      packing.abort(e);
    },
    sending,
    real,
    file,
  );
  const text = file.bytes.toString('utf8');
  sentDockerfiles.set(stream, { name: file.name, text });
  return { stream, sending, failure: () => failed, dockerfile: text, dockerfileName: name };
}

/** Reads the Dockerfile entry `name` (normalised) of the context once, for both the policy and the tar stream. */
async function readDockerfileEntry(
  root: string,
  entries: ContextEntry[],
  name: string,
  bad: DockerfileRefusal,
  real?: string,
): Promise<ReadDockerfile> {
  const entry = entries.find((e) => e.path === name);
  // The engine would follow a symlink inside the context; this server reads only what it sends.
  if (entry && entry.kind !== 'file')
    throw bad(
      `is a ${entry.kind === 'dir' ? 'directory' : 'symlink'} in the context`,
      'Name the regular file to build from (the one a symlink points to).',
    );
  if (!entry) {
    if (entries.some((e) => e.kind === 'symlink' && name.startsWith(`${e.path}/`)))
      throw bad('is reached through a symlink in the context', 'Name the path without the symlink.');
    entries.push({ path: name, kind: 'file' });
  }
  const fh = await openForRead(join(root, name)).catch(() => undefined);
  if (!fh)
    throw bad(
      `is not a file in ${real ?? 'the context'}`,
      'Create it, or name the Dockerfile to build from (a path relative to the context).',
    );
  try {
    const s = await fh.stat();
    if (!s.isFile()) throw bad('is not a regular file in the context', 'Name the Dockerfile to use.');
    if (s.size > MAX_DOCKERFILE_BYTES)
      throw bad('is over 1 MiB, too large to check', 'Split the build, or shorten the Dockerfile.');
    const at = real === undefined ? undefined : await openedAt(fh.fd);
    if (at !== undefined && !at.startsWith(`${real}/`))
      throw bad('now leads outside the context (a directory in it became a symlink)', 'Build again.');
    const bytes = Buffer.alloc(s.size);
    let got = 0;
    while (got < s.size) {
      const { bytesRead } = await fh.read(bytes, got, s.size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { name, bytes: bytes.subarray(0, got), mode: s.mode, mtime: s.mtime };
  } finally {
    await fh.close();
  }
}

function* packBytes(file: ReadDockerfile): Generator<Buffer> {
  const size = file.bytes.length;
  yield tarEntryHeader({ name: file.name, kind: 'file', size, mode: file.mode, mtime: file.mtime });
  if (size > 0) yield file.bytes;
  yield tarPadding(size);
}

/** `real`: where the context really is; a file opened elsewhere (a directory in it swapped for a symlink) is refused. */
async function* packEntry(root: string, entry: ContextEntry, real?: string): AsyncGenerator<Buffer> {
  const full = join(root, entry.path);
  const failed = (e: unknown) => refuse(entry.path, `which cannot be read (${code(e)})`);
  if (entry.kind === 'dir') {
    const s = await lstat(full).catch((e) => {
      throw failed(e);
    });
    yield tarEntryHeader({ name: `${entry.path}/`, kind: 'dir', size: 0, mode: s.mode, mtime: s.mtime });
    return;
  }
  if (entry.kind === 'symlink') {
    const [s, target] = await Promise.all([lstat(full), readlink(full)]).catch((e) => {
      throw failed(e);
    });
    yield tarEntryHeader({
      name: entry.path,
      kind: 'symlink',
      size: 0,
      mode: s.mode,
      mtime: s.mtime,
      linkname: target,
    });
    return;
  }
  // A FIFO swapped in since the walk opens without waiting for a writer; fstat then says so.
  const fh = await openForRead(full).catch((e) => {
    throw failed(e);
  });
  try {
    const s = await fh.stat();
    if (!s.isFile()) throw refuse(entry.path, 'which is no longer a regular file');
    const at = real === undefined ? undefined : await openedAt(fh.fd);
    if (at !== undefined && !at.startsWith(`${real}/`))
      throw refuse(entry.path, 'which now leads outside the context (a directory in it became a symlink)');
    yield tarEntryHeader({ name: entry.path, kind: 'file', size: s.size, mode: s.mode, mtime: s.mtime });
    // Exactly the size in the header: a file that grows is cut, one that shrinks is padded with zeros.
    let left = s.size;
    while (left > 0) {
      const buf = Buffer.alloc(Math.min(CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null).catch((e) => {
        throw failed(e);
      });
      if (bytesRead === 0) {
        yield buf;
        left -= buf.length;
        continue;
      }
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      left -= bytesRead;
    }
    yield tarPadding(s.size);
  } finally {
    await fh.close();
  }
}

/**
 * The context directory `raw` (the argument `arg`), judged by the host-path rule and opened once:
 * reached through its descriptor from then on (host-files.ts), and judged again where it really is.
 * Pass `root` to openContext and `path` as its `real`; close it once the build is over. `notDir`
 * makes the error for a path that is not a directory.
 */
export async function openContextDir(
  engine: { resolveFacts(signal?: AbortSignal): Promise<EngineFacts> },
  raw: string,
  arg: string,
  notDir: (real: string) => ToolError,
  signal?: AbortSignal,
): Promise<HostDir> {
  const real = await hostFile(engine, raw, arg, 'context', signal);
  const judge = (at: string) => hostFile(engine, at, arg, 'context', signal);
  return openHostDir(real, judge).catch((e) => {
    throw e instanceof ToolError ? e : notDir(real);
  });
}
