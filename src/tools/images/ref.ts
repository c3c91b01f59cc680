/** Image fragments shared by the image tools: the reference parameter and compact rows. */
import Type from 'typebox';
import { IMAGE_REF_PATTERN, shortId } from '../../docker/names.ts';

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
