import { pausedRefusal, requireRunning } from '../docker/containers.ts';
import { nameOf } from '../docker/names.ts';
import { inspectContainer } from '../docker/resolve.ts';
import { statsSample, summariseStats } from '../docker/stats.ts';
import { defineTemplate, watchContainer } from './define.ts';

export const POLL_MS = 2000;

export const containerStats = defineTemplate({
  name: 'container_stats',
  uriTemplate: 'container://stats/{container_id}',
  title: 'Container stats',
  description: 'One resource sample of a running container (CPU %, memory, network, block I/O, pids).',
  mimeType: 'application/json',
  complete: { container_id: 'running_container' },
  async read({ container_id }, { engine: { docker }, signal }) {
    const info = await inspectContainer(docker, container_id, signal);
    requireRunning(info, 'stats', 'read again');
    const sample = summariseStats(
      await statsSample(docker, info.Id, signal).catch((e: unknown) => pausedRefusal(info, 'the stats', e)),
    );
    return {
      mimeType: 'application/json',
      text: JSON.stringify({ container: nameOf(info), ...sample }),
    };
  },
  async check({ container_id }, { engine: { docker }, signal }) {
    await inspectContainer(docker, container_id, signal);
  },
  /**
   * Polls a cheap one-shot sample every 2 s and reports a change when the counters or the state
   * moved (an idle container stays quiet). A removed container ends the watch.
   */
  async watch({ container_id }, ctx) {
    let last: string | undefined;
    await watchContainer(ctx, POLL_MS, async (docker) => {
      const info = await inspectContainer(docker, container_id, ctx.signal);
      let print = info.State.Status;
      if (info.State.Running) {
        const s = await statsSample(docker, info.Id, ctx.signal, true);
        const sum = summariseStats(s);
        print += `|${s.cpu_stats?.cpu_usage?.total_usage}|${sum.memory.used}|${sum.pids}|${sum.network.rx_bytes}|${sum.network.tx_bytes}|${sum.block_io.read_bytes}|${sum.block_io.write_bytes}`;
      }
      if (last !== undefined && print !== last) ctx.changed();
      last = print;
    });
  },
});
