/** Pulling an image from a registry, with progress and the registry's credentials. */
import type { Readable } from 'node:stream';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { readProgressStream } from '../../docker/json-stream.ts';
import { IMAGE_REF_PATTERN, shortId, TAG_EXPECTS } from '../../docker/names.ts';
import { inspectImage } from '../../docker/resolve.ts';
import { engineFilters } from '../params.ts';
import { AuthArg, type ImageReference, parseReference, registryAuth } from './auth.ts';
import { LayerProgress, registryFailure } from './progress.ts';
import { realTags } from './ref.ts';

export const RemoteImage = (description: string) =>
  Type.String({ minLength: 1, maxLength: 512, pattern: IMAGE_REF_PATTERN, description });

export const TagArg = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 128,
    pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$',
    expects: TAG_EXPECTS,
  }),
);

export const LONG_TIMEOUT_MS = 30 * 60_000;

/** The tag to use: `tag` and a tag inside `image` must agree; `fallback` when neither says. */
export function chooseTag(ref: ImageReference, tag: string | undefined, fallback: string): string {
  if (tag && ref.tag && tag !== ref.tag)
    throw new ToolError(
      'invalid_argument',
      `invalid argument 'tag': '${tag}' differs from ':${ref.tag}' in image`,
      {
        hint: 'Give the tag in one place only.',
      },
    );
  if (tag && ref.digest)
    throw new ToolError('invalid_argument', "invalid argument 'tag': image already names a digest", {
      hint: 'Give a tag or a digest, not both.',
    });
  return tag ?? ref.tag ?? fallback;
}

export const pullImage = defineTool({
  name: 'docker_pull_image',
  title: 'Pull image',
  description: 'Pull an image, with progress.',
  safety: 'moderate',
  idempotent: true,
  openWorld: true,
  timeoutMs: LONG_TIMEOUT_MS,
  secretArgs: ['auth'],
  input: Type.Object(
    {
      image: RemoteImage('repo[:tag|@digest]'),
      tag: TagArg,
      all_tags: Type.Optional(Type.Boolean()),
      platform: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 64,
          pattern: '^[a-z0-9_./-]+$',
          description: 'e.g. linux/arm64',
        }),
      ),
      auth: AuthArg,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    image: Type.String(),
    id: Type.Optional(Type.String()),
    tags: Type.Array(Type.String()),
    digest: Type.Optional(Type.String()),
    size: Type.Optional(Type.Integer({ description: 'Bytes' })),
    status: Type.String(),
  }),
  handler: async (
    { image, tag, all_tags, platform, auth },
    { engine: { docker }, signal, progress, dockerConfigDir },
  ) => {
    const ref = parseReference(image);
    if (all_tags && (tag || ref.tag || ref.digest))
      throw new ToolError('invalid_argument', "invalid argument 'all_tags': image names a tag or digest", {
        hint: 'Give the bare repository with all_tags, or drop all_tags.',
      });
    const wanted = all_tags ? undefined : (ref.digest ?? chooseTag(ref, tag, 'latest'));
    const reference = ref.digest
      ? `${ref.repository}@${ref.digest}`
      : wanted
        ? `${ref.repository}:${wanted}`
        : ref.repository;
    const credentials = await registryAuth(ref.registry, auth, signal, dockerConfigDir);

    const layers = new LayerProgress(progress);
    let digest: string | undefined;
    const statuses: string[] = [];
    try {
      const stream = await docker.createImage(credentials, {
        fromImage: ref.repository,
        ...(wanted && { tag: wanted }),
        ...(platform && { platform }),
        abortSignal: signal,
      });
      await readProgressStream(
        stream as Readable,
        (m) => {
          if (layers.take(m) || !m.status) return;
          if (m.status.startsWith('Digest: ')) digest = m.status.slice('Digest: '.length);
          else if (m.status.startsWith('Status: ')) statuses.push(m.status.slice('Status: '.length));
        },
        signal,
      );
    } catch (e) {
      throw registryFailure(e, `pull of ${reference}`, ref.registry);
    }

    const status = statuses.at(-1) ?? `Pulled ${reference}`;
    if (!wanted) {
      // All tags: name them; one id would be arbitrary.
      const images = await docker.listImages({
        filters: engineFilters({ reference: [ref.repository] }),
        abortSignal: signal,
      });
      return {
        image: reference,
        tags: images.flatMap((i) => realTags(i.RepoTags)).sort(),
        status: statuses.length > 1 ? `${statuses.length} tags: ${status}` : status,
      };
    }
    const info = await inspectImage(docker, reference, signal);
    const repoDigest = (info.RepoDigests ?? []).find((d) => d.startsWith(`${ref.repository}@`));
    const pulledDigest = digest ?? repoDigest?.split('@')[1];
    return {
      image: reference,
      id: shortId(info.Id),
      tags: realTags(info.RepoTags),
      ...(pulledDigest && { digest: pulledDigest }),
      size: info.Size,
      status,
    };
  },
});
