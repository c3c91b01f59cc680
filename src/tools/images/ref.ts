/** Image fragments shared by the image tools: the reference parameter, compact rows, resolving a reference. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { shortId } from '../params.ts';

/**
 * The reference goes into the request path as it is, so only what a reference can hold: printable
 * ASCII (a NUL, a lone surrogate or any non-ASCII letter made the HTTP client throw), no '?', '#',
 * '%' or backslash, no leading '/', no '..' and no component starting with '.' (the HTTP client would
 * resolve '../containers/x' into another endpoint, and '.' or 'a/./b' into a shorter path; no real
 * reference has a component starting with '.').
 */
export const IMAGE_REF_PATTERN = '^(?!/)(?!\\.)(?!.*/\\.)(?!.*\\.\\.)(?!.*[?#%\\\\])[!-~]+$';

export const ImageRef = Type.String({
  minLength: 1,
  expects: 'an image reference such as repo:tag, repo@sha256:… or an image ID',
  maxLength: 512,
  pattern: IMAGE_REF_PATTERN,
});

export const ImageRow = Type.Object({
  id: Type.String(),
  tags: Type.Array(Type.String()),
  size: Type.Integer({ description: 'Bytes' }),
  created: Type.String(),
});

/** Engine times are unix seconds (lists, history) or RFC 3339 (inspect); rows show ISO, whole seconds. */
export const isoTime = (t: number | string): string => {
  const ms = typeof t === 'number' ? t * 1000 : Date.parse(t);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
};

/** A dangling image is listed with '<none>:<none>'; that is no tag at all. */
export const realTags = (tags: readonly string[] | null | undefined): string[] =>
  (tags ?? []).filter((t) => t !== '<none>:<none>' && t !== '<none>@<none>');

export function imageRow(i: { Id: string; RepoTags?: string[] | null; Size: number; Created: number }) {
  return { id: shortId(i.Id), tags: realTags(i.RepoTags), size: i.Size, created: isoTime(i.Created) };
}

/**
 * A plain JSON engine request with the call's signal. Dockerode's image inspect and history take no
 * signal, so a cancelled call would leave them running.
 */
export function engineRequest<T>(
  docker: Dockerode,
  req: { path: string; method?: string; query?: Record<string, unknown> },
  signal: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    docker.modem.dial(
      {
        path: `${req.path}?`,
        method: req.method ?? 'GET',
        options: { _query: req.query ?? {} },
        abortSignal: signal,
        statusCodes: {
          200: true,
          201: true,
          400: 'bad parameter',
          404: 'no such image',
          409: 'conflict',
          500: 'server error',
        },
      },
      (err, data) => (err ? reject(err) : resolve(data as T)),
    ),
  );
}

const isNoSuchImage = (e: unknown) =>
  (e as { statusCode?: number }).statusCode === 404 &&
  /no such image|not found|does not exist/i.test(
    String((e as { json?: { message?: string } }).json?.message),
  );

/** The engine's image document; an unknown reference is a not_found naming close tags. */
export async function inspectImage(
  docker: Dockerode,
  ref: string,
  signal: AbortSignal,
): Promise<Dockerode.ImageInspectInfo> {
  try {
    return await engineRequest<Dockerode.ImageInspectInfo>(docker, { path: `/images/${ref}/json` }, signal);
  } catch (e) {
    if (isNoSuchImage(e)) throw await imageNotFound(docker, ref, signal);
    throw e;
  }
}

/** "image 'x' not found", with up to five local tags that look like what was meant. */
export async function imageNotFound(docker: Dockerode, ref: string, signal: AbortSignal): Promise<ToolError> {
  let tags: string[] = [];
  try {
    tags = (await docker.listImages({ abortSignal: signal })).flatMap((i) => realTags(i.RepoTags));
  } catch {
    // Suggestions are a courtesy; the error stands without them.
  }
  // Compare repository names without registry host and tag: 'nginx' should find 'nginx:1.25'.
  const repoOf = (r: string) =>
    r
      .replace(/:[^/:]*$/, '')
      .replace(/^[^/]*[.:][^/]*\//, '')
      .toLowerCase();
  const needle = repoOf(ref);
  const close = tags
    .filter((t) => {
      const repo = repoOf(t);
      return needle.length > 0 && (repo.includes(needle) || needle.includes(repo));
    })
    .slice(0, 5);
  const hint = close.length
    ? `Did you mean ${close.map((t) => `'${t}'`).join(', ')}? List images with docker_list_images.`
    : 'List local images with docker_list_images; pull it with docker_pull_image.';
  return new ToolError('not_found', `image '${ref}' not found`, { hint });
}
