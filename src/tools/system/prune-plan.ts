/**
 * `docker system prune` as a confirmed call sees it: what each stage would remove now (the same
 * candidates the container, network, volume and image prunes list), named in one question, then
 * exactly those removed, stage by stage. What qualifies since the question — including what the
 * removed containers held — is reported as left. The build cache has no per-entry removal: its stage
 * runs as the engine finds it, and the question says so.
 */
import type Dockerode from 'dockerode';
import type { Preview } from '../../core/tool.ts';
import { type Candidate, pruneCandidates, removePlanned } from '../containers/prune.ts';
import { imageCandidates, imageSizes, removePlannedImages, spaceFreed } from '../images/prune.ts';
import { networkCandidates, removePlannedNetworks, strandedBy, strandingNote } from '../networks/prune.ts';
import { removePlannedVolumes, volumeCandidates, volumeSizes } from '../volumes/prune.ts';

export interface SystemPlan {
  containers?: { id: string; size: number }[];
  networks?: string[];
  volumes?: string[];
  images?: string[];
}

export interface Scope {
  filters: Record<string, string[]>;
  all: boolean;
  /** The volume stage runs (volumes: true). */
  volumes: boolean;
  /** The engine's volume prune takes named volumes too (API before 1.42). */
  namedVolumes: boolean;
  /** The build cache stage runs. */
  buildCache: boolean;
}

/** Every stage's candidates, in one question. */
export async function systemPreview(docker: Dockerode, s: Scope, signal: AbortSignal): Promise<Preview> {
  const { until: _until, ...labelOnly } = s.filters;
  const [containers, networks, volumes, images, all] = await Promise.all([
    pruneCandidates(docker, s.filters, signal),
    networkCandidates(docker, s.filters, signal),
    s.volumes ? volumeCandidates(docker, labelOnly, s.namedVolumes, signal) : Promise.resolve([]),
    imageCandidates(docker, s.all, s.filters, signal),
    docker.listContainers({ all: true, abortSignal: signal }),
  ]);
  // Stopped containers this prune keeps, on a network it removes: they will not start again.
  const pruned = new Set(containers.map((c) => c.id));
  const stranding = strandingNote(
    networks,
    all.filter((c) => !pruned.has(c.Id)),
  );
  const cache = s.buildCache ? ', and the build cache the engine finds unused when it runs' : '';
  const [sizes, imageBytes]: [
    Map<string, number> | undefined,
    Pick<Preview, 'reclaims' | 'reclaimsAtLeast'>,
  ] = await Promise.all([
    volumes.length > 0 ? volumeSizes(docker, signal) : undefined,
    images.length > 0
      ? imageSizes(docker, signal).then((all) =>
          spaceFreed(
            images.map((i) => i.id),
            all,
          ),
        )
      : { reclaims: 0 },
  ]);
  const reclaims =
    sum(containers) + volumes.reduce((n, v) => n + (sizes?.get(v) ?? 0), 0) + (imageBytes.reclaims ?? 0);
  return {
    action: `remove these unused objects${cache}${stranding}`,
    // The build cache stage removes what it finds when it runs: asked even when nothing else is listed.
    ...(s.buildCache && { beyondObjects: true }),
    // An image whose size is unknown, or images sharing layers, make the total a floor.
    ...(imageBytes.reclaims === undefined
      ? { reclaimsAtLeast: 'the size of an image to remove is not known' }
      : imageBytes.reclaimsAtLeast && { reclaimsAtLeast: imageBytes.reclaimsAtLeast }),
    objects: [
      ...containers.map((c) => `container ${c.name}`),
      ...networks.map((n) => `network ${n.name}`),
      ...volumes.map((v) => `volume ${v}`),
      ...images.map(
        (i) => `image ${i.tags.length > 0 ? i.tags.join(', ') : i.id.replace(/^sha256:/, '').slice(0, 12)}`,
      ),
    ],
    reclaims,
    plan: {
      containers: containers.map((c) => ({ id: c.id, size: c.size })),
      networks: networks.map((n) => n.id),
      volumes,
      images: images.map((i) => i.id),
    } satisfies SystemPlan,
  };
}

const sum = (cs: Candidate[]) => cs.reduce((n, c) => n + c.size, 0);

/** Reads a plan back (it came through the client, sealed). */
export function systemPlanOf(confirmed: unknown): SystemPlan | undefined {
  if (!confirmed || typeof confirmed !== 'object' || Array.isArray(confirmed)) return undefined;
  const p = confirmed as Record<string, unknown>;
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  const containers = Array.isArray(p.containers)
    ? p.containers.flatMap((c) =>
        c && typeof c.id === 'string'
          ? [{ id: c.id as string, size: typeof c.size === 'number' ? c.size : 0 }]
          : [],
      )
    : [];
  return {
    containers,
    networks: strings(p.networks),
    volumes: strings(p.volumes),
    images: strings(p.images),
  };
}

/** One planned stage, run: what it removed, what it freed, what qualifies now but was not shown. */
export interface PlannedStage {
  removed: number;
  space_reclaimed?: number;
  untagged?: number;
  items: string[];
  left?: string[];
  stranded?: string[];
}

export async function runPlannedStage(
  docker: Dockerode,
  stage: 'containers' | 'networks' | 'volumes' | 'images',
  plan: SystemPlan,
  s: Scope,
  signal: AbortSignal,
): Promise<PlannedStage> {
  const left = (l: string[]) => (l.length > 0 ? { left: l } : {});
  switch (stage) {
    case 'containers': {
      const d = await removePlanned(docker, plan.containers ?? [], s.filters, signal);
      return { removed: d.removed.length, space_reclaimed: d.reclaimed, items: d.removed, ...left(d.left) };
    }
    case 'networks': {
      // Listed after the container stage: what it removed cannot be stranded.
      const before = await docker.listContainers({ all: true, abortSignal: signal });
      const d = await removePlannedNetworks(docker, plan.networks ?? [], s.filters, signal);
      const stranded = strandedBy(before, new Set(d.removed)).map((c) => c.container);
      return {
        removed: d.removed.length,
        items: d.removed,
        ...left(d.left),
        ...(stranded.length > 0 && { stranded }),
      };
    }
    case 'volumes': {
      const { until: _until, ...labelOnly } = s.filters;
      const d = await removePlannedVolumes(docker, plan.volumes ?? [], labelOnly, s.namedVolumes, signal);
      return { removed: d.removed.length, space_reclaimed: d.reclaimed, items: d.removed, ...left(d.left) };
    }
    case 'images': {
      const d = await removePlannedImages(docker, plan.images ?? [], s.all, s.filters, signal);
      return {
        removed: d.removed.length,
        space_reclaimed: d.reclaimed,
        ...(d.untagged.length > 0 && { untagged: d.untagged.length }),
        items: d.removed,
        ...left(d.left),
      };
    }
  }
}
