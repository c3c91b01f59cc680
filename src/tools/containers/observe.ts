/** Looking into a container: resource use, processes, filesystem changes. */
import Type from 'typebox';
import { UNLISTED } from '../../core/schema-marks.ts';
import { defineTool } from '../../core/tool.ts';
import { pausedRefusal, requireRunning } from '../../docker/containers.ts';
import { argumentRefused } from '../../docker/errors.ts';
import { nameOf } from '../../docker/names.ts';
import { inspectContainer, withContainer } from '../../docker/resolve.ts';
import { statsSample, summariseStats } from '../../docker/stats.ts';
import { ContainerRef, Limit } from '../params.ts';

const PS_ARGS_HINT =
  'Give ps options whose output has a PID column (-ef, aux, -o pid,comm), or leave ps_args out.';

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
    requireRunning(info, 'stats');
    const sample = await statsSample(docker, info.Id, signal).catch((e: unknown) =>
      pausedRefusal(info, 'the stats', e),
    );
    return { container: nameOf(info), ...summariseStats(sample) };
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
    requireRunning(info, 'processes');
    const top = await withContainer(docker, info.Id, signal, (c) =>
      c.top({ ...(ps_args && { ps_args }), abortSignal: signal }),
    ).catch((e: unknown) => {
      // The engine runs ps with these options and needs a PID column in what it prints.
      const refused = ps_args && argumentRefused(e, 'ps_args', /\bps\b|PID/, PS_ARGS_HINT);
      if (refused) throw refused;
      return pausedRefusal(info, 'the processes', e);
    });
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
  // File names are whatever the container's processes wrote.
  screened: ['changes'],
  handler: async ({ container_id, limit }, { engine: { docker }, signal, limits }) => {
    const answer: unknown = await withContainer(docker, container_id, signal, (c) =>
      c.changes({ abortSignal: signal }),
    );
    // No changes: the engine answers null, which dockerode hands over as an empty Buffer.
    const all = Array.isArray(answer) ? (answer as { Path: string; Kind: number }[]) : [];
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const changes = all.slice(0, max).map((c) => `${KIND[c.Kind] ?? '?'} ${c.Path}`);
    return { changes, count: changes.length, total: all.length };
  },
});
