/**
 * Moving images as tar files on the server's host (docker save / docker load), for air-gapped
 * transfer. A save writes a temp file beside the target and renames it at the end, so a failure or a
 * cancel never leaves a half-written tar under the asked name.
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, link, lstat, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { engineSaid, firstLine, statusOf } from '../../docker/errors.ts';
import { hostFile, openHostDir, openHostFile } from '../../docker/host-files.ts';
import { IMAGE_REF_PATTERN, shortId } from '../../docker/names.ts';
import { inspectImage } from '../../docker/resolve.ts';
import { consume, engineStream, LineSplitter } from '../../docker/streams.ts';
import { type BeforeLoad, loadPreview, type Moved, tagsMoved, tagsMovedBy } from './archive-tags.ts';

/** Saving or loading gigabytes takes a while; the configured default timeout is for quick calls. */
const LONG_TIMEOUT_MS = 30 * 60_000;

/** ImageRef without its description, which the union would otherwise list twice. */
const Ref = Type.String({ minLength: 1, maxLength: 512, pattern: IMAGE_REF_PATTERN });

const HostPath = Type.String({ minLength: 1, maxLength: 4096, description: "Absolute, on server's host" });

const bad = (field: string, why: string, hint: string) =>
  new ToolError('invalid_argument', `invalid argument '${field}': ${why}`, { hint });

/** An absolute, normalised path on the server's host; relative paths and NUL bytes are refused. */
export function hostFilePath(p: string, field: string): string {
  if (p.includes('\0')) throw bad(field, 'it contains a NUL byte', 'Remove the NUL byte.');
  if (!isAbsolute(p))
    throw bad(
      field,
      `'${p}' is not an absolute path`,
      "Give the full path on the server's host, e.g. /tmp/images.tar.",
    );
  if (p.endsWith('/'))
    throw bad(field, `'${p}' names a directory`, 'Give a file name, e.g. /tmp/images.tar.');
  return resolve(p);
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Counts bytes passing through and reports them, throttled by the pipeline. */
function counter(onBytes: (n: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      onBytes(n);
      done(null, chunk);
    },
  });
}

const mib = (n: number) => `${(n / 1_048_576).toFixed(1)} MiB`;

/**
 * A refusal about the save's target. Over stdio it names the path the server resolved too, when that
 * differs; a remote caller is told only the path they gave, not where a symlink on the server leads.
 */
function targetError(
  kind: 'not_found' | 'policy_denied' | 'conflict',
  what: (path: string) => string,
  at: { asked: string; target: string },
  hint: string,
): ToolError {
  const remote = what(at.asked);
  const message = at.target === at.asked ? remote : `${remote} (the path leads to '${at.target}')`;
  return new ToolError(kind, message, { hint, remote: { message: remote, hint } });
}

const EXISTS_HINT = 'Pass overwrite: true to replace it (a destructive operation), or choose another path.';

/** The directory must exist and be writable; an existing target needs overwrite (and must be a file). */
async function checkTarget(at: { asked: string; target: string }, overwrite: boolean): Promise<void> {
  const dir = dirname(at.target);
  const dirAt = { asked: dirname(at.asked), target: dir };
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory())
    throw targetError(
      'not_found',
      (d) => `directory '${d}' does not exist on the server's host`,
      dirAt,
      'Create it first, or save into an existing directory.',
    );
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw targetError(
      'policy_denied',
      (d) => `directory '${d}' is not writable by the server`,
      dirAt,
      'Save into a directory the server may write to.',
    );
  }
  const existing = await lstat(at.target).catch(() => undefined);
  if (existing?.isDirectory())
    throw targetError(
      'conflict',
      (p) => `'${p}' is a directory`,
      at,
      'Give a file path inside it, e.g. .../images.tar.',
    );
  if (existing && !overwrite) throw targetError('conflict', (p) => `'${p}' already exists`, at, EXISTS_HINT);
}

/** Puts the finished temp file at `target`; without overwrite a file that appeared meanwhile still wins. */
/** The temp file moved to `to` (the target inside the open directory); `at` names it in errors. */
async function publish(
  temp: string,
  to: string,
  at: { asked: string; target: string },
  overwrite: boolean,
): Promise<void> {
  if (overwrite) return rename(temp, to);
  try {
    await link(temp, to); // fails if target exists, unlike rename
  } catch (e) {
    if (errno(e) === 'EEXIST') throw targetError('conflict', (p) => `'${p}' already exists`, at, EXISTS_HINT);
    // Filesystems without hard links: the check in checkTarget has to do.
    if (['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errno(e) ?? '')) return rename(temp, to);
    throw e;
  }
}

export const saveImage = defineTool({
  name: 'docker_save_image',
  title: 'Save images to tar',
  description: "Save images to a tar file on the server's host.",
  safety: 'moderate',
  // Replacing an existing host file cannot be undone: destructive.
  escalate: { overwrite: 'destructive' },
  idempotent: true,
  timeoutMs: LONG_TIMEOUT_MS,
  hostPaths: ['path'],
  input: Type.Object(
    {
      images: Type.Union([Ref, Type.Array(Ref, { minItems: 1, maxItems: 100 })], {
        description: 'Image ref, or list',
      }),
      path: HostPath,
      overwrite: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    path: Type.String(),
    bytes: Type.Integer(),
    images: Type.Array(Type.String()),
  }),
  handler: async (args, { engine, signal, progress }) => {
    const { docker } = engine;
    const images = [...new Set([args.images].flat())];
    const asked = hostFilePath(args.path, 'path');
    const target = await hostFile(engine, asked, 'path', 'write', signal);
    const at = { asked, target };
    const overwrite = args.overwrite ?? false;
    await checkTarget(at, overwrite);
    // Resolve every reference first: the engine would fail mid-stream on a missing one.
    for (const ref of images) await inspectImage(docker, ref, signal);

    // The directory is opened once and written through: swapping it for a symlink now changes nothing.
    const dir = await openHostDir(dirname(target), (at) =>
      hostFile(engine, join(at, basename(target)), 'path', 'write', signal),
    );
    const temp = dir.at(`.${basename(target)}.${randomBytes(4).toString('hex')}.partial`);
    let bytes = 0;
    try {
      const tar = await engineStream(docker, '/images/get', { names: images }, signal);
      await pipeline(
        tar,
        counter((n) => {
          bytes = n;
          progress(n, undefined, `${mib(n)} written`);
        }),
        // Owner-only, like docker save -o: layers may hold secrets.
        createWriteStream(temp, { flags: 'wx', mode: 0o600 }),
        { signal },
      );
      await publish(temp, dir.at(basename(target)), at, overwrite);
    } finally {
      await rm(temp, { force: true });
      await dir.close();
    }
    // The path as the caller gave it: where a symlink on the server leads is not theirs to learn.
    return { path: asked, bytes, images };
  },
});

/** "Loaded image: repo:tag" or, for an image saved by ID, "Loaded image ID: sha256:…". */
const LOADED = /^Loaded image(?: ID)?: (.+)$/;
/** Docker's word for a tag the load moved (an archive whose tags could not be read first). */
const RENAMED = /^The image (.+) already exists, renaming the old one with ID (\S+) to empty string$/;
/** Engine errors that mean the file is not a `docker save` archive. */
// Podman: "payload does not match any of the supported image formats".
const NOT_AN_ARCHIVE =
  /tar|repositories|manifest\.json|unexpected EOF|invalid character|unmarshal|supported image formats/i;

export const loadImage = defineTool({
  name: 'docker_load_image',
  title: 'Load images from tar',
  description: "Load images from a tar file on the server's host.",
  safety: 'moderate',
  // A tag the archive sets moves off the image it is on, as docker_tag_image's force does: destructive.
  escalate: { force: 'destructive' },
  idempotent: true,
  timeoutMs: LONG_TIMEOUT_MS,
  hostPaths: ['path'],
  input: Type.Object(
    {
      path: HostPath,
      // Undescribed (the list's byte budget): a refusal without it says what it does.
      force: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    path: Type.String(),
    bytes: Type.Integer(),
    images: Type.Array(Type.String({ description: 'repo:tag, or short ID' })),
    retagged: Type.Optional(
      Type.Array(Type.Object({ tag: Type.String(), was: Type.String({ description: 'Image it was on' }) })),
    ),
  }),
  // The question names the tags the load moves; once accepted, it moves no other (ctx.confirmed).
  preview: async (args, { engine, signal }) => {
    const opened = await openArchive(engine, args.path, signal);
    try {
      return await loadPreview(engine.docker, opened.handle, opened.path, signal);
    } finally {
      await opened.handle.close();
    }
  },
  handler: async (args, { engine, signal, progress, confirmed }) => {
    const { docker } = engine;
    const opened = await openArchive(engine, args.path, signal);
    const { path, size } = opened;
    let checked: BeforeLoad;
    try {
      checked = await tagsMoved(
        docker,
        opened.handle,
        path,
        { force: args.force ?? false, confirmed },
        signal,
      );
    } catch (e) {
      await opened.handle.close();
      throw e;
    }
    const file = opened.handle.createReadStream({ start: 0 });
    const body = counter((n) => progress(n, size, `${mib(n)} of ${mib(size)} read`));
    file.on('error', (e) => body.destroy(e)); // pipe() alone would not pass a read error on
    file.pipe(body);
    const images: string[] = [];
    const renamed: Moved[] = [];
    let failure: string | undefined;
    const lines = new LineSplitter((line) => {
      if (!line.trim()) return;
      let msg: { stream?: string; error?: string; errorDetail?: { message?: string } };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.error || msg.errorDetail) failure ??= msg.errorDetail?.message ?? msg.error;
      const said = (msg.stream ?? '').trim();
      const loaded = LOADED.exec(said)?.[1];
      if (loaded) images.push(loaded.startsWith('sha256:') ? shortId(loaded) : loaded);
      const [, tag, was] = RENAMED.exec(said) ?? [];
      if (tag && was) renamed.push({ tag, was: shortId(was) });
    });
    try {
      const res = (await docker.loadImage(body, { quiet: true, abortSignal: signal }).catch((e: unknown) => {
        // Docker reports a bad archive in the stream; Podman answers HTTP 500 before any stream (its
        // message is only in the error's text: a failed stream request has no parsed body).
        const said = engineSaid(e) || firstLine(String((e as Error).message ?? ''));
        if (statusOf(e) === 500 && /supported image formats/i.test(said)) throw loadFailure(path, said);
        throw e;
      })) as Readable;
      await consume(
        res,
        (chunk) => {
          lines.push(chunk);
          return undefined;
        },
        signal,
      );
      lines.flush();
    } finally {
      file.destroy();
      body.destroy();
    }
    if (failure !== undefined) throw loadFailure(path, failure);
    if (images.length === 0)
      throw new ToolError('invalid_argument', `'${path}' held no image the engine could load`, {
        hint: 'Give a tar made by docker save or docker_save_image.',
      });
    // What moved, from the engine after the load: not what the archive was read to say.
    const retagged = await tagsMovedBy(docker, checked, renamed, signal);
    return { path, bytes: size, images, ...(retagged.length > 0 && { retagged }) };
  },
});

/** The archive to load, open: not_found when there is no such file. */
async function openArchive(engine: Parameters<typeof openHostFile>[0], raw: string, signal: AbortSignal) {
  const opened = await openHostFile(engine, hostFilePath(raw, 'path'), 'path', signal);
  if (!opened)
    throw new ToolError('not_found', `file '${raw}' does not exist on the server's host`, {
      hint: 'Check the path; it is read on the host the server runs on.',
    });
  return opened;
}

/** The engine's own message names its temp directories; say what it means instead. */
function loadFailure(path: string, engineMessage: string): ToolError {
  if (NOT_AN_ARCHIVE.test(engineMessage))
    return new ToolError('invalid_argument', `'${path}' is not an image archive`, {
      hint: 'Give a tar made by docker save or docker_save_image (not a filesystem export or a plain tar).',
    });
  const clean = engineMessage.replace(/(?:\/[\w.@+-]+)+/g, '<path>');
  return new ToolError('internal', `the engine could not load '${path}': ${clean}`, {
    hint: 'Check that the file is complete and was made by docker save.',
  });
}
