/**
 * `docker system prune`: the engine's prune endpoints in the Docker CLI's order (containers first, so
 * the networks, volumes and images they held become unused), one stage at a time, with progress
 * between stages and a stop there on cancel.
 */

import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { SHAPE_IN_EXAMPLE } from '../../core/schema-marks.ts';
import { defineTool } from '../../core/tool.ts';
import { apiAtLeast } from '../../docker/engine.ts';
import { shortId } from '../../docker/names.ts';
import { podmanRefusal } from '../../docker/podman.ts';
import { engineRequest } from '../../docker/request.ts';
import { enginePrune } from '../images/prune.ts';
import { strandedBy } from '../networks/prune.ts';
import { NetworkName } from '../networks/ref.ts';
import { engineFilters, MAX_ENTRIES, MAX_VALUE } from '../params.ts';
import { runPlannedStage, systemPlanOf, systemPreview } from './prune-plan.ts';

type Filters = Record<string, string[]>;

interface StageResult {
  removed: number;
  space_reclaimed?: number;
  untagged?: number;
  items?: string[];
  skipped?: string;
  left?: string[];
  stranded?: string[];
}

/** A system prune filter value: a time point, or a label (key or key=value). */
const FilterValue = Type.String({ minLength: 1, maxLength: MAX_VALUE });

/** A stage's result; `item` is how it names what it removed (IDs, or names). */
const stageOf = (item: ReturnType<typeof Type.String>) =>
  Type.Object({
    removed: Type.Integer(),
    space_reclaimed: Type.Optional(Type.Integer({ description: 'Bytes' })),
    untagged: Type.Optional(Type.Integer({ description: 'Tags removed' })),
    items: Type.Optional(Type.Array(item, { description: 'IDs or names removed' })),
    skipped: Type.Optional(Type.String({ description: 'Why this type was not pruned' })),
    left: Type.Optional(Type.Array(item, { description: 'Prunable after the user was asked: not removed' })),
  });
const Stage = stageOf(Type.String());
const NetworkStage = Type.Object({
  ...stageOf(NetworkName()).properties,
  stranded: Type.Optional(
    Type.Array(Type.String(), { description: 'Stopped containers that were on a removed network' }),
  ),
});

interface Stage {
  name: 'containers' | 'networks' | 'volumes' | 'images' | 'build_cache';
  run(docker: Dockerode, filters: Filters, signal: AbortSignal, max: number): Promise<StageResult>;
}

/** POST /build/prune with filters: dockerode's pruneBuilder drops its options, filters included. */
function pruneBuildCache(
  docker: Dockerode,
  filters: Filters,
  signal: AbortSignal,
): Promise<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }> {
  const query = engineFilters(filters);
  return engineRequest(
    docker,
    { path: '/build/prune', method: 'POST', query: query ? { filters: query } : {} },
    signal,
  );
}

const ids = (list: (string | undefined)[] | null | undefined, max: number) =>
  (list ?? []).filter((s): s is string => !!s).slice(0, max);

const STAGES: Stage[] = [
  {
    name: 'containers',
    run: async (docker, filters, signal, max) => {
      const r = await docker.pruneContainers({ filters: engineFilters(filters), abortSignal: signal });
      const removed = r.ContainersDeleted ?? [];
      return {
        removed: removed.length,
        space_reclaimed: r.SpaceReclaimed ?? 0,
        items: ids(removed, max).map(shortId),
      };
    },
  },
  {
    name: 'networks',
    run: async (docker, filters, signal, max) => {
      // Listed after the container stage: what it removed cannot be stranded.
      const before = await docker.listContainers({ all: true, abortSignal: signal });
      const r = await docker.pruneNetworks({ filters: engineFilters(filters), abortSignal: signal });
      const removed = r.NetworksDeleted ?? [];
      const stranded = strandedBy(before, new Set(removed)).map((c) => c.container);
      return {
        removed: removed.length,
        items: ids(removed, max),
        ...(stranded.length > 0 && { stranded: ids(stranded, max) }),
      };
    },
  },
  {
    name: 'volumes',
    run: async (docker, filters, signal, max) => {
      const r = await docker.pruneVolumes({ filters: engineFilters(filters), abortSignal: signal });
      const removed = r.VolumesDeleted ?? [];
      return { removed: removed.length, space_reclaimed: r.SpaceReclaimed ?? 0, items: ids(removed, max) };
    },
  },
  {
    name: 'images',
    run: async (docker, filters, signal, max) => {
      const { deleted, untagged, space } = await enginePrune(docker, filters, signal);
      return {
        removed: deleted.length,
        space_reclaimed: space,
        ...(untagged.length > 0 && { untagged: untagged.length }),
        items: deleted.slice(0, max),
      };
    },
  },
  {
    name: 'build_cache',
    run: async (docker, filters, signal, max) => {
      const r = await pruneBuildCache(docker, filters, signal).catch((e: unknown) => {
        // Engines without BuildKit (or Podman) have no build cache endpoint.
        if ((e as { statusCode?: number }).statusCode === 404) return undefined;
        throw e;
      });
      if (!r) return { removed: 0, skipped: 'this engine has no build cache' };
      const removed = r.CachesDeleted ?? [];
      return {
        removed: removed.length,
        space_reclaimed: r.SpaceReclaimed ?? 0,
        items: ids(removed, max).map(shortId),
      };
    },
  },
];

/** The filters each stage gets: images add `dangling`, and each type only takes what it understands. */
function plan(args: { all?: boolean; volumes?: boolean; filters?: Filters }) {
  const filters = args.filters ?? {};
  const hasLabel = Object.keys(filters).some((k) => k.startsWith('label'));
  return STAGES.map((stage) => {
    let skipped: string | undefined;
    let own = filters;
    if (stage.name === 'volumes' && !args.volumes) skipped = 'pass volumes: true to prune unused volumes';
    if (stage.name === 'images') own = { ...filters, dangling: [String(!args.all)] };
    // The engine accepts a label filter for build cache but ignores it, which would prune all of it.
    if (stage.name === 'build_cache' && hasLabel) skipped = 'build cache has no labels to filter on';
    return { stage, filters: own, skipped };
  });
}

export const systemPrune = defineTool({
  name: 'docker_system_prune',
  title: 'System prune',
  description: 'Remove unused containers, networks, images and build cache.',
  safety: 'destructive',
  idempotent: true,
  input: Type.Object(
    {
      all: Type.Optional(Type.Boolean({ description: 'All unused images' })),
      volumes: Type.Optional(Type.Boolean({ description: 'Also unused volumes' })),
      filters: Type.Optional(
        Type.Object(
          {
            // The listed copy shows the example only; these keys are the whole list (validate.ts names others).
            until: Type.Optional(Type.Array(FilterValue, { maxItems: 1 })),
            label: Type.Optional(Type.Array(FilterValue, { maxItems: MAX_ENTRIES })),
            'label!': Type.Optional(Type.Array(FilterValue, { maxItems: MAX_ENTRIES })),
          },
          {
            ...SHAPE_IN_EXAMPLE,
            additionalProperties: false,
            description: 'e.g. {"until":["24h"],"label":["env=dev"]}',
          },
        ),
      ),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    containers: Stage,
    networks: NetworkStage,
    volumes: Stage,
    images: Stage,
    build_cache: Stage,
    space_reclaimed: Type.Integer({ description: 'Bytes, all types' }),
  }),
  timeoutMs: 300_000,
  narrowHint: 'Narrow with filters (until, label).',
  // Network names are any text their creator chose (the other stages list IDs and restricted names).
  screened: ['networks.items', 'networks.left'],
  preview: async (args, { engine, signal }) => {
    const { steps, scope } = prepare(args, engine);
    return systemPreview(engine.docker, { ...scope, buildCache: !skippedOf(steps, 'build_cache') }, signal);
  },
  handler: async (args, { engine, signal, progress, limits, confirmed }) => {
    const { docker } = engine;
    const { steps, filters, scope } = prepare(args, engine);
    // Confirmed: each stage removes exactly what the user was shown (the build cache as the engine finds it).
    const planned = systemPlanOf(confirmed);
    const out: Record<string, StageResult> = {};
    let total = 0;
    for (const [i, { stage, filters: own, skipped }] of steps.entries()) {
      if (signal.aborted) throw signal.reason;
      if (skipped) {
        out[stage.name] = { removed: 0, skipped };
        continue;
      }
      progress(i, steps.length, `pruning ${stage.name.replace('_', ' ')}`);
      const result =
        planned && stage.name !== 'build_cache'
          ? await runPlannedStage(
              docker,
              stage.name,
              planned,
              { ...scope, filters, buildCache: true },
              signal,
            )
          : await stage.run(docker, own, signal, limits.maxListResults);
      if (result.items) result.items = result.items.slice(0, limits.maxListResults);
      if (result.stranded) result.stranded = result.stranded.slice(0, limits.maxListResults);
      out[stage.name] = result;
      total += result.space_reclaimed ?? 0;
    }
    progress(steps.length, steps.length, 'done');
    return {
      containers: out.containers as StageResult,
      networks: out.networks as StageResult,
      volumes: out.volumes as StageResult,
      images: out.images as StageResult,
      build_cache: out.build_cache as StageResult,
      space_reclaimed: total,
    };
  },
});

type Args = { all?: boolean; volumes?: boolean; filters?: Partial<Filters> };

/**
 * The stages and their filters, after the refusals that must come before anything is removed (and
 * before any question is asked): volumes filtered by age, and what Podman would refuse at a later stage.
 */
function prepare(
  args: Args,
  engine: { name: string; apiVersion?: string; info(): { kind?: string } | undefined },
) {
  const filters: Filters = Object.fromEntries(
    Object.entries(args.filters ?? {}).filter((e): e is [string, string[]] => !!e[1]?.length),
  );
  if (args.volumes && filters.until)
    throw new ToolError(
      'invalid_argument',
      "invalid argument 'filters.until': volumes cannot be filtered by age",
      {
        hint: 'Drop filters.until, or prune volumes separately without it.',
      },
    );
  const steps = plan({ ...args, filters });
  const refusal =
    engine.info()?.kind === 'podman'
      ? steps
          .filter((s) => !s.skipped)
          .map((s) =>
            podmanRefusal(engine.name, {
              path: `/${s.stage.name === 'build_cache' ? 'build' : s.stage.name}/prune`,
              query: { filters: engineFilters(s.filters) },
            }),
          )
          .find(Boolean)
      : undefined;
  if (refusal) throw refusal;
  const scope = {
    filters,
    all: args.all === true,
    volumes: args.volumes === true,
    // Before API 1.42 the engine's volume prune takes named volumes too.
    namedVolumes: !apiAtLeast(engine.apiVersion ?? '0', '1.42'),
  };
  return { steps, filters, scope };
}

const skippedOf = (steps: ReturnType<typeof plan>, name: Stage['name']) =>
  steps.find((s) => s.stage.name === name)?.skipped !== undefined;
