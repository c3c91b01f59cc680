/**
 * `docker image prune` as a confirmed call sees it: the images the prune would remove (dangling ones,
 * or with `all` every image no container uses), listed by tag or ID before the user is asked, then
 * exactly those removed (each tag, then the image). Images that qualify since the question are left.
 * Only `all` says which images: a `dangling` filter would say it a second way, and could contradict it.
 */
import type Dockerode from 'dockerode';
import type { Preview } from '../../core/tool.ts';
import { shortId } from '../../docker/names.ts';
import { checkPruneFilters, labelsPass } from '../prune-filters.ts';
import { parseTimePoint } from '../time.ts';

const ACCEPTED = ['until', 'label', 'label!'];
const NONE = '<none>:<none>';

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

export function imagePreview(candidates: ImageCandidate[], all: boolean): Preview {
  const what = all ? 'images no container uses' : 'dangling images';
  return {
    action: `remove these ${what}`,
    objects: candidates.map(nameOf),
    plan: candidates.map((c) => c.id),
  };
}

interface RemoveEntry {
  Untagged?: string;
  Deleted?: string;
}

/** Removes exactly the planned images that still qualify: their tags, then the image itself. */
export async function removePlannedImages(
  docker: Dockerode,
  plan: string[],
  all: boolean,
  filters: Record<string, string[]> | undefined,
  signal: AbortSignal,
) {
  const now = new Map((await imageCandidates(docker, all, filters, signal)).map((c) => [c.id, c]));
  const deleted: string[] = [];
  const untagged: string[] = [];
  const note = (entries: RemoveEntry[]) => {
    for (const e of entries) {
      if (e.Deleted) deleted.push(shortId(e.Deleted));
      if (e.Untagged) untagged.push(e.Untagged);
    }
  };
  for (const id of plan) {
    const c = now.get(id);
    if (!c) continue; // used again, tagged since, or gone: not what the user agreed to remove
    try {
      // Each tag by name (the last one deletes the image), so no force is needed.
      for (const tag of c.tags)
        note((await docker.getImage(tag).remove({ abortSignal: signal })) as RemoveEntry[]);
      if (c.tags.length === 0)
        note((await docker.getImage(id).remove({ abortSignal: signal })) as RemoveEntry[]);
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409) throw e;
    }
  }
  const planned = new Set(plan);
  const left = (await imageCandidates(docker, all, filters, signal))
    .filter((c) => !planned.has(c.id))
    .map(nameOf);
  return { deleted, untagged, left };
}
