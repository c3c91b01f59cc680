/** `container://logs/{container_id}`: a container's newest log lines, fenced; watched by following the stream. */

import { fenceText } from '../core/fence.ts';
import { logSource, openLogs, recentLogLines } from '../docker/logs.ts';
import { nameOf } from '../docker/names.ts';
import { inspectContainer } from '../docker/resolve.ts';
import { consume } from '../docker/streams.ts';
import { defineTemplate, watchContainer } from './define.ts';

export const LOG_LINES = 100;

export const containerLogs = defineTemplate({
  name: 'container_logs',
  uriTemplate: 'container://logs/{container_id}',
  title: 'Container logs',
  description: `Newest ${LOG_LINES} log lines of a container (untrusted text, fenced); subscribe for new lines.`,
  mimeType: 'text/plain',
  complete: { container_id: 'container' },
  async read({ container_id }, { engine, signal, limits, logFilter }) {
    const { docker } = engine;
    const info = await inspectContainer(docker, container_id, signal);
    const tail = Math.min(LOG_LINES, limits.maxLogLines);
    const lines = await recentLogLines(docker, engine.info(), info, tail, limits.maxResponseBytes, signal);
    const name = nameOf(info);
    const body = lines.length
      ? fenceText(lines.join('\n'), `logs of container ${name}`, logFilter)
      : '(no log lines)';
    return { mimeType: 'text/plain', text: `${lines.length} newest log lines of ${name}:\n${body}` };
  },
  async check({ container_id }, { engine: { docker }, signal }) {
    await inspectContainer(docker, container_id, signal);
  },
  /**
   * Follows the log stream from the time of subscribing; every chunk is a change. A stopped container ends the
   * stream: look again every 2 s from where it ended, so lines written after a restart count.
   * A removed container ends the watch (after one last change, so the client reads the error).
   */
  async watch({ container_id }, ctx) {
    // From the moment of subscribing, even if the stream attaches a little later.
    let since = Date.now() / 1000;
    await watchContainer(ctx, 2000, async (docker) => {
      const info = await inspectContainer(docker, container_id, ctx.signal);
      const query = { tail: 'all' as const, since, follow: true };
      const stream = await openLogs(docker, logSource(info), query, ctx.signal);
      await consume(stream, () => void ctx.changed(), ctx.signal);
      since = Date.now() / 1000;
    });
  },
});
