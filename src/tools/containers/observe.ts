/** Looking into a container: resource use, processes, filesystem changes. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { inspectContainer, withContainer } from '../../docker/resolve.ts';
import { UNLISTED } from '../../lean-schema.ts';
import { ContainerRef, Limit } from '../params.ts';

const mustRun = (info: Dockerode.ContainerInspectInfo, what: string) => {
  if (info.State.Running && !info.State.Paused) return;
  throw new ToolError(
    'conflict',
    `container '${info.Name.replace(/^\//, '')}' is ${info.State.Status}: ${what} need it running`,
    {
      hint: 'Start it with docker_start_container (or unpause it), then retry.',
    },
  );
};

interface EngineStats {
  cpu_stats?: {
    cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The numbers `docker stats` shows, computed the way the Docker CLI does (Linux containers). */
export function summariseStats(s: EngineStats) {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpus = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1;
  const cpuPercent = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;

  const mem = s.memory_stats ?? {};
  const usage = mem.usage ?? 0;
  // cgroup v1 reports total_inactive_file, v2 inactive_file; the CLI subtracts whichever exists.
  const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
  const used = inactive < usage ? usage - inactive : usage;
  const limit = mem.limit ?? 0;

  const nets = Object.values(s.networks ?? {});
  const io = s.blkio_stats?.io_service_bytes_recursive ?? [];
  const ioSum = (op: string) => io.filter((e) => e.op.toLowerCase() === op).reduce((n, e) => n + e.value, 0);
  return {
    cpu_percent: round2(cpuPercent),
    memory: { used, limit, percent: limit > 0 ? round2((used / limit) * 100) : 0 },
    network: {
      rx_bytes: nets.reduce((n, x) => n + (x.rx_bytes ?? 0), 0),
      tx_bytes: nets.reduce((n, x) => n + (x.tx_bytes ?? 0), 0),
    },
    block_io: { read_bytes: ioSum('read'), write_bytes: ioSum('write') },
    pids: s.pids_stats?.current ?? 0,
  };
}

export const containerStats = defineTool({
  name: 'docker_container_stats',
  title: 'Container stats',
  description: 'One sample of CPU %, memory, network and block I/O.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      container_id: ContainerRef,
      // The seed's parameter: accepted, not listed (a call always takes one sample).
      stream: Type.Optional(Type.Boolean({ ...UNLISTED, description: 'Ignored' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    container: Type.String(),
    cpu_percent: Type.Number(),
    memory: Type.Object({ used: Type.Number(), limit: Type.Number(), percent: Type.Number() }),
    network: Type.Object({ rx_bytes: Type.Number(), tx_bytes: Type.Number() }),
    block_io: Type.Object({ read_bytes: Type.Number(), write_bytes: Type.Number() }),
    pids: Type.Integer(),
  }),
  handler: async ({ container_id }, { engine: { docker }, signal }) => {
    const info = await inspectContainer(docker, container_id, signal);
    mustRun(info, 'stats');
    // Not one-shot: the engine then takes two samples a second apart and fills precpu_stats,
    // without which cpu_percent cannot be computed.
    const opts = { stream: false as const, abortSignal: signal }; // the typings omit abortSignal
    const raw = (await docker.getContainer(info.Id).stats(opts)) as EngineStats;
    return { container: info.Name.replace(/^\//, ''), ...summariseStats(raw) };
  },
});

export const containerTop = defineTool({
  name: 'docker_container_top',
  title: 'Container processes',
  description: 'Processes running in a container.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      container_id: ContainerRef,
      ps_args: Type.Optional(Type.String({ maxLength: 128, description: 'ps options (default -ef)' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    titles: Type.Array(Type.String()),
    processes: Type.Array(Type.Array(Type.String())),
  }),
  narrowHint: 'Pass ps_args to choose fewer columns.',
  // Command lines are whatever the container's processes say they are.
  untrusted: { processes: 'processes of container {container_id}' },
  handler: async ({ container_id, ps_args }, { engine: { docker }, signal }) => {
    const info = await inspectContainer(docker, container_id, signal);
    mustRun(info, 'processes');
    const top = await withContainer(docker, info.Id, signal, (c) =>
      c.top({ ...(ps_args && { ps_args }), abortSignal: signal }),
    );
    return { titles: top.Titles ?? [], processes: top.Processes ?? [] };
  },
});

const KIND = ['C', 'A', 'D'];

export const containerDiff = defineTool({
  name: 'docker_container_diff',
  title: 'Container filesystem changes',
  description: 'Files added (A), changed (C) or deleted (D) since creation.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ container_id: ContainerRef, limit: Limit }, { additionalProperties: false }),
  output: Type.Object({ changes: Type.Array(Type.String()), count: Type.Integer(), total: Type.Integer() }),
  narrowHint: 'Use limit.',
  handler: async ({ container_id, limit }, { engine: { docker }, signal, limits }) => {
    const all =
      ((await withContainer(docker, container_id, signal, (c) => c.changes({ abortSignal: signal }))) as
        | { Path: string; Kind: number }[]
        | null) ?? [];
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const changes = all.slice(0, max).map((c) => `${KIND[c.Kind] ?? '?'} ${c.Path}`);
    return { changes, count: changes.length, total: all.length };
  },
});
