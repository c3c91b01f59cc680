/** Changing the local image set: tag, remove, prune. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { engineError } from '../../docker/errors.ts';
import { shortId, TAG_EXPECTS } from '../../docker/names.ts';
import { inspectImage, notFoundAmong } from '../../docker/resolve.ts';
import { sameAsAsked } from '../asked.ts';
import { PruneFilters } from '../params.ts';
import {
  checkImagePruneFilters,
  deletedImages,
  enginePrune,
  imageCandidates,
  imageIds,
  imagePreview,
  imageSizes,
  type RemoveEntry,
  removePlannedImages,
  spaceFreed,
} from './prune.ts';
import { ImageRef } from './ref.ts';

export const tagImage = defineTool({
  name: 'docker_tag_image',
  title: 'Tag image',
  description: 'Tag a local image as repository:tag.',
  safety: 'moderate',
  // Moving a tag off another image changes what that name runs: destructive, as removing it would be.
  escalate: { force: 'destructive' },
  idempotent: true,
  input: Type.Object(
    {
      image: ImageRef,
      repository: Type.String({
        minLength: 1,
        maxLength: 255,
        pattern: '^(?!.*[?#@])[!-~]+$',
        description: 'e.g. host:5000/app',
      }),
      tag: Type.Optional(
        Type.String({
          pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$',
          expects: TAG_EXPECTS,
          default: 'latest',
        }),
      ),
      // Undescribed (the list's byte budget): a refusal without it says what it does.
      force: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    id: Type.String(),
    tagged: Type.String({ description: 'repository:tag' }),
    moved_from: Type.Optional(Type.String({ description: 'Image the tag was on before' })),
  }),
  handler: async ({ image, repository, tag = 'latest', force }, { engine: { docker }, signal }) => {
    // A tag inside `repository` would be silently mangled by the engine ("repo:1" + tag → "repo:1:latest").
    const last = repository.slice(repository.lastIndexOf('/') + 1);
    if (last.includes(':'))
      throw new ToolError(
        'invalid_argument',
        `invalid argument 'repository': '${repository}' contains a tag; give it in 'tag'`,
        {
          hint: `Call with repository: '${repository.slice(0, repository.lastIndexOf(':'))}', tag: '${last.slice(last.indexOf(':') + 1)}'.`,
        },
      );
    const source = await inspectImage(docker, image, signal);
    const target = `${repository}:${tag}`;
    const before = await inspectImage(docker, target, signal).catch(() => undefined);
    if (before && before.Id !== source.Id && !force)
      throw new ToolError(
        'conflict',
        `'${target}' is already on image ${shortId(before.Id)}, so it was not moved to ${shortId(source.Id)}`,
        {
          hint: 'Pass force: true to move it (a destructive operation: the old image loses this name), or choose another tag.',
        },
      );
    await docker.getImage(source.Id).tag({ repo: repository, tag, abortSignal: signal });
    return {
      id: shortId(source.Id),
      tagged: target,
      ...(before && before.Id !== source.Id && { moved_from: shortId(before.Id) }),
    };
  },
});

/** What removing `image` does: by ID the image goes; by a tag only that tag, unless it is the last one. */
function removalOf(image: string, tags: string[]): { ref: string; last: boolean; byId: boolean } {
  const byId = /^(sha256:)?[0-9a-f]{6,64}$/.test(image);
  const ref = image.includes('@') || /:[^/]+$/.test(image) ? image : `${image}:latest`;
  return { ref, last: byId || tags.length <= 1 || !tags.includes(ref), byId };
}

/**
 * The engine's refusals of a removal without force, found before the user is asked: a container (of
 * any state) uses the image, or, removed by ID, images are built on it (by tag the engine only untags).
 */
async function refuseUnforced(
  docker: Dockerode,
  image: string,
  id: string,
  byId: boolean,
  signal: AbortSignal,
): Promise<void> {
  const [containers, children] = await Promise.all([
    docker.listContainers({ all: true, abortSignal: signal }),
    byId ? docker.listImages({ all: true, abortSignal: signal }) : Promise.resolve([]),
  ]);
  const users = containers.filter((c) => c.ImageID === id);
  if (users.length > 0) {
    const running = users.filter(
      (c) => c.State === 'running' || c.State === 'paused' || c.State === 'restarting',
    );
    const names = users.slice(0, 5).map((c) => `'${(c.Names?.[0] ?? shortId(c.Id)).replace(/^\//, '')}'`);
    const more = users.length > 5 ? ` and ${users.length - 5} more` : '';
    const counts = [
      running.length && `${running.length} running`,
      users.length - running.length && `${users.length - running.length} stopped`,
    ]
      .filter(Boolean)
      .join(', ');
    throw new ToolError(
      'conflict',
      `image '${image}' is used by ${users.length} container${users.length === 1 ? '' : 's'} (${counts}: ${names.join(', ')}${more}), so it was not removed`,
      {
        hint:
          running.length > 0
            ? 'Remove those containers first with docker_remove_container (force: true stops a running one); force cannot remove an image a running container uses.'
            : 'Remove those containers first with docker_remove_container, or pass force: true to remove the image anyway (the containers stay).',
      },
    );
  }
  const built = children.filter((i) => i.ParentId === id);
  if (built.length > 0)
    throw new ToolError(
      'conflict',
      `image '${image}' has ${built.length} image${built.length === 1 ? '' : 's'} built on it (${built
        .slice(0, 5)
        .map((i) => shortId(i.Id))
        .join(', ')}), so it was not removed`,
      { hint: 'Remove the images built on it first (see docker_list_images with all: true).' },
    );
}

export const removeImage = defineTool({
  name: 'docker_remove_image',
  title: 'Remove image',
  description: 'Untag an image; delete it once no tag is left.',
  safety: 'destructive',
  idempotent: true,
  input: Type.Object(
    {
      image: ImageRef,
      force: Type.Optional(Type.Boolean()),
      noprune: Type.Optional(Type.Boolean({ description: 'Keep untagged parents' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    untagged: Type.Array(Type.String()),
    deleted: Type.Array(Type.String({ description: 'Short IDs' })),
  }),
  preview: async ({ image, force }, { engine: { docker }, signal }) => {
    const info = await inspectImage(docker, image, signal);
    const tags = info.RepoTags ?? [];
    const { ref, last, byId } = removalOf(image, tags);
    // What the engine would refuse is refused now, not after the user said yes to it.
    if (last && !force) await refuseUnforced(docker, image, info.Id, byId, signal);
    const frees = last ? spaceFreed([info.Id], await imageSizes(docker, signal)) : {};
    const what = last
      ? `delete image ${shortId(info.Id)}`
      : `untag '${ref}' (image ${shortId(info.Id)} keeps ${tags.length - 1} other tag(s))`;
    return {
      action: `${what}${force ? '; forced' : ''}`,
      objects: last ? (tags.length > 0 ? tags : [shortId(info.Id)]) : [ref],
      ...frees,
      plan: { image: info.Id, deletes: last },
    };
  },
  handler: async ({ image, force, noprune }, { engine, signal, confirmed }) => {
    const { docker } = engine;
    if (confirmed !== undefined) {
      // The name may have moved to another image, or lost its other tags, since the user was asked.
      const info = await inspectImage(docker, image, signal);
      const what = `image '${image}'`;
      sameAsAsked(confirmed, 'image', info.Id, what, (v) => (typeof v === 'string' ? shortId(v) : 'none'));
      sameAsAsked(confirmed, 'deletes', removalOf(image, info.RepoTags ?? []).last, what, (v) =>
        v ? 'deleting the image' : 'only untagging it',
      );
    }
    if (force && engine.info()?.kind === 'podman')
      await refusePodmanCascade(engine.name, docker, image, signal);
    // The engine's answer also lists the layers it released: only images are reported as deleted.
    const known = await imageIds(docker, signal);
    let res: RemoveEntry[];
    try {
      res = (await docker.getImage(image).remove({ force, noprune, abortSignal: signal })) as RemoveEntry[];
    } catch (e) {
      const err = e as { statusCode?: number; json?: { message?: string } };
      if (err.statusCode === 404) throw await notFoundAmong('image', docker, image, signal);
      // Docker answers 409; Podman 500 'image is in use by a container' (errors.ts maps both to conflict).
      if (engineError(e)?.kind === 'conflict')
        throw await removeConflict(docker, image, err.json?.message ?? '', signal);
      throw e;
    }
    return {
      untagged: res.flatMap((r) => (r.Untagged ? [r.Untagged] : [])),
      deleted: deletedImages(res, known),
    };
  },
});

/**
 * Podman's forced removal of an image also removes every container using it, running ones included
 * (Docker refuses for a running one and leaves a stopped one). Refused when the removal would delete
 * the image (by ID, or its last tag) and a container uses it.
 */
async function refusePodmanCascade(
  engineName: string,
  docker: Dockerode,
  image: string,
  signal: AbortSignal,
): Promise<void> {
  const info = await docker
    .getImage(image)
    .inspect({ abortSignal: signal } as object)
    .catch(() => undefined);
  if (!info) return; // the removal itself answers not_found
  const byTag = (info.RepoTags ?? []).length > 1 && !/^(sha256:)?[0-9a-f]{12,64}$/.test(image);
  if (byTag) return; // only untags
  const users = (await docker.listContainers({ all: true, abortSignal: signal } as object)).filter(
    (c) => c.ImageID === info.Id,
  );
  if (users.length === 0) return;
  const names = users.map((c) => `'${(c.Names?.[0] ?? c.Id).replace(/^\//, '')}'`).join(', ');
  throw new ToolError(
    'conflict',
    `engine '${engineName}' is Podman, whose forced image removal also removes the containers using it (${names}), so it was not removed`,
    { hint: 'Remove those containers first with docker_remove_container, then remove the image.' },
  );
}

/** The engine's 409 says which container holds the image by short ID; name it and say what would work. */
async function removeConflict(
  docker: Dockerode,
  image: string,
  message: string,
  signal: AbortSignal,
): Promise<ToolError> {
  // Docker: '… by (running) container 0123abcd…'; Podman: 'image used by 0123abcd…: image is in use by a container'.
  const holder = /(?:container|image used by) ([0-9a-f]{12,64})/.exec(message)?.[1];
  if (holder) {
    const c = await docker
      .getContainer(holder)
      .inspect({ abortSignal: signal })
      .catch(() => undefined);
    const name = c ? c.Name.replace(/^\//, '') : holder;
    const running = /running container/.test(message) || c?.State.Running === true;
    return new ToolError(
      'conflict',
      `image '${image}' is used by ${running ? 'running' : 'stopped'} container '${name}', so it was not removed`,
      {
        hint: running
          ? `Stop and remove container '${name}' first (docker_remove_container with force: true); force cannot remove an image a running container uses.`
          : `Remove container '${name}' first with docker_remove_container, or pass force: true to remove the image anyway.`,
      },
    );
  }
  if (/referenced in multiple repositories/.test(message))
    return new ToolError('conflict', `image '${image}' has several tags, so removing it by ID was refused`, {
      hint: 'Remove it by name:tag (one tag per call), or pass force: true to remove every tag and the image.',
    });
  if (/dependent child images/.test(message))
    return new ToolError('conflict', `image '${image}' has images built on it, so it was not removed`, {
      hint: 'Remove the images built on it first (see docker_list_images with all: true).',
    });
  return new ToolError('conflict', message || `image '${image}' could not be removed`);
}

export const pruneImages = defineTool({
  name: 'docker_prune_images',
  title: 'Prune images',
  description: 'Remove dangling images.',
  safety: 'destructive',
  idempotent: true,
  input: Type.Object(
    {
      all: Type.Optional(Type.Boolean({ description: 'All unused' })),
      filters: PruneFilters,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    removed: Type.Array(Type.String({ description: 'Short IDs' })),
    untagged: Type.Array(Type.String()),
    count: Type.Integer({ description: 'Images deleted' }),
    space_reclaimed: Type.Integer({ description: 'Bytes' }),
    left: Type.Optional(
      Type.Array(Type.String(), { description: 'Prunable after the user was asked: not removed' }),
    ),
  }),
  narrowHint: 'Narrow with filters (until, label).',
  preview: async ({ all, filters }, { engine: { docker }, signal }) => {
    const candidates = await imageCandidates(docker, all === true, filters, signal);
    const sizes = candidates.length > 0 ? await imageSizes(docker, signal) : new Map();
    return imagePreview(candidates, all === true, sizes);
  },
  handler: async ({ all, filters }, { engine: { docker }, signal, limits, confirmed }) => {
    // Confirmed: exactly the images the user was shown.
    if (Array.isArray(confirmed)) {
      const plan = confirmed.filter((i): i is string => typeof i === 'string');
      const done = await removePlannedImages(docker, plan, all === true, filters, signal);
      return {
        removed: done.removed.slice(0, limits.maxListResults),
        untagged: done.untagged.slice(0, limits.maxListResults),
        count: done.removed.length,
        space_reclaimed: done.reclaimed,
        ...(done.left.length > 0 && { left: done.left.slice(0, limits.maxListResults) }),
      };
    }
    // The engine prunes only dangling images unless told dangling=false; `all` alone says which.
    checkImagePruneFilters(filters);
    const f = { ...filters, ...(all && { dangling: ['false'] }) };
    const { deleted, untagged, space } = await enginePrune(docker, f, signal);
    return {
      removed: deleted.slice(0, limits.maxListResults),
      untagged: untagged.slice(0, limits.maxListResults),
      count: deleted.length,
      space_reclaimed: space,
    };
  },
});
