/** docker_compose_start, _stop and _restart: on a project's existing containers (or some services). */
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { projectContainers } from '../../docker/compose/running.ts';
import { L } from '../../docker/compose/spec.ts';
import { projectName, projectRef } from './params.ts';

type Verb = 'start' | 'stop' | 'restart';
type Row = { Labels: Record<string, string> };

/** Containers in dependency order, read from their depends_on labels (the project's files may be gone). */
export function byDependencies<T extends Row>(cs: T[]): T[] {
  const service = (c: Row) => c.Labels[L.service] ?? '';
  const deps = new Map(
    cs.map((c) => [
      service(c),
      (c.Labels[L.dependsOn] ?? '')
        .split(',')
        .map((d) => d.split(':')[0] ?? '')
        .filter(Boolean),
    ]),
  );
  const order: string[] = [];
  const visit = (s: string, seen: Set<string>) => {
    if (order.includes(s) || seen.has(s)) return;
    seen.add(s);
    for (const d of deps.get(s) ?? []) if (deps.has(d)) visit(d, seen);
    order.push(s);
  };
  for (const s of deps.keys()) visit(s, new Set());
  return [...cs].sort((a, b) => order.indexOf(service(a)) - order.indexOf(service(b)));
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
      const done: string[] = [];
      const ordered = byDependencies(cs);
      for (const c of verb === 'stop' ? ordered.reverse() : ordered) {
        const ctr = engine.docker.getContainer(c.Id);
        if (verb === 'start' && c.State !== 'running') await ctr.start({ abortSignal: signal });
        if (verb === 'stop' && c.State === 'running') await ctr.stop({ abortSignal: signal });
        if (verb === 'restart') await ctr.restart({ abortSignal: signal });
        done.push((c.Names?.[0] ?? '').replace(/^\//, ''));
      }
      return { project, containers: done };
    },
  });

export const composeStart = tool('start', 'Compose start', "Start a project's existing containers.");
export const composeStop = tool('stop', 'Compose stop', "Stop a project's running containers.");
export const composeRestart = tool('restart', 'Compose restart', "Restart a project's containers.");
