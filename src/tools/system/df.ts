/** Disk use per object type, counted the way `docker system df` counts it. */
import Type from 'typebox';
import type { Limits } from '../../core/limits.ts';
import { defineTool } from '../../core/tool.ts';
import { shortId } from '../../docker/names.ts';
import { isoTime, realTags } from '../images/ref.ts';
import { Full } from '../params.ts';
import {
  type DiskUsageBuildCache,
  type DiskUsageContainer,
  type DiskUsageImage,
  type DiskUsageVolume,
  system,
} from './engine-api.ts';

const Totals = Type.Object({
  count: Type.Integer(),
  active: Type.Integer({ description: 'In use' }),
  size: Type.Integer({ description: 'Bytes' }),
  reclaimable: Type.Integer({ description: 'Bytes a prune could free' }),
});
type Totals = { count: number; active: number; size: number; reclaimable: number };

const Row = Type.Record(Type.String(), Type.Unknown());

const sum = <T>(items: T[], f: (t: T) => number) => items.reduce((n, t) => n + f(t), 0);
const RUNNING = new Set(['running', 'paused', 'restarting']);
/** The engine says -1 when it did not compute a size. */
const known = (n: number | undefined) => (n !== undefined && n >= 0 ? n : 0);

/** Images share layers: the total is the engine's layer total, and what an in-use image holds alone is not reclaimable. */
function imageTotals(images: DiskUsageImage[], layersSize: number): Totals {
  const active = images.filter((i) => i.Containers > 0);
  const held = sum(active, (i) => known(i.Size) - known(i.SharedSize));
  return {
    count: images.length,
    active: active.length,
    size: layersSize,
    reclaimable: Math.max(layersSize - held, 0),
  };
}

function containerTotals(containers: DiskUsageContainer[]): Totals {
  const active = containers.filter((c) => RUNNING.has(c.State));
  const size = sum(containers, (c) => known(c.SizeRw));
  return {
    count: containers.length,
    active: active.length,
    size,
    reclaimable: size - sum(active, (c) => known(c.SizeRw)),
  };
}

function volumeTotals(volumes: DiskUsageVolume[]): Totals {
  const size = (v: DiskUsageVolume) => known(v.UsageData?.Size);
  const inUse = (v: DiskUsageVolume) => (v.UsageData?.RefCount ?? 0) > 0;
  return {
    count: volumes.length,
    active: volumes.filter(inUse).length,
    size: sum(volumes, size),
    reclaimable: sum(
      volumes.filter((v) => !inUse(v)),
      size,
    ),
  };
}

function buildCacheTotals(records: DiskUsageBuildCache[]): Totals {
  const own = records.filter((r) => !r.Shared);
  const size = sum(own, (r) => r.Size);
  return {
    count: records.length,
    active: records.filter((r) => r.InUse).length,
    size,
    reclaimable:
      size -
      sum(
        own.filter((r) => r.InUse),
        (r) => r.Size,
      ),
  };
}

const imageRow = (i: DiskUsageImage) => ({
  id: shortId(i.Id),
  tags: realTags(i.RepoTags),
  size: known(i.Size),
  shared: known(i.SharedSize),
  containers: Math.max(i.Containers, 0),
  created: isoTime(i.Created),
});

const containerRow = (c: DiskUsageContainer) => ({
  id: shortId(c.Id),
  name: (c.Names?.[0] ?? '').replace(/^\//, ''),
  image: c.Image.startsWith('sha256:') ? shortId(c.Image) : c.Image,
  state: c.State,
  size: known(c.SizeRw),
  created: isoTime(c.Created),
});

const volumeRow = (v: DiskUsageVolume) => ({
  name: v.Name,
  driver: v.Driver,
  links: known(v.UsageData?.RefCount),
  size: known(v.UsageData?.Size),
});

const buildCacheRow = (r: DiskUsageBuildCache) => ({
  id: shortId(r.ID),
  type: r.Type ?? '',
  size: r.Size,
  in_use: r.InUse,
  shared: r.Shared,
  ...(r.LastUsedAt && { last_used: isoTime(r.LastUsedAt) }),
});

/** The engine document with every list present (engines answer null for an empty one). */
interface DiskUsage {
  LayersSize: number;
  Images: DiskUsageImage[];
  Containers: DiskUsageContainer[];
  Volumes: DiskUsageVolume[];
  BuildCache: DiskUsageBuildCache[];
}

function items(df: DiskUsage, full: boolean, limits: Limits) {
  const cap = <T>(list: T[], row: (t: T) => Record<string, unknown>) =>
    list.slice(0, limits.maxListResults).map((t) => (full ? (t as Record<string, unknown>) : row(t)));
  return {
    images: cap(df.Images, imageRow),
    containers: cap(df.Containers, containerRow),
    volumes: cap(df.Volumes, volumeRow),
    build_cache: cap(df.BuildCache, buildCacheRow),
  };
}

export const systemDf = defineTool({
  name: 'docker_system_df',
  title: 'Disk usage',
  description: 'Disk use and reclaimable bytes per object type.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      verbose: Type.Optional(Type.Boolean({ description: 'One row per item' })),
      full: Full,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    images: Totals,
    containers: Totals,
    volumes: Totals,
    build_cache: Totals,
    size: Type.Integer({ description: 'Bytes, all types' }),
    reclaimable: Type.Integer({ description: 'Bytes, all types' }),
    items: Type.Optional(
      Type.Object({
        images: Type.Array(Row),
        containers: Type.Array(Row),
        volumes: Type.Array(Row),
        build_cache: Type.Array(Row),
      }),
    ),
  }),
  narrowHint: 'Leave out verbose/full for the totals only.',
  // Full items are the engine's rows: mount sources and volume mountpoints are engine-host paths.
  hostDetails: [
    'items.containers.*.Mounts.*.Source',
    'items.containers.*.Labels:labels',
    'items.volumes.*.Mountpoint',
    'items.volumes.*.Options',
  ],
  handler: async ({ verbose, full }, { engine: { docker }, signal, limits }) => {
    const raw = await system(docker).df({ abortSignal: signal });
    const df: DiskUsage = {
      LayersSize: raw.LayersSize ?? 0,
      Images: raw.Images ?? [],
      Containers: raw.Containers ?? [],
      Volumes: raw.Volumes ?? [],
      BuildCache: raw.BuildCache ?? [],
    };
    const totals = {
      images: imageTotals(df.Images, df.LayersSize),
      containers: containerTotals(df.Containers),
      volumes: volumeTotals(df.Volumes),
      build_cache: buildCacheTotals(df.BuildCache),
    };
    const all = Object.values(totals);
    return {
      ...totals,
      size: sum(all, (t) => t.size),
      reclaimable: sum(all, (t) => t.reclaimable),
      ...((verbose || full) && { items: items(df, full ?? false, limits) }),
    };
  },
});
