/** troubleshoot_container: why is this container failing, from its live state and recent logs. */
import { lastExit } from '../docker/last-exit.ts';
import { definePrompt } from './define.ts';
import {
  command,
  envBlock,
  header,
  healthBlock,
  limitsLine,
  logsBlock,
  mountsLine,
  networksLine,
  one,
  portsLine,
  stateLine,
  UNTRUSTED_NOTE,
} from './facts.ts';

const LOG_LINES = 50;

export const troubleshootContainer = definePrompt({
  name: 'troubleshoot_container',
  title: 'Troubleshoot a container',
  description: 'Diagnose a failing or misbehaving container from its state, config and recent logs.',
  arguments: [{ name: 'container_id', description: 'Name or ID', required: true, complete: 'container' }],
  async build({ container_id }, ctx) {
    const info = await one(container_id, ctx);
    // Caught running between two runs of a crash loop, its exit code is in the engine's events only.
    const s = info.State;
    const exit =
      s.Running && !s.Restarting && info.RestartCount > 0
        ? await lastExit(ctx.engine.docker, info, ctx.signal)
        : undefined;
    const health = healthBlock(info, ctx.logFilter);
    return [
      `Troubleshoot the Docker container ${header(info)}.`,
      '',
      `State: ${stateLine(info, exit)}`,
      `Command: ${command(info, ctx.logFilter) || '(image default)'}`,
      `Limits: ${limitsLine(info)}`,
      `Mounts: ${mountsLine(info, ctx.remote)}`,
      `Networks: ${networksLine(info, ctx.logFilter)}`,
      `Ports: ${portsLine(info)}`,
      ...(health ? ['Last health check:', health] : []),
      'Environment:',
      envBlock(info, ctx.logFilter),
      '',
      await logsBlock(info, LOG_LINES, ctx),
      '',
      UNTRUSTED_NOTE,
      '',
      'Find the most likely cause of the problem. Cite the evidence (state, exit code, log lines, configuration), ' +
        'then give concrete fixes in order of likelihood. If more evidence is needed, say which read-only ' +
        'docker_* tool call would settle it (e.g. docker_container_logs with grep or since, docker_inspect_container) ' +
        'before proposing any change.',
    ].join('\n');
  },
});
