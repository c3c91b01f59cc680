/** A container's resource use: one engine sample and the numbers `docker stats` shows from it. */
import type Dockerode from 'dockerode';

/** The parts of the engine's stats document the summary reads. */
export interface EngineStats {
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

/**
 * One sample. Not one-shot by default: the engine then takes two samples a second apart and fills
 * precpu_stats, without which cpu_percent cannot be computed; a one-shot sample is cheap (for polling).
 */
export async function statsSample(
  docker: Dockerode,
  id: string,
  signal: AbortSignal,
  oneShot = false,
): Promise<EngineStats> {
  // The typings omit abortSignal and one-shot.
  const opts = { stream: false as const, ...(oneShot && { 'one-shot': true }), abortSignal: signal };
  return (await docker.getContainer(id).stats(opts)) as EngineStats;
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

export type StatsSummary = ReturnType<typeof summariseStats>;
