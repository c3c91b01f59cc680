/** docker_compose_start, _stop and _restart: on a project's existing containers (or some services). */
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { projectContainers, stopLevels } from '../../docker/compose/running.ts';
import { partWay } from '../../docker/compose/stopped.ts';
import { projectName, projectRef } from './params.ts';

type Verb = 'start' | 'stop' | 'restart';
const PAST = { start: 'started', stop: 'stopped', restart: 'restarted' } as const;
const AGAIN = {
  start: 'Run docker_compose_start again to start the rest.',
  stop: 'Run docker_compose_stop again to stop the rest.',
} as const;
const tool = (verb: Verb, title: string, description: string) =>
  defineTool({
    name: `docker_compose_${verb}`,
    title,
    description,
    safety: 'moderate',
    idempotent: true,
    input: Type.Object(projectRef, { additionalProperties: false }),
    output: Type.Object({ project: Type.String(), containers: Type.Array(Type.String()) }),
    secretArgs: ['env'],
    composeArgs: ['content'],
    hostPaths: ['project_dir', 'files'],
    timeoutMs: 300_000,
    handler: async (args, ctx) => {
      const { engine, signal } = ctx;
      const project = await projectName(ctx, args);
      const cs = await projectContainers(engine.docker, project, args.services, signal);
      if (cs.length === 0)
        throw new ToolError('not_found', `no containers in project "${project}"`, {
          hint: 'Create them with docker_compose_up; list projects with docker_compose_ls.',
        });
      // Compose's order: stop dependents first, start and restart their dependencies first; the
      // containers of one level at once (a stop waits out each one's grace period).
      const levels = stopLevels(cs);
      const done: string[] = [];
      const part = partWay(signal, done, PAST[verb], verb === 'restart' ? undefined : AGAIN[verb]);
      try {
        for (const level of verb === 'stop' ? levels : levels.reverse()) {
          const acted = await Promise.allSettled(
            level.map(async (c) => {
              const ctr = engine.docker.getContainer(c.Id);
              if (verb === 'start' && c.State !== 'running') await ctr.start({ abortSignal: signal });
              if (verb === 'stop' && c.State === 'running') await ctr.stop({ abortSignal: signal });
              if (verb === 'restart') await ctr.restart({ abortSignal: signal });
              return (c.Names?.[0] ?? '').replace(/^\//, '');
            }),
          );
          for (const a of acted) if (a.status === 'fulfilled') done.push(a.value);
          const failed = acted.find((a) => a.status === 'rejected');
          if (failed) throw part.failed(failed.reason);
        }
      } finally {
        part.dispose();
      }
      return { project, containers: done };
    },
  });

export const composeStart = tool('start', 'Compose start', "Start a project's existing containers.");
export const composeStop = tool('stop', 'Compose stop', "Stop a project's running containers.");
export const composeRestart = tool('restart', 'Compose restart', "Restart a project's containers.");
