/** Read-only views of containers: list and inspect. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { containerRow, inspectSummary } from '../../docker/containers.ts';
import { engineRequest } from '../../docker/request.ts';
import { inspectContainer } from '../../docker/resolve.ts';
import { All, ContainerRef, engineFilters, Filters, Full, Limit, Total, totalOf } from '../params.ts';
import { ContainerRow } from './rows.ts';

const fullRow = (c: Dockerode.ContainerInfo) => ({ ...c, Id: c.Id });

export const listContainers = defineTool({
  name: 'docker_list_containers',
  lists: 'container',
  title: 'List containers',
  description: 'List containers, one compact row each.',
  safety: 'safe',
  idempotent: true,
  engine: 'requests',
  input: Type.Object(
    { all: All, filters: Filters, limit: Limit, full: Full },
    { additionalProperties: false },
  ),
  output: Type.Object({
    containers: Type.Array(Type.Union([ContainerRow, Type.Record(Type.String(), Type.Unknown())])),
    count: Type.Integer({ description: 'Rows returned' }),
    total: Total,
  }),
  narrowHint: 'Use filters (status, label, name) or limit.',
  // A full row's mounts (volume directories under the engine's data root, bind sources) and the
  // Compose labels saying where its project's files are.
  hostDetails: ['containers.*.Mounts.*.Source', 'containers.*.Labels:labels'],
  handler: async ({ all, filters, limit, full }, { engine: { docker }, signal, limits }) => {
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const rows = await engineRequest<Dockerode.ContainerInfo[]>(
      docker,
      // Every match: the engine's `limit` would hide how many there are (the result says `total`).
      { path: '/containers/json', query: { all, filters: engineFilters(filters) } },
      signal,
    );
    const page = rows.slice(0, max);
    // containerRow itself, not a closure calling it: JSC's top tier compiled such a closure with
    // containerRow inlined, which containers.ts keeps off that tier.
    const containers = full ? page.map(fullRow) : page.map(containerRow);
    return { containers, count: containers.length, ...totalOf(rows.length, containers.length) };
  },
});

export const inspectContainerTool = defineTool({
  name: 'docker_inspect_container',
  title: 'Inspect container',
  description: "A container's state, image, command, ports, mounts, networks and limits.",
  safety: 'safe',
  idempotent: true,
  engine: 'requests',
  input: Type.Object({ container_id: ContainerRef, full: Full }, { additionalProperties: false }),
  output: Type.Object({}, { additionalProperties: true }),
  // Image authors and whoever started the container set env, labels and the command (the full
  // document nests them), and network names are any text their creator chose: each string screened
  // where it stands, so the env list stays the container's own (fence lines would be entries of it).
  screened: [
    'env',
    'labels',
    'Config.Env',
    'Config.Labels',
    'networks',
    'command',
    'working_dir',
    'Path',
    'Args',
    'Config.Cmd',
    'Config.Entrypoint',
  ],
  // Files the engine keeps for it under its data root, its layers' directories, and bind sources:
  // paths of the engine host (a volume's name stays); where its log driver sends logs (the operator's
  // log collectors).
  hostDetails: [
    'mounts.*:source',
    'labels:labels',
    'Config.Labels:labels',
    'LogPath',
    'ResolvConfPath',
    'HostsPath',
    'HostnamePath',
    'GraphDriver.Data',
    'Mounts.*.Source',
    'HostConfig.Binds.*:source',
    'HostConfig.Mounts.*.Source',
    'HostConfig.ContainerIDFile',
    'NetworkSettings.SandboxKey',
    'HostConfig.LogConfig.Config:options',
  ],
  handler: async ({ container_id, full }, { engine: { docker }, signal }) => {
    const info = await inspectContainer(docker, container_id, signal);
    if (full) return info as unknown as Record<string, unknown>;
    return inspectSummary(info);
  },
});
