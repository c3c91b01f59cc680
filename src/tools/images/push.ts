/** Pushing a local image to its registry, with progress and the registry's credentials. */
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { EngineStreamError, readProgressStream } from '../../docker/json-stream.ts';
import { AuthArg, parseReference, registryAuth } from './auth.ts';
import { LayerProgress, registryFailure } from './progress.ts';
import { chooseTag, LONG_TIMEOUT_MS, RemoteImage, TagArg } from './pull.ts';

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

export const pushImage = defineTool({
  name: 'docker_push_image',
  title: 'Push image',
  description: 'Push a local image to its registry, with progress.',
  safety: 'moderate',
  idempotent: true,
  openWorld: true,
  timeoutMs: LONG_TIMEOUT_MS,
  secretArgs: ['auth'],
  input: Type.Object(
    { image: RemoteImage('repo[:tag]'), tag: TagArg, auth: AuthArg },
    { additionalProperties: false },
  ),
  output: Type.Object({
    image: Type.String(),
    digest: Type.String(),
    size: Type.Integer({ description: 'Manifest bytes' }),
    status: Type.String(),
  }),
  handler: async ({ image, tag, auth }, { engine: { docker }, signal, progress, dockerConfigDir }) => {
    const ref = parseReference(image);
    if (ref.digest)
      throw new ToolError('invalid_argument', "invalid argument 'image': a digest cannot be pushed", {
        hint: 'Push by tag: repo:tag.',
      });
    const pushTag = chooseTag(ref, tag, 'latest');
    const reference = `${ref.repository}:${pushTag}`;
    // The engine refuses a push without X-Registry-Auth; '{}' is the anonymous one.
    const credentials = (await registryAuth(ref.registry, auth, signal, dockerConfigDir)) ?? {};

    const layers = new LayerProgress(progress);
    let pushed: { Digest?: string; Size?: number } | undefined;
    try {
      const stream = await docker
        .getImage(ref.repository)
        .push({ tag: pushTag, abortSignal: signal }, undefined, credentials as Dockerode.AuthConfig);
      await readProgressStream(
        stream as Readable,
        (m) => {
          if (layers.take(m)) return;
          if (m.aux?.Digest) pushed = m.aux;
        },
        signal,
      );
    } catch (e) {
      if (
        (e as { statusCode?: number }).statusCode === 404 ||
        // "tag does not exist: …" from engine 20.10, "… does not exist locally …" from others.
        (e instanceof EngineStreamError && /does not exist locally|^tag does not exist\b/i.test(e.message))
      )
        throw new ToolError('not_found', `image '${reference}' not found locally`, {
          hint: `Tag a local image as ${reference} first (docker_tag_image); docker_list_images shows them.`,
        });
      throw registryFailure(e, `push of ${reference}`, ref.registry);
    }
    if (!pushed?.Digest)
      throw new ToolError('internal', `push of ${reference} ended without a digest`, {
        hint: 'The registry may not have stored it; retry, then check the registry.',
      });
    const { moved, skipped, bytes } = layers.counts;
    const status =
      moved === 0
        ? `already in ${ref.registry} (${plural(skipped, 'layer')})`
        : `pushed ${plural(moved, 'layer')} (${(bytes / 1_000_000).toFixed(1)} MB)` +
          (skipped > 0 ? `, ${skipped} already there` : '');
    return { image: reference, digest: pushed.Digest, size: pushed.Size ?? 0, status };
  },
});
