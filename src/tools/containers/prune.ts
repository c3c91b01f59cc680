/**
 * `docker container prune` as a confirmed call sees it: the stopped containers the filters select,
 * listed before the user is asked (the preview), then exactly those removed. Containers stopped since
 * the question are left and reported, never removed unseen.
 */
import type Dockerode from 'dockerode';
import type { Preview } from '../../core/tool.ts';
import { listedName, shortId } from '../../docker/names.ts';
import { checkPruneFilters, labelsPass } from '../prune-filters.ts';
import { parseTimePoint } from '../time.ts';

/** States a prune spares: it removes every container that is not running, paused or restarting. */
const LIVE = ['running', 'paused', 'restarting', 'removing'];
/** The filters the engine's prune takes; the preview applies each exactly as the prune does. */
const ACCEPTED = ['until', 'label', 'label!'];

/** Refuses a filter key this prune does not take, on every path (asked, or sent to the engine's prune). */
export const checkContainerPruneFilters = (filters: Record<string, string[]> | undefined) =>
  checkPruneFilters(filters, ACCEPTED);

export interface Candidate {
  id: string;
  name: string;
  size: number;
}

/** Names of the stopped containers now, by id: a prune's result names what it removed. */
export async function stoppedNames(docker: Dockerode, signal: AbortSignal): Promise<Map<string, string>> {
  const list = await docker.listContainers({ all: true, abortSignal: signal });
  return new Map(list.filter(stopped).map((c) => [c.Id, nameOf(c)]));
}

// By state here, not by the engine's status filter: Podman refuses the filter value 'dead'.
const stopped = (c: { State?: string }) => !LIVE.includes(String(c.State ?? '').toLowerCase());
const nameOf = (c: Dockerode.ContainerInfo) => listedName(c) || shortId(c.Id);

/** The stopped containers a prune with `filters` would remove now. */
export async function pruneCandidates(
  docker: Dockerode,
  filters: Record<string, string[]> | undefined,
  signal: AbortSignal,
): Promise<Candidate[]> {
  checkPruneFilters(filters, ACCEPTED);
  const until = filters?.until?.[0];
  const before = until === undefined ? undefined : parseTimePoint(until, 'filters.until');
  const label = filters?.label ?? [];
  const list = await docker.listContainers({
    all: true,
    size: true,
    ...(label.length > 0 && { filters: JSON.stringify({ label }) }),
    abortSignal: signal,
  });
  return list
    .filter(
      (c) => stopped(c) && (before === undefined || c.Created < before) && labelsPass(c.Labels, filters),
    )
    .map((c) => ({
      id: c.Id,
      name: nameOf(c),
      size: (c as { SizeRw?: number }).SizeRw ?? 0,
    }));
}

/** The question's content: the names, the count and the space, and the ids as the plan. */
export function prunePreview(candidates: Candidate[]): Preview {
  return {
    action: 'remove these stopped containers',
    objects: candidates.map((c) => c.name),
    reclaims: candidates.reduce((n, c) => n + c.size, 0),
    plan: candidates.map((c) => ({ id: c.id, size: c.size })),
  };
}

/** Reads a plan back (it came through the client, sealed): the ids and sizes, nothing else. */
export function planOf(confirmed: unknown): { id: string; size: number }[] | undefined {
  if (!Array.isArray(confirmed)) return undefined;
  return confirmed.flatMap((e) =>
    e && typeof e.id === 'string' ? [{ id: e.id, size: typeof e.size === 'number' ? e.size : 0 }] : [],
  );
}

/**
 * Removes exactly the planned containers that are still stopped, reporting them by name as the
 * question named them; those stopped since the question are reported as left.
 */
export async function removePlanned(
  docker: Dockerode,
  plan: { id: string; size: number }[],
  filters: Record<string, string[]> | undefined,
  signal: AbortSignal,
) {
  const removed: string[] = [];
  let reclaimed = 0;
  const stillStopped = new Map(
    (await pruneCandidates(docker, filters, signal)).map((c) => [c.id, c.name] as const),
  );
  for (const { id, size } of plan) {
    const name = stillStopped.get(id);
    if (name === undefined) continue; // gone already, or running again: not what the user agreed to remove
    try {
      await docker.getContainer(id).remove({ abortSignal: signal });
      removed.push(name);
      reclaimed += size;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }
  const planned = new Set(plan.map((p) => p.id));
  const left = (await pruneCandidates(docker, filters, signal))
    .filter((c) => !planned.has(c.id))
    .map((c) => c.name);
  return { removed, reclaimed, left };
}
