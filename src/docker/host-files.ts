/**
 * The one way to a file or directory on the server's own host (a build context, an image tar to save
 * or load, Compose files, secrets): the host-path rule of the call's policy, applied to the path as it
 * resolves now on this filesystem, and to what was really opened. A path can change after its check:
 * a container that can write a directory above it can swap it for a symlink. So a file is opened
 * without following a last symlink or blocking on a FIFO, must be a regular file, and is judged again
 * where it really is (Linux: /proc/self/fd); a directory is opened once and reached through its
 * descriptor from then on, whatever becomes of its path.
 */
import type { FileHandle } from 'node:fs/promises';
import type { EngineFacts } from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';
import { nodeFs } from '../core/node-builtins.ts';
import { checkHostPath } from './policy/paths.ts';
import { currentPolicy, pathPolicyOf } from './policy/scope.ts';

/** What the path is for: read (a tar to load), write (a tar to save), a build context directory. */
export type HostFileUse = 'read' | 'write' | 'context';

type Engine = { resolveFacts(signal?: AbortSignal): Promise<EngineFacts> };

/**
 * Checks `raw` (the argument named `arg`) against the host-path rule and returns its real path.
 * The engine's directories (its data root, exec root, sockets) count as sensitive here too.
 */
export async function hostFile(
  engine: Engine,
  raw: string,
  arg: string,
  _use: HostFileUse,
  signal?: AbortSignal,
): Promise<string> {
  const scope = currentPolicy();
  // Sensitive paths need the engine's facts; a server without an engine still has its own rules.
  const facts = await engine.resolveFacts(signal).catch(() => undefined);
  return checkHostPath(raw, arg, pathPolicyOf(scope, { ...facts, sharesFilesystem: true }));
}

/** Where an open file or directory really is (Linux), or undefined where the platform cannot say. */
export async function openedAt(fd: number): Promise<string | undefined> {
  return nodeFs()
    .promises.readlink(`/proc/self/fd/${fd}`)
    .catch(() => undefined);
}

/**
 * Opens a file to read without following a last symlink (a swap since the check is ELOOP) and, with
 * O_NONBLOCK, without waiting on a FIFO for a writer (fstat then says what it is).
 */
export function openForRead(path: string): Promise<FileHandle> {
  const { constants, promises } = nodeFs();
  return promises.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
}

/**
 * An open file's bytes to its end, read with room for `size` (its size when opened) and one more;
 * no `data` once more than `maxBytes` were read (`bytes` says how many).
 */
async function readToEnd(
  handle: FileHandle,
  size: number,
  maxBytes: number,
): Promise<{ data?: Buffer; bytes: number }> {
  const chunks: Buffer[] = [];
  let n = 0;
  for (let room = size + 1; ; room = 65_536) {
    const buf = Buffer.allocUnsafe(room);
    const { bytesRead } = await handle.read(buf, 0, room, null);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    n += bytesRead;
    if (n > maxBytes) return { bytes: n };
  }
  return { data: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, n), bytes: n };
}

const code = (e: unknown) => (e as { code?: string }).code;
const unreadable = (arg: string, raw: string, why: string, hint: string) =>
  new ToolError('invalid_argument', `${arg} '${raw}' ${why}`, { hint });
const STILL = 'Keep the files still while the call runs, then call again.';

/** An open regular file on the host, judged where it really is. */
export interface HostFileHandle {
  handle: FileHandle;
  size: number;
  /** Its real path. */
  path: string;
}

/**
 * Opens the host file `raw` to read: undefined when there is none. A directory, a FIFO, a socket or a
 * device, a path that became a symlink, or one that now leads somewhere the rule refuses is an error
 * naming `arg`. The caller closes the handle.
 */
export async function openHostFile(
  engine: Engine,
  raw: string,
  arg: string,
  signal?: AbortSignal,
): Promise<HostFileHandle | undefined> {
  const real = await hostFile(engine, raw, arg, 'read', signal);
  let handle: FileHandle;
  try {
    handle = await openForRead(real);
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    if (code(e) === 'ELOOP') throw unreadable(arg, raw, 'became a symlink after it was checked', STILL);
    if (code(e) === 'EACCES' || code(e) === 'EPERM')
      throw unreadable(
        arg,
        raw,
        'cannot be read (permission denied)',
        'Make it readable by the user the server runs as.',
      );
    throw e;
  }
  try {
    const s = await handle.stat();
    if (s.isDirectory()) throw unreadable(arg, raw, 'is a directory, not a file', 'Name a file.');
    if (!s.isFile())
      throw unreadable(
        arg,
        raw,
        'is not a regular file (a FIFO, a socket or a device)',
        'Name a regular file.',
      );
    const at = await openedAt(handle.fd);
    // What was opened is what the rule judges: a path swapped since its check is judged again.
    const path = at === undefined || at === real ? real : await hostFile(engine, at, arg, 'read', signal);
    return { handle, size: s.size, path };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** The host file `raw`, read whole (at most `maxBytes`): undefined when there is none (openHostFile). */
export async function readHostFile(
  engine: Engine,
  raw: string,
  arg: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Buffer | undefined> {
  const file = await openHostFile(engine, raw, arg, signal);
  if (!file) return undefined;
  const tooLarge = (n: number) =>
    unreadable(arg, raw, `is ${n} bytes, over the ${maxBytes} this server reads`, 'Use a smaller file.');
  try {
    if (file.size > maxBytes) throw tooLarge(file.size);
    const { data, bytes } = await readToEnd(file.handle, file.size, maxBytes);
    if (!data) throw tooLarge(bytes);
    return data;
  } finally {
    await file.handle.close();
  }
}

/** A host directory open for the call: its entries are reached through it, whatever its path becomes. */
export interface HostDir {
  /** Where it really is (Linux), else the path it was opened by. */
  path: string;
  /** A path to the directory itself, through the descriptor where there is one. */
  root: string;
  /** A path to `name` inside it. */
  at(name: string): string;
  close(): Promise<void>;
}

/**
 * Opens the directory at `real` (a path hostFile returned) once. On Linux `at(name)` goes through the
 * open descriptor (/proc/self/fd/N/name), so a swap of the directory, or of one above it, for a
 * symlink after the check changes nothing, and `path` is where it really is: when that is not `real`,
 * `judge` is asked about it (it throws to refuse; the directory is closed). Elsewhere `at(name)` is
 * the path. Missing, or not a directory: ENOENT, ENOTDIR as the system says.
 */
export async function openHostDir(real: string, judge: (at: string) => Promise<unknown>): Promise<HostDir> {
  const { constants, promises } = nodeFs();
  const handle = await promises.open(real, constants.O_RDONLY | constants.O_DIRECTORY);
  const at = await openedAt(handle.fd);
  if (at === undefined) {
    await handle.close();
    return { path: real, root: real, at: (name) => `${real}/${name}`, close: async () => {} };
  }
  if (at !== real)
    await judge(at).catch(async (e) => {
      await handle.close();
      throw e;
    });
  const base = `/proc/self/fd/${handle.fd}`;
  return { path: at, root: base, at: (name) => `${base}/${name}`, close: () => handle.close() };
}

/**
 * A regular file's bytes (at most `maxBytes`; undefined when it is missing, is no regular file, or is
 * larger), opened without following a last symlink or blocking on a FIFO. For files inside a
 * directory already judged (a build context's Dockerfile and .dockerignore).
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer | undefined> {
  const handle = await openForRead(path).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const s = await handle.stat();
    if (!s.isFile() || s.size > maxBytes) return undefined;
    return (await readToEnd(handle, s.size, maxBytes)).data;
  } finally {
    await handle.close();
  }
}
