/** Small files in and out of a container (text, or base64 for binary); directories are listed, not archived. */
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { inspectContainer } from '../../docker/resolve.ts';
import { consume } from '../../docker/streams.ts';
import { type TarEntry, TarReader, tarOneFile } from '../../docker/tar.ts';
import { ContainerRef } from '../params.ts';

const MAX_FILE_BYTES = 1_048_576;
/** A directory listing stops after reading this much archive (file data included). */
const MAX_SCAN_BYTES = 256 * 1_048_576;
const MAX_LINK_HOPS = 8;

/**
 * An absolute, normalised path inside a container. Relative paths, NUL bytes and '..' segments are
 * refused with a message naming `field`.
 */
export function containerPath(p: string, field: string): string {
  const bad = (why: string, hint: string) =>
    new ToolError('invalid_argument', `invalid argument '${field}': ${why}`, { hint });
  if (p.includes('\0')) throw bad('it contains a NUL byte', 'Remove the NUL byte.');
  if (!p.startsWith('/'))
    throw bad(
      `'${p}' is not an absolute path`,
      `Give the full path inside the container, e.g. '/${p.replace(/^\.?\/*/, '')}'.`,
    );
  const segments = p.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..'))
    throw bad(`'${p}' contains a '..' segment`, "Give the path without '..', as it is after resolving it.");
  return `/${segments.join('/')}`;
}

const PathArg = Type.String({ maxLength: 4096, description: 'Absolute path' });

interface PathStat {
  name: string;
  size: number;
  mode: number;
  linkTarget: string;
}

/** Go os.FileMode type bits, as the engine reports them. */
const bit = (mode: number, n: number) => Math.floor(mode / 2 ** n) % 2 === 1;
const isDir = (s: PathStat) => bit(s.mode, 31);
const isSymlink = (s: PathStat) => bit(s.mode, 27);
const isRegular = (s: PathStat) => [31, 27, 26, 25, 24, 21, 19].every((n) => !bit(s.mode, n));

/** The engine's stat of a path (HEAD /archive); undefined when nothing is there. */
async function statPath(
  docker: Dockerode,
  id: string,
  path: string,
  signal: AbortSignal,
): Promise<PathStat | undefined> {
  try {
    const res = (await docker.getContainer(id).infoArchive({ path, abortSignal: signal })) as Readable & {
      headers: Record<string, string | undefined>;
    };
    res.resume();
    const header = res.headers['x-docker-container-path-stat'];
    if (!header) throw new ToolError('internal', `the engine did not describe '${path}'`);
    return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PathStat;
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 404) return undefined;
    if (status === 500 && (await isLinkLoop(docker, id, path, signal))) throw linkLoop(path);
    throw e;
  }
}

/**
 * Whether the engine failed to stat `path` because resolving it met too many symlinks (a loop). A HEAD
 * answer has no body: the GET of the same path says why (in words naming the engine's own storage
 * paths, which are not shown).
 */
async function isLinkLoop(docker: Dockerode, id: string, path: string, signal: AbortSignal) {
  try {
    (await archive(docker, id, path, signal)).destroy();
    return false;
  } catch (e) {
    // Docker's words: 'evalSymlinksInScope: too many links in <its path>'; ELOOP's elsewhere.
    const { json, message } = e as { json?: { message?: string }; message?: string };
    return /too many (?:levels of symbolic )?links/i.test(`${json?.message ?? ''} ${message ?? ''}`);
  }
}

const linkLoop = (path: string) =>
  new ToolError('invalid_argument', `'${path}' is a symlink loop, or a chain of too many symlinks`, {
    hint: `See where its links point with docker_exec_command (ls -l ${path}), then give the file's own path.`,
  });

/** Follows symlinks the way `docker cp` does, so a link to a file reads the file. */
async function resolvePath(docker: Dockerode, id: string, path: string, signal: AbortSignal) {
  let current = path;
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    const stat = await statPath(docker, id, current, signal);
    if (!stat)
      throw new ToolError('not_found', `'${current}' does not exist in the container`, {
        hint: 'Check the path; list its directory with docker_copy_from_container on the parent.',
      });
    if (!isSymlink(stat)) return { path: current, stat };
    const target = stat.linkTarget;
    current = containerPathLoose(target.startsWith('/') ? target : `${parent(current)}/${target}`);
  }
  throw linkLoop(path);
}

/** Lexical normalisation for link targets, where '..' is legitimate. */
function containerPathLoose(p: string): string {
  const out: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return `/${out.join('/')}`;
}

const parent = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

async function archive(docker: Dockerode, id: string, path: string, signal: AbortSignal): Promise<Readable> {
  return (await docker.getContainer(id).getArchive({ path, abortSignal: signal })) as unknown as Readable;
}

const Entry = Type.Object({ name: Type.String(), type: Type.String(), size: Type.Optional(Type.Integer()) });

export const copyFromContainer = defineTool({
  name: 'docker_copy_from_container',
  title: 'Read file from container',
  description:
    'Read a file (up to the result cap) from a container (untrusted text, or base64), or list a directory.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ container_id: ContainerRef, path: PathArg }, { additionalProperties: false }),
  output: Type.Object({
    path: Type.String(),
    type: Type.String({ description: 'file or dir' }),
    size: Type.Optional(Type.Integer()),
    content: Type.Optional(Type.String({ description: 'Text, fenced as untrusted' })),
    lossy: Type.Optional(
      Type.Boolean({
        description: 'Bytes that are not UTF-8 are shown as U+FFFD, control characters removed',
      }),
    ),
    content_base64: Type.Optional(Type.String({ description: 'Binary content' })),
    redacted: Type.Optional(Type.Boolean({ description: "Secrets in the binary's text were masked with *" })),
    entries: Type.Optional(Type.Array(Entry)),
    count: Type.Optional(Type.Integer()),
    more: Type.Optional(Type.Boolean({ description: 'Listing stopped early; more entries may exist' })),
  }),
  narrowHint:
    "Read the rest with docker_exec_command: tail -c +N on the file (N: one more than the bytes shown) or sed -n 'A,Bp' for lines A to B. For a listing, list a subdirectory.",
  untrusted: { content: 'file {path} in container {container_id}' },
  // A binary file's bytes travel as base64, which the model reads as easily as text.
  untrustedBase64: ['content_base64'],
  // A listed directory's file names are whatever the container wrote.
  screened: ['entries.*.name'],
  handler: async (args, { engine: { docker }, signal, limits }) => {
    const asked = containerPath(args.path, 'path');
    const info = await inspectContainer(docker, args.container_id, signal);
    const { path, stat } = await resolvePath(docker, info.Id, asked, signal);
    if (isDir(stat))
      return {
        path: asked,
        type: 'dir',
        ...(await listDir(docker, info.Id, path, limits.maxListResults, signal)),
      };
    if (!isRegular(stat))
      throw new ToolError('invalid_argument', `'${asked}' is not a regular file or directory`, {
        hint: 'Only regular files and directories can be read.',
      });
    const max = Math.min(MAX_FILE_BYTES, limits.maxResponseBytes);
    if (stat.size > max) throw tooBig(asked, stat.size, max);

    const chunks: Buffer[] = [];
    let length = 0;
    const reader = new TarReader((entry) => {
      if (entry.type !== 'file') return 'skip';
      return (data) => {
        length += data.length;
        if (length <= max) chunks.push(Buffer.from(data));
      };
    });
    await consume(
      await archive(docker, info.Id, path, signal),
      (chunk) => reader.push(chunk) && undefined,
      signal,
    );
    if (length > max) throw tooBig(asked, length, max); // it grew since the stat
    const data = Buffer.concat(chunks, length);
    const text = asText(data);
    if (text === undefined && Math.ceil(length / 3) * 4 > limits.maxResponseBytes - 512)
      throw tooBig(asked, length, Math.floor(((limits.maxResponseBytes - 512) / 4) * 3));
    return {
      path: asked,
      type: 'file',
      size: length,
      // Text (a Latin-1 file, a text file with a NUL) is redacted, screened and fenced as text; only
      // binary travels as base64, its secrets masked in the bytes (untrustedBase64).
      ...(text === undefined
        ? { content_base64: data.toString('base64') }
        : { content: text.text, ...(text.lossy && { lossy: true }) }),
    };
  },
});

const tooBig = (path: string, size: number, max: number) =>
  new ToolError('invalid_argument', `'${path}' is ${size} bytes; this tool reads files up to ${max} bytes`, {
    hint: 'Read part of it with docker_exec_command (head, tail, grep).',
  });

/** At most one character in this many may be odd (not UTF-8, or a control character) in text. */
const ODD_IN_TEXT = 10;

/**
 * The file as text: valid UTF-8, or text with a few odd bytes (a Latin-1 accent, a NUL), decoded with
 * U+FFFD for what is not UTF-8 (`lossy`); undefined for binary, which the caller sends as base64.
 */
export function asText(data: Buffer): { text: string; lossy: boolean } | undefined {
  if (!data.includes(0))
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(data), lossy: false };
    } catch {}
  const text = data.toString('utf8');
  let odd = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Tab, line breaks, form feed and ESC (colour codes) are text; U+FFFD is a byte that is not UTF-8.
    if (c === 0xfffd || c === 0x7f || (c < 32 && (c < 9 || c > 13) && c !== 27)) odd++;
  }
  return odd * ODD_IN_TEXT <= text.length ? { text, lossy: true } : undefined;
}

/** The directory's own entries (not deeper ones), read from its archive without keeping file data. */
async function listDir(docker: Dockerode, id: string, path: string, max: number, signal: AbortSignal) {
  const entries: { name: string; type: string; size?: number }[] = [];
  let more = false;
  let scanned = 0;
  const reader = new TarReader((e: TarEntry) => {
    // Archive names start with the directory's own name ('etc/', 'etc/passwd', 'etc/ssl/certs/…').
    const rest = e.name.replace(/^[^/]*\/?/, '').replace(/\/$/, '');
    if (rest === '' || rest.includes('/')) return 'skip';
    if (entries.length >= max) {
      more = true;
      return 'stop';
    }
    entries.push({ name: rest, type: e.type, ...(e.type === 'file' && { size: e.size }) });
    return 'skip';
  });
  await consume(
    await archive(docker, id, path, signal),
    (chunk) => {
      scanned += chunk.length;
      if (scanned > MAX_SCAN_BYTES) more = true;
      return reader.push(chunk) && !more && undefined;
    },
    signal,
  );
  entries.sort((a, b) => a.name.localeCompare(b.name));
  return { entries, count: entries.length, ...(more ? { more: true } : {}) };
}

export const copyToContainer = defineTool({
  name: 'docker_copy_to_container',
  title: 'Write file into container',
  description:
    'Write one file (≤1 MiB) into a container, replacing one there unless overwrite is false; its directory must exist.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object(
    {
      container_id: ContainerRef,
      path: PathArg,
      // Above any content within the 1 MiB cap (base64 with line breaks is ~1.43 M characters).
      content: Type.String({ maxLength: 2 * MAX_FILE_BYTES, description: 'Text, or base64' }),
      encoding: Type.Optional(Type.Enum(['utf-8', 'base64'], { default: 'utf-8' })),
      mode: Type.Optional(Type.String({ pattern: '^[0-7]{3,4}$', default: '0644', description: 'Octal' })),
      overwrite: Type.Optional(Type.Boolean({ default: true })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    path: Type.String(),
    size: Type.Integer(),
    mode: Type.String(),
    replaced: Type.Optional(
      Type.Object(
        { type: Type.String({ description: 'file, symlink or other' }), size: Type.Integer() },
        { description: 'What was at the path before, now gone' },
      ),
    ),
  }),
  // The file may be a key, a password file or a config with credentials: audited as ***.
  secretArgs: ['content'],
  handler: async (args, { engine: { docker }, signal }) => {
    const path = containerPath(args.path, 'path');
    if (path === '/')
      throw new ToolError('invalid_argument', "invalid argument 'path': '/' is a directory, not a file path");
    const data = decode(args.content, args.encoding ?? 'utf-8');
    if (data.length > MAX_FILE_BYTES)
      throw new ToolError(
        'invalid_argument',
        `content is ${data.length} bytes; this tool writes files up to ${MAX_FILE_BYTES}`,
        {
          hint: 'Split the file, or build it inside the container with docker_exec_command.',
        },
      );
    const info = await inspectContainer(docker, args.container_id, signal);
    refuseHidden(path, info);
    const dir = parent(path);
    const [dirStat, existing] = await Promise.all([
      statPath(docker, info.Id, dir, signal),
      statPath(docker, info.Id, path, signal),
    ]);
    if (!dirStat || !isDir(dirStat))
      throw new ToolError('not_found', `directory '${dir}' does not exist in the container`, {
        hint: `Create it first, e.g. docker_exec_command with "mkdir -p ${dir}".`,
      });
    if (existing && isDir(existing))
      throw new ToolError('conflict', `'${path}' is a directory`, {
        hint: 'Give the path of a file inside it.',
      });
    if (existing && args.overwrite === false)
      throw new ToolError('conflict', `'${path}' already exists`, {
        hint: 'Pass overwrite: true to replace it.',
      });

    const mode = Number.parseInt(args.mode ?? '0644', 8);
    await docker.getContainer(info.Id).putArchive(tarOneFile(base(path), data, mode), {
      path: dir,
      noOverwriteDirNonDir: true,
      abortSignal: signal,
    });
    return {
      path,
      size: data.length,
      mode: mode.toString(8).padStart(4, '0'),
      ...(existing && {
        replaced: {
          type: isRegular(existing) ? 'file' : isSymlink(existing) ? 'symlink' : 'other',
          size: existing.size,
        },
      }),
    };
  },
});

/** Mount points a running container has of its own, not in the filesystem the engine copies into. */
const OWN_MOUNTS = ['/proc', '/sys', '/dev'];

/**
 * The engine copies into the container's root filesystem and its bind and volume mounts, not into the
 * procfs, sysfs, /dev and tmpfs mounts the running container sees: a file written under one of those
 * lands beneath it, reported written and never visible (as with docker cp). Refused, naming the mount;
 * a bind or volume mounted deeper is written to as usual.
 */
export function refuseHidden(path: string, info: Dockerode.ContainerInspectInfo): void {
  const hc = info.HostConfig as {
    Tmpfs?: Record<string, string>;
    Mounts?: { Type?: string; Target?: string }[];
  };
  const hidden = [
    ...OWN_MOUNTS,
    ...Object.keys(hc.Tmpfs ?? {}),
    ...(hc.Mounts ?? []).filter((m) => m.Type === 'tmpfs' && m.Target).map((m) => m.Target as string),
  ];
  const visible = (info.Mounts ?? []).filter((m) => m.Type !== 'tmpfs').map((m) => m.Destination);
  const under = (root: string) =>
    root === '/' ? -1 : path === root || path.startsWith(`${root}/`) ? root.length : -1;
  const deepest = (roots: string[]) =>
    roots.reduce<[number, string]>((best, r) => (under(r) > best[0] ? [under(r), r] : best), [-1, '']);
  const [depth, mount] = deepest(hidden.map((r) => r.replace(/\/+$/, '')));
  if (depth < 0 || deepest(visible)[0] > depth) return;
  throw new ToolError(
    'invalid_argument',
    `invalid argument 'path': '${path}' is under ${mount}, a mount the container has of its own (procfs, sysfs, /dev or tmpfs); the engine would write beneath it, where the container never sees the file`,
    {
      hint:
        mount === '/proc' || mount === '/sys'
          ? 'Write it elsewhere, e.g. under /tmp: the kernel owns what is under /proc and /sys.'
          : `Write it elsewhere (e.g. /tmp), then move it with docker_exec_command (mv /tmp/${base(path)} ${path}).`,
    },
  );
}

function decode(content: string, encoding: string): Buffer {
  // Refuse before decoding what cannot fit anyway (base64 is 4/3 the size).
  if (content.length > (MAX_FILE_BYTES / 3) * 4 + 4) return Buffer.alloc(MAX_FILE_BYTES + 1);
  if (encoding === 'utf-8') return Buffer.from(content, 'utf8');
  const compact = content.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1)
    throw new ToolError('invalid_argument', "invalid argument 'content': not valid base64", {
      hint: "Send standard base64 (A-Z a-z 0-9 + /, '=' padding), or encoding: 'utf-8' for text.",
    });
  return Buffer.from(compact, 'base64');
}
