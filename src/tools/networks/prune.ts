/**
 * `docker network prune` as a confirmed call sees it: the user-defined networks no container is
 * connected to (the engine's rule: no endpoints), listed before the user is asked, then exactly those
 * removed. Networks left unused since the question are reported as left, not removed.
 */
import type Dockerode from 'dockerode';
import type { Preview } from '../../core/tool.ts';
import { inspectNetwork } from '../../docker/resolve.ts';
import { checkPruneFilters, labelsPass } from '../prune-filters.ts';
import { parseTimePoint } from '../time.ts';
import { PREDEFINED } from './ref.ts';

/** The filters the engine's prune takes; the candidates follow each exactly. */
const ACCEPTED = ['until', 'label', 'label!'];

/** Refuses a filter key this prune does not take, on every path (asked, or sent to the engine's prune). */
export const checkNetworkPruneFilters = (filters: Record<string, string[]> | undefined) =>
  checkPruneFilters(filters, ACCEPTED);

/** Unused user-defined networks a prune would remove now, by name. */
export async function networkCandidates(
  docker: Dockerode,
  filters: Record<string, string[]> | undefined,
  signal: AbortSignal,
): Promise<{ id: string; name: string }[]> {
  checkPruneFilters(filters, ACCEPTED);
  const until = filters?.until?.[0];
  const before = until === undefined ? undefined : parseTimePoint(until, 'filters.until') * 1000;
  const label = filters?.label ?? [];
  const list = await docker.listNetworks({
    ...(label.length > 0 && { filters: JSON.stringify({ label }) }),
    abortSignal: signal,
  });
  const local = list.filter(
    (n) =>
      !PREDEFINED.has(n.Name) &&
      // Config-only networks are templates for others (ConfigFrom); the engine's prune keeps them.
      !(n as { ConfigOnly?: boolean }).ConfigOnly &&
      n.Scope !== 'swarm' &&
      !n.Ingress &&
      labelsPass(n.Labels, filters) &&
      (before === undefined || Date.parse(n.Created ?? '') < before),
  );
  const out: { id: string; name: string }[] = [];
  for (const n of local) {
    // The list leaves Containers empty: only inspect says who is connected.
    const info = await inspectNetwork(docker, n.Id, signal).catch(() => undefined);
    if (info && Object.keys(info.Containers ?? {}).length === 0) out.push({ id: n.Id, name: n.Name });
  }
  return out;
}

export function networkPreview(
  candidates: { id: string; name: string }[],
  containers: readonly Dockerode.ContainerInfo[],
): Preview {
  return {
    action: `remove these unused networks${strandingNote(candidates, containers)}`,
    objects: candidates.map((c) => c.name),
    plan: candidates.map((c) => c.id),
  };
}

/**
 * The containers of `containers` on one of the networks named `gone`, by name. The engine removes a
 * network only stopped containers are on; those then fail to start ("network … not found").
 */
export function strandedBy(
  containers: readonly Dockerode.ContainerInfo[],
  gone: ReadonlySet<string>,
): { container: string; networks: string[] }[] {
  return containers.flatMap((c) => {
    const networks = Object.keys(c.NetworkSettings?.Networks ?? {}).filter((n) => gone.has(n));
    return networks.length > 0
      ? [{ container: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''), networks }]
      : [];
  });
}

/** For the question: which stopped containers removing `candidates` leaves unable to start, if any. */
export function strandingNote(
  candidates: readonly { name: string }[],
  containers: readonly Dockerode.ContainerInfo[],
): string {
  const stranded = strandedBy(containers, new Set(candidates.map((c) => c.name)));
  if (stranded.length === 0) return '';
  const named = stranded
    .slice(0, 10)
    .map((s) => `'${s.container}' (on ${s.networks.map((n) => JSON.stringify(n)).join(', ')})`)
    .join(', ');
  const more = stranded.length > 10 ? `, and ${stranded.length - 10} more` : '';
  return `; these stopped containers are on them and will not start again until reconnected: ${named}${more}`;
}

/** Removes exactly the planned networks still unused; reports those unused since the question as left. */
export async function removePlannedNetworks(
  docker: Dockerode,
  plan: string[],
  filters: Record<string, string[]> | undefined,
  signal: AbortSignal,
) {
  const unused = new Map((await networkCandidates(docker, filters, signal)).map((c) => [c.id, c.name]));
  const removed: string[] = [];
  for (const id of plan) {
    const name = unused.get(id);
    if (name === undefined) continue; // connected again, or gone: not what the user agreed to remove
    try {
      await docker.getNetwork(id).remove({ abortSignal: signal });
      removed.push(name);
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 403 && status !== 409) throw e;
    }
  }
  const planned = new Set(plan);
  const left = (await networkCandidates(docker, filters, signal))
    .filter((c) => !planned.has(c.id))
    .map((c) => c.name);
  return { removed, left };
}
