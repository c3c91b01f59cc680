/** Image fragments shared by the image tools: the reference parameter and compact rows. */
import Type from 'typebox';
import { shortId } from '../../docker/names.ts';

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
