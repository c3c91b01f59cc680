/** optimize_container: right-size limits and tidy the configuration, from a live resource sample. */
import type Dockerode from 'dockerode';
import { statsSample, summariseStats } from '../docker/stats.ts';
import { definePrompt } from './define.ts';
import { command, header, limitsLine, mountsLine, one, restartPolicy, stateLine } from './facts.ts';

const MiB = 1024 * 1024;

export const optimizeContainer = definePrompt({
  name: 'optimize_container',
  title: 'Optimize a container',
  description: 'Suggest resource limits, image, logging and restart improvements from live usage.',
  arguments: [{ name: 'container_id', description: 'Name or ID', required: true, complete: 'container' }],
  async build({ container_id }, ctx) {
    const {
      engine: { docker },
      signal,
    } = ctx;
    const info = await one(container_id, ctx);
    const running = info.State.Running && !info.State.Paused;
    let usage = 'not running: no live sample';
    if (running) {
      const s = summariseStats(await statsSample(docker, info.Id, signal));
      usage =
        `cpu ${s.cpu_percent}%, memory ${Math.round((s.memory.used / MiB) * 10) / 10} MiB` +
        `${s.memory.limit ? ` of ${Math.round(s.memory.limit / MiB)} MiB visible (${s.memory.percent}%)` : ''}, ` +
        `pids ${s.pids}, network rx ${s.network.rx_bytes} B / tx ${s.network.tx_bytes} B, ` +
        `block read ${s.block_io.read_bytes} B / write ${s.block_io.write_bytes} B`;
    }
    let image = info.Config.Image;
    try {
      const opts = { abortSignal: signal } as Dockerode.ImageInspectOptions;
      const img = await docker.getImage(info.Image).inspect(opts);
      image += ` (${Math.round((img.Size / MiB) * 10) / 10} MiB, ${img.RootFS?.Layers?.length ?? '?'} layers)`;
    } catch {
      // An image removed since the container was created: the reference alone will do.
    }
    const log = info.HostConfig.LogConfig;
    const logOpts = Object.entries(log?.Config ?? {}).map(([k, v]) => `${k}=${v}`);
    const hc = info.Config.Healthcheck?.Test;
    return [
      `Suggest optimizations for the Docker container ${header(info)}.`,
      '',
      `State: ${stateLine(info)}`,
      `Image: ${image}`,
      `Command: ${command(info, ctx.logFilter) || '(image default)'}`,
      `Live usage (one sample): ${usage}`,
      `Limits: ${limitsLine(info)}`,
      `Restart policy: ${restartPolicy(info)}`,
      `Healthcheck: ${hc?.length && hc[0] !== 'NONE' ? hc.join(' ') : 'none'}`,
      `Logging: driver ${log?.Type ?? 'default'}${logOpts.length ? ` (${logOpts.join(', ')})` : ' (no rotation options)'}`,
      `Mounts: ${mountsLine(info, ctx.remote)}`,
      '',
      'Recommend concrete changes, each with the reason and the expected effect: memory and CPU limits sized ' +
        'from the usage above (with headroom), pids limit, restart policy, a healthcheck if missing, log ' +
        'rotation, and a smaller or pinned image. Give the docker run flags or compose keys for each. Say ' +
        'what one sample cannot tell (peaks, trends) and how to measure it.',
    ].join('\n');
  },
});
