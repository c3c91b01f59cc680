/** Read-only views of local images: list, inspect, history. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { shortId } from '../../docker/names.ts';
import { engineRequest } from '../../docker/request.ts';
import { inspectImage } from '../../docker/resolve.ts';
import { engineFilters, FilterMap, Full, Limit, Total, totalOf } from '../params.ts';
import { ImageRef, ImageRow, imageRow, isoTime, realTags } from './ref.ts';

export const listImages = defineTool({
  name: 'docker_list_images',
  lists: 'image',
  title: 'List images',
  description: 'List local images, one compact row each, newest first.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      all: Type.Optional(Type.Boolean({ description: 'Include intermediate' })),
      filters: FilterMap('e.g. {"reference":["nginx*"]}'),
      limit: Limit,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    images: Type.Array(ImageRow),
    count: Type.Integer({ description: 'Rows returned' }),
    total: Total,
  }),
  narrowHint: 'Use filters (reference, dangling, label) or limit.',
  handler: async ({ all, filters, limit }, { engine: { docker }, signal, limits }) => {
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const rows = await docker.listImages({ all, filters: engineFilters(filters), abortSignal: signal });
    rows.sort((a, b) => b.Created - a.Created);
    const images = rows.slice(0, max).map(imageRow);
    return { images, count: images.length, ...totalOf(rows.length, images.length) };
  },
});

export const inspectImageTool = defineTool({
  name: 'docker_inspect_image',
  title: 'Inspect image',
  description: "An image's tags, platform, size, command, env, ports and labels.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ image: ImageRef, full: Full }, { additionalProperties: false }),
  output: Type.Object({}, { additionalProperties: true }),
  // The image's author wrote these, and a container of it inherits them; the full document nests them
  // (ContainerConfig: the build's). Each string screened where it stands, so the env list stays the
  // image's own (fence lines would be entries of it), as a container's inspect shows its env.
  screened: [
    'env',
    'labels',
    'entrypoint',
    'cmd',
    'working_dir',
    'user',
    ...['Config', 'ContainerConfig'].flatMap((c) =>
      ['Env', 'Labels', 'Entrypoint', 'Cmd', 'WorkingDir', 'User'].map((f) => `${c}.${f}`),
    ),
    'Comment',
    'Author',
  ],
  // Its layers' directories under the engine's data root.
  hostDetails: ['GraphDriver.Data'],
  handler: async ({ image, full }, { engine: { docker }, signal }) => {
    const info = await inspectImage(docker, image, signal);
    if (full) return info as unknown as Record<string, unknown>;
    return imageSummary(info);
  },
});

/** The fields people read from an image document, nothing empty. */
export function imageSummary(info: Dockerode.ImageInspectInfo) {
  const c = info.Config ?? ({} as Partial<Dockerode.ImageInspectInfo['Config']>);
  const variant = (info as { Variant?: string }).Variant;
  const ports = Object.keys(c.ExposedPorts ?? {});
  const labels = c.Labels ?? {};
  return {
    id: shortId(info.Id),
    tags: realTags(info.RepoTags),
    ...(info.RepoDigests?.length > 0 && { digests: info.RepoDigests }),
    created: isoTime(info.Created),
    platform: [info.Os, info.Architecture, variant].filter(Boolean).join('/'),
    size: info.Size,
    ...(c.Entrypoint?.length && { entrypoint: c.Entrypoint }),
    ...(c.Cmd?.length && { cmd: c.Cmd }),
    ...(c.WorkingDir && { working_dir: c.WorkingDir }),
    ...(c.User && { user: c.User }),
    env: c.Env ?? [],
    ...(ports.length > 0 && { exposed_ports: ports }),
    ...(Object.keys(labels).length > 0 && { labels }),
    layers: info.RootFS?.Layers?.length ?? 0,
  };
}

interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

const MAX_CREATED_BY = 160;

/** What a layer's instruction says, without the shell wrapper the engine records. */
export function createdBy(raw: string): string {
  const s = raw
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > MAX_CREATED_BY ? `${s.slice(0, MAX_CREATED_BY - 1)}…` : s;
}

export const imageHistory = defineTool({
  name: 'docker_image_history',
  title: 'Image history',
  description: "An image's layers, newest first: instruction, size, time.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ image: ImageRef, limit: Limit }, { additionalProperties: false }),
  output: Type.Object({
    layers: Type.Array(
      Type.Object({
        id: Type.Optional(Type.String({ description: 'Only for layers built here' })),
        created: Type.String(),
        created_by: Type.String(),
        size: Type.Integer({ description: 'Bytes' }),
        tags: Type.Optional(Type.Array(Type.String())),
        comment: Type.Optional(Type.String()),
      }),
    ),
    count: Type.Integer({ description: 'Rows returned' }),
    total: Type.Optional(Type.Integer({ description: 'Layers, when more than returned' })),
  }),
  narrowHint: 'Use limit.',
  // Each layer's instruction and comment are whatever its author wrote.
  screened: ['layers.*.created_by', 'layers.*.comment'],
  handler: async ({ image, limit }, { engine: { docker }, signal, limits }) => {
    // Resolve first so an unknown reference names close tags.
    const info = await inspectImage(docker, image, signal);
    const entries = await engineRequest<HistoryEntry[]>(
      docker,
      { path: `/images/${info.Id}/history` },
      signal,
    );
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const layers = entries.slice(0, max).map((h) => ({
      ...(h.Id && h.Id !== '<missing>' && { id: shortId(h.Id) }),
      created: isoTime(h.Created),
      created_by: createdBy(h.CreatedBy ?? ''),
      size: h.Size,
      ...(h.Tags?.length && { tags: h.Tags }),
      ...(h.Comment && { comment: h.Comment }),
    }));
    return {
      layers,
      count: layers.length,
      ...(entries.length > layers.length && { total: entries.length }),
    };
  },
});
