/** docker_compose_start, _stop and _restart: on a project's existing containers (or some services). */
import Type from 'typebox';
import { reword, ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { projectContainers, stopLevels } from '../../docker/compose/running.ts';
import { engineError } from '../../docker/errors.ts';
import { projectName, projectRef } from './params.ts';

type Verb = 'start' | 'stop' | 'restart';
/** A failure part-way: the error, saying which containers were already acted on. */
function partly(e: unknown, verb: Verb, done: string[]): unknown {
  const base = e instanceof ToolError ? e : engineError(e);
  if (!base || done.length === 0) return e;
  const past = verb === 'stop' ? 'stopped' : verb === 'start' ? 'started' : 'restarted';
  return reword(base, (m) => `${m}; ${past} before it stopped: ${done.join(', ')}`);
}

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
    handler: async (args, { engine, signal, processEnv }) => {
      const project = await projectName(engine, args, signal, processEnv);
      const cs = await projectContainers(engine.docker, project, args.services, signal);
      if (cs.length === 0)
        throw new ToolError('not_found', `no containers in project "${project}"`, {
          hint: 'Create them with docker_compose_up; list projects with docker_compose_ls.',
        });
      // Compose's order: stop dependents first, start and restart their dependencies first; the
      // containers of one level at once (a stop waits out each one's grace period).
      const levels = stopLevels(cs);
      const done: string[] = [];
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
        if (failed) throw partly(signal.aborted ? signal.reason : failed.reason, verb, done);
      }
      return { project, containers: done };
    },
  });

export const composeStart = tool('start', 'Compose start', "Start a project's existing containers.");
export const composeStop = tool('stop', 'Compose stop', "Stop a project's running containers.");
export const composeRestart = tool('restart', 'Compose restart', "Restart a project's containers.");
