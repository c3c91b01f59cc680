/**
 * `docker image prune` as a confirmed call sees it: the images the prune would remove (dangling ones,
 * or with `all` every image no container uses), listed by tag or ID before the user is asked, then
 * exactly those removed (each tag, then the image). Images that qualify since the question are left.
 * Only `all` says which images: a `dangling` filter would say it a second way, and could contradict it.
 */
import type Dockerode from 'dockerode';
import type { Preview } from '../../core/tool.ts';
import { shortId } from '../../docker/names.ts';
import { engineRequest } from '../../docker/request.ts';
import { engineFilters } from '../params.ts';
import { checkPruneFilters, labelsPass } from '../prune-filters.ts';
import { parseTimePoint } from '../time.ts';

const ACCEPTED = ['until', 'label', 'label!'];
const NONE = '<none>:<none>';

export interface RemoveEntry {
  Untagged?: string;
  Deleted?: string;
}

export interface ImageCandidate {
  id: string;
  tags: string[];
}

/** Refuses filters the candidates cannot follow exactly, `dangling` with a pointer to `all`. */
export const checkImagePruneFilters = (filters: Record<string, string[]> | undefined) =>
  checkPruneFilters(filters, ACCEPTED, {
    dangling:
      'Leave filters.dangling out: pass all: true to remove every image no container uses, or leave all out for dangling images only.',
  });

/** Images a prune would remove now. */
export async function imageCandidates(
  docker: Dockerode,
  all: boolean,
  filters: Record<string, string[]> | undefined,
  signal: AbortSignal,
): Promise<ImageCandidate[]> {
  checkImagePruneFilters(filters);
  const until = filters?.until?.[0];
  const before = until === undefined ? undefined : parseTimePoint(until, 'filters.until');
  const label = filters?.label ?? [];
  const [images, containers] = await Promise.all([
    docker.listImages({
      filters: JSON.stringify({ ...(!all && { dangling: ['true'] }), ...(label.length > 0 && { label }) }),
      abortSignal: signal,
    }),
    docker.listContainers({ all: true, abortSignal: signal }),
  ]);
  const used = new Set(containers.map((c) => c.ImageID));
  return images
    .filter(
      (i) => !used.has(i.Id) && (before === undefined || i.Created < before) && labelsPass(i.Labels, filters),
    )
    .map((i) => ({ id: i.Id, tags: (i.RepoTags ?? []).filter((t) => t !== NONE) }));
}

const nameOf = (c: ImageCandidate) => (c.tags.length > 0 ? c.tags.join(', ') : shortId(c.id));

/** An image's size and the part of it other images share (/system/df), by image ID. */
export type ImageSizes = Map<string, { size: number; shared: number }>;

/** Every image's sizes as `docker system df -v` reads them; empty when the engine does not say. */
export async function imageSizes(docker: Dockerode, signal: AbortSignal): Promise<ImageSizes> {
  const df = await engineRequest<{ Images?: { Id: string; Size?: number; SharedSize?: number }[] }>(
    docker,
    { path: '/system/df', query: { type: 'image' } },
    signal,
  ).catch(() => undefined);
  const sizes: ImageSizes = new Map();
  for (const i of df?.Images ?? [])
    if (typeof i.Size === 'number' && typeof i.SharedSize === 'number' && i.SharedSize >= 0)
      sizes.set(i.Id, { size: i.Size, shared: i.SharedSize });
  return sizes;
}

const SHARED_LAYERS = 'more where the images share layers with each other';

/**
 * What removing `ids` frees: each image's own layers (size less what it shares). A floor when some
 * share layers (with each other they go too, with others they stay); undefined when a size is unknown.
 */
export function spaceFreed(ids: string[], sizes: ImageSizes): Pick<Preview, 'reclaims' | 'reclaimsAtLeast'> {
  let reclaims = 0;
  let shared = false;
  for (const id of ids) {
    const s = sizes.get(id);
    if (!s) return {};
    reclaims += Math.max(0, s.size - s.shared);
    shared ||= s.shared > 0;
  }
  return { reclaims, ...(shared && ids.length > 1 && { reclaimsAtLeast: SHARED_LAYERS }) };
}

export function imagePreview(candidates: ImageCandidate[], all: boolean, sizes: ImageSizes): Preview {
  const what = all ? 'images no container uses' : 'dangling images';
  const ids = candidates.map((c) => c.id);
  return {
    action: `remove these ${what}`,
    objects: candidates.map(nameOf),
    ...spaceFreed(ids, sizes),
    plan: ids,
  };
}

/** Bytes the engine's image layers take on disk (/system/df), so a removal's saving is the difference. */
export async function spaceUsed(docker: Dockerode, signal: AbortSignal): Promise<number> {
  const df = await engineRequest<{ LayersSize?: number }>(
    docker,
    { path: '/system/df', query: { type: 'image' } },
    signal,
  );
  return df.LayersSize ?? 0;
}

/**
 * The images among an engine removal's `Deleted` entries: it also lists each layer it released by its
 * chain ID, which is no image (`known`: every image ID, intermediate ones too, read before the removal).
 */
export const deletedImages = (entries: RemoveEntry[], known: Set<string>): string[] =>
  entries.flatMap((e) => (e.Deleted && known.has(bareId(e.Deleted)) ? [shortId(e.Deleted)] : []));

/** An ID without its digest algorithm: Podman's prune answers bare IDs where its list says sha256:… */
const bareId = (id: string) => id.replace(/^sha256:/, '');

/** Every image ID on the engine, intermediate ones included (bare: see bareId). */
export const imageIds = async (docker: Dockerode, signal: AbortSignal): Promise<Set<string>> =>
  new Set((await docker.listImages({ all: true, abortSignal: signal })).map((i) => bareId(i.Id)));

/**
 * The engine's own prune (an unconfirmed call), reported as images: those it deleted (not the layers
 * its answer also lists), the tags it removed, and the space it says it freed.
 */
export async function enginePrune(
  docker: Dockerode,
  filters: Record<string, string[]>,
  signal: AbortSignal,
): Promise<{ deleted: string[]; untagged: string[]; space: number }> {
  const known = await imageIds(docker, signal);
  const r = (await docker.pruneImages({ filters: engineFilters(filters), abortSignal: signal })) as {
    ImagesDeleted?: RemoveEntry[] | null;
    SpaceReclaimed?: number;
  };
  const entries = r.ImagesDeleted ?? [];
  return {
    deleted: deletedImages(entries, known),
    untagged: entries.flatMap((e) => (e.Untagged ? [e.Untagged] : [])),
    space: r.SpaceReclaimed ?? 0,
  };
}

/**
 * Removes exactly the planned images that still qualify: their tags, then the image itself.
 * `removed`: the planned images that went (not their untagged parents nor released layers, which the
 * engine's answer lists too); `reclaimed`: what the image layers take less than before.
 */
export async function removePlannedImages(
  docker: Dockerode,
  plan: string[],
  all: boolean,
  filters: Record<string, string[]> | undefined,
  signal: AbortSignal,
) {
  const now = new Map((await imageCandidates(docker, all, filters, signal)).map((c) => [c.id, c]));
  const before = now.size > 0 && plan.some((id) => now.has(id)) ? await spaceUsed(docker, signal) : 0;
  const removed: string[] = [];
  const untagged: string[] = [];
  for (const id of plan) {
    const c = now.get(id);
    if (!c) continue; // used again, tagged since, or gone: not what the user agreed to remove
    const entries: RemoveEntry[] = [];
    try {
      // Each tag by name (the last one deletes the image), so no force is needed.
      for (const tag of c.tags)
        entries.push(...((await docker.getImage(tag).remove({ abortSignal: signal })) as RemoveEntry[]));
      if (c.tags.length === 0)
        entries.push(...((await docker.getImage(id).remove({ abortSignal: signal })) as RemoveEntry[]));
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409) throw e;
    }
    untagged.push(...entries.flatMap((e) => (e.Untagged ? [e.Untagged] : [])));
    if (entries.some((e) => e.Deleted === id)) removed.push(shortId(id));
  }
  // Other engine activity between the two readings can only make this smaller, never negative.
  const reclaimed = removed.length > 0 ? Math.max(0, before - (await spaceUsed(docker, signal))) : 0;
  const planned = new Set(plan);
  const left = (await imageCandidates(docker, all, filters, signal))
    .filter((c) => !planned.has(c.id))
    .map(nameOf);
  return { removed, untagged, reclaimed, left };
}
