/**
 * `docker volume prune` as a confirmed call sees it: the unused volumes the prune would remove (only
 * anonymous ones unless `all`, as Engine API 1.42+ does), listed with their size before the user is
 * asked, then exactly those removed. Volumes left unused since the question are reported, not removed.
 */
import type Dockerode from 'dockerode';
import type { Preview } from '../../core/tool.ts';
import { engineRequest } from '../../docker/request.ts';
import { checkPruneFilters, labelsPass } from '../prune-filters.ts';

/** The label Docker puts on the volumes it made for a container (what a prune without all removes). */
const ANONYMOUS = 'com.docker.volume.anonymous';
/** The filters the engine's prune takes (`all` is read before these); the candidates follow each exactly. */
const ACCEPTED = ['label', 'label!'];

/** Refuses a filter key this prune does not take, on every path (asked, or sent to the engine's prune). */
export const checkVolumePruneFilters = (filters: Record<string, string[]> | undefined) =>
  checkPruneFilters(filters, ACCEPTED);

/** Unused volumes a prune would remove now. */
export async function volumeCandidates(
  docker: Dockerode,
  filters: Record<string, string[]>,
  named: boolean,
  signal: AbortSignal,
): Promise<string[]> {
  checkPruneFilters(filters, ACCEPTED);
  const label = [...(filters.label ?? []), ...(named ? [] : [ANONYMOUS])];
  const res = await docker.listVolumes({
    filters: JSON.stringify({ dangling: ['true'], ...(label.length > 0 && { label }) }),
    abortSignal: signal,
  });
  return (res.Volumes ?? []).filter((v) => labelsPass(v.Labels, filters)).map((v) => v.Name);
}

/** Sizes from /system/df (the engine computes them there only); none when it cannot say. */
export async function volumeSizes(
  docker: Dockerode,
  signal: AbortSignal,
): Promise<Map<string, number> | undefined> {
  try {
    const df = await engineRequest<{ Volumes?: { Name: string; UsageData?: { Size?: number } }[] }>(
      docker,
      { path: '/system/df', query: { type: 'volume' } },
      signal,
    );
    return new Map((df.Volumes ?? []).map((v) => [v.Name, Math.max(0, v.UsageData?.Size ?? 0)]));
  } catch {
    return undefined;
  }
}

export async function volumePreview(
  docker: Dockerode,
  filters: Record<string, string[]>,
  named: boolean,
  signal: AbortSignal,
): Promise<Preview> {
  const names = await volumeCandidates(docker, filters, named, signal);
  const what = named ? 'unused volumes (named and anonymous)' : 'unused anonymous volumes';
  const size = names.length > 0 ? await volumeSizes(docker, signal) : undefined;
  return {
    action: `remove these ${what} and the data in them`,
    objects: names,
    ...(size && { reclaims: names.reduce((n, v) => n + (size.get(v) ?? 0), 0) }),
    plan: names,
  };
}

/** Removes exactly the planned volumes still unused; reports volumes unused since the question as left. */
export async function removePlannedVolumes(
  docker: Dockerode,
  plan: string[],
  filters: Record<string, string[]>,
  named: boolean,
  signal: AbortSignal,
) {
  const size = await volumeSizes(docker, signal);
  const unused = new Set(await volumeCandidates(docker, filters, named, signal));
  const removed: string[] = [];
  for (const name of plan) {
    if (!unused.has(name)) continue; // in use again, or gone: not what the user agreed to remove
    try {
      await docker.getVolume(name).remove({ abortSignal: signal });
      removed.push(name);
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409) throw e;
    }
  }
  const planned = new Set(plan);
  const left = (await volumeCandidates(docker, filters, named, signal)).filter((n) => !planned.has(n));
  return { removed, reclaimed: removed.reduce((n, v) => n + (size?.get(v) ?? 0), 0), left };
}
