/** Read-only views of volumes: list and inspect. */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { inspectVolume } from '../../docker/resolve.ts';
import { engineFilters, FilterMap, Full, Limit, Total, totalOf } from '../params.ts';
import { containersUsing, VolumeRef, volumeSummary } from './ref.ts';

const VolumeRow = Type.Object({
  name: Type.String(),
  driver: Type.String(),
  created: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Integer({ description: 'How many' })),
});

export const listVolumes = defineTool({
  name: 'docker_list_volumes',
  lists: 'volume',
  title: 'List volumes',
  description: 'List volumes, one compact row each.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      filters: FilterMap('e.g. {"dangling":["true"]}'),
      limit: Limit,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    volumes: Type.Array(VolumeRow),
    count: Type.Integer({ description: 'Rows returned' }),
    total: Total,
  }),
  narrowHint: 'Use filters (name, label, dangling, driver) or limit.',
  handler: async ({ filters, limit }, { engine: { docker }, signal, limits }) => {
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const res = await docker.listVolumes({ filters: engineFilters(filters), abortSignal: signal });
    // Newest first, like the container list; the engine's order is arbitrary.
    const matched = res.Volumes ?? [];
    const volumes = matched
      .map((v) => ({ v, created: (v as { CreatedAt?: string }).CreatedAt }))
      .map((r) => ({ ...r, at: r.created ? Date.parse(r.created) || 0 : 0 }))
      .sort((a, b) => b.at - a.at || a.v.Name.localeCompare(b.v.Name))
      .slice(0, max)
      .map(({ v, created }) => {
        const labels = Object.keys(v.Labels ?? {}).length;
        return { name: v.Name, driver: v.Driver, ...(created && { created }), ...(labels > 0 && { labels }) };
      });
    return { volumes, count: volumes.length, ...totalOf(matched.length, volumes.length) };
  },
});

export const inspectVolumeTool = defineTool({
  name: 'docker_inspect_volume',
  title: 'Inspect volume',
  description: "A volume's driver, mountpoint, options and users.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ volume_name: VolumeRef, full: Full }, { additionalProperties: false }),
  output: Type.Object({}, { additionalProperties: true }),
  // Whoever created the volume chose these (its name the engine restricts).
  screened: ['labels', 'options', 'Labels', 'Options'],
  // Its mountpoint is under the engine's data root; a driver's options may name a host device or path.
  hostDetails: ['mountpoint', 'options', 'Mountpoint', 'Options', 'Status'],
  handler: async ({ volume_name, full }, { engine: { docker }, signal }) => {
    const info = await inspectVolume(docker, volume_name, signal);
    if (full) return info as unknown as Record<string, unknown>;
    return { ...volumeSummary(info), used_by: await containersUsing(docker, info.Name, signal) };
  },
});
