/** Read-only views of containers: list and inspect. */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { inspectContainer } from '../../docker/resolve.ts';
import { All, ContainerRef, engineFilters, Filters, Full, Limit, shortId } from '../params.ts';
import { ContainerRow, containerRow } from './rows.ts';

export const listContainers = defineTool({
  name: 'docker_list_containers',
  lists: 'container',
  title: 'List containers',
  description: 'List containers, one compact row each.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    { all: All, filters: Filters, limit: Limit, full: Full },
    { additionalProperties: false },
  ),
  output: Type.Object({
    containers: Type.Array(Type.Union([ContainerRow, Type.Record(Type.String(), Type.Unknown())])),
    count: Type.Integer({ description: 'Rows returned' }),
  }),
  narrowHint: 'Use filters (status, label, name) or limit.',
  handler: async ({ all, filters, limit, full }, { engine: { docker }, signal, limits }) => {
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const rows = await docker.listContainers({
      all,
      filters: engineFilters(filters),
      limit: max,
      abortSignal: signal,
    });
    const containers = rows.slice(0, max).map((c) => (full ? { ...c, Id: c.Id } : containerRow(c)));
    return { containers, count: containers.length };
  },
});

export const inspectContainerTool = defineTool({
  name: 'docker_inspect_container',
  title: 'Inspect container',
  description: "A container's state, image, command, ports, mounts, networks and limits.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ container_id: ContainerRef, full: Full }, { additionalProperties: false }),
  output: Type.Object({}, { additionalProperties: true }),
  // Image authors and whoever started the container set these; the full document nests them.
  untrusted: {
    env: 'env of container {container_id}',
    labels: 'labels of container {container_id}',
    'Config.Env': 'env of container {container_id}',
    'Config.Labels': 'labels of container {container_id}',
  },
  handler: async ({ container_id, full }, { engine: { docker }, signal }) => {
    const info = await inspectContainer(docker, container_id, signal);
    if (full) return info as unknown as Record<string, unknown>;
    const s = info.State;
    const hc = info.HostConfig;
    const ports = Object.entries(info.NetworkSettings?.Ports ?? {}).flatMap(([port, binds]) =>
      binds?.length ? binds.map((b) => `${b.HostIp ? `${b.HostIp}:` : ''}${b.HostPort}->${port}`) : [port],
    );
    return {
      id: shortId(info.Id),
      name: info.Name.replace(/^\//, ''),
      image: info.Config.Image,
      state: s.Status,
      ...(s.Status === 'exited' && { exit_code: s.ExitCode }),
      ...(s.Error && { error: s.Error }),
      ...(s.Health?.Status && { health: s.Health.Status }),
      ...(s.OOMKilled && { oom_killed: true }),
      restart_count: info.RestartCount,
      created: info.Created,
      started_at: s.StartedAt,
      ...(s.Status !== 'running' && { finished_at: s.FinishedAt }),
      command: [...(info.Config.Entrypoint ?? []), ...(info.Config.Cmd ?? [])].join(' '),
      ...(info.Config.WorkingDir && { working_dir: info.Config.WorkingDir }),
      env: info.Config.Env ?? [],
      ...(Object.keys(info.Config.Labels ?? {}).length > 0 && { labels: info.Config.Labels }),
      ...(ports.length > 0 && { ports }),
      mounts: (info.Mounts ?? []).map((m) => `${m.Name ?? m.Source}:${m.Destination}${m.RW ? '' : ':ro'}`),
      networks: Object.keys(info.NetworkSettings?.Networks ?? {}),
      restart_policy: hc.RestartPolicy?.Name || 'no',
      ...(hc.Memory ? { memory_limit: hc.Memory } : {}),
      ...(hc.NanoCpus ? { cpus: hc.NanoCpus / 1e9 } : {}),
      ...(hc.Privileged && { privileged: true }),
    };
  },
});
