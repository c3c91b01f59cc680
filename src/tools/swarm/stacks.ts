/**
 * Stacks: a Compose project deployed onto a swarm as `docker stack deploy` does, and the stacks on
 * a swarm (ours or the docker CLI's, told by the com.docker.stack.namespace label) listed, shown as
 * services and tasks, and removed.
 */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { serviceRow } from '../../docker/swarm/service-spec.ts';
import {
  listStacks,
  removeStack,
  type StackObject,
  servicesOf,
  stackObjects,
  stackTasks,
} from '../../docker/swarm/stack.ts';
import { deployStack, servicesGone } from '../../docker/swarm/stack-deploy.ts';
import { byTask, taskRow } from '../../docker/swarm/tasks.ts';
import { pinned } from '../asked.ts';
import { load, projectInput } from '../compose/params.ts';
import { Full, Limit, Total, totalOf } from '../params.ts';
import { Doc, PUBLISH_NOTE } from './params.ts';

// A stack name goes into label filters and object names: the characters Compose keeps in a project name.
const StackName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9][a-z0-9_-]*$',
  description: 'Stack name',
});
const Steps = Type.Array(Type.String({ description: 'object action' }));

const { services: _services, ...deployInput } = projectInput;

export const stackDeploy = defineTool({
  name: 'docker_stack_deploy',
  title: 'Deploy stack',
  description:
    'Deploy a Compose project as swarm stack project_name: networks, secrets, configs, then services (updated in place). prune removes services gone from the file. Ports open on every node.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object(
    {
      ...deployInput,
      prune: Type.Optional(Type.Boolean({ description: "Remove the stack's services not in the file" })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    stack: Type.String(),
    steps: Steps,
    ignored: Type.Optional(Type.Array(Type.String(), { description: 'service: key a swarm ignores' })),
    note: Type.Optional(Type.String()),
  }),
  escalate: { prune: 'destructive' },
  secretArgs: ['env'],
  composeArgs: ['content'],
  hostPaths: ['project_dir', 'files'],
  timeoutMs: 300_000,
  // Asked when prune makes it destructive: the question names the services it removes.
  preview: async (args, ctx) => {
    const { engine, signal } = ctx;
    const p = await load(ctx, args);
    if (!args.prune) return { action: `deploy stack '${p.name}'` };
    const gone = await servicesGone(engine.docker, p, signal);
    return {
      action: `deploy stack '${p.name}' and remove its services the file no longer has`,
      objects: gone.map((s) => `service ${s.name}`),
      plan: { prune: gone.map((s) => s.id) },
      beyondObjects: true, // the deploy itself
    };
  },
  handler: async (args, ctx) => {
    const { engine, signal, progress, confirmed } = ctx;
    const p = await load(ctx, args);
    // Confirmed: only the services the user was shown go, not one that left the file since.
    const shown = pinned(confirmed, 'prune');
    const r = await deployStack(engine.docker, engine, p, {
      prune: args.prune,
      ...(Array.isArray(shown) && { pruneOnly: shown.map(String) }),
      vars: { ...ctx.processEnv, ...args.env },
      progress,
      signal,
    });
    return {
      stack: r.stack,
      steps: r.steps,
      ...(r.ignored.length > 0 && { ignored: r.ignored }),
      ...(r.publishes && { note: PUBLISH_NOTE }),
    };
  },
});

export const stackList = defineTool({
  name: 'docker_stack_list',
  title: 'List stacks',
  description: 'Stacks on the swarm (whoever deployed them) with their service counts.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ limit: Limit }, { additionalProperties: false }),
  output: Type.Object({
    stacks: Type.Array(Type.Object({ name: Type.String(), services: Type.Integer() })),
    count: Type.Integer(),
    total: Total,
  }),
  handler: async ({ limit }, { engine: { docker }, signal, limits }) => {
    const all = await listStacks(docker, signal);
    const stacks = all.slice(0, Math.min(limit ?? limits.maxListResults, limits.maxListResults));
    return { stacks, count: stacks.length, ...totalOf(all.length, stacks.length) };
  },
});

export const stackServices = defineTool({
  name: 'docker_stack_services',
  title: 'Stack services',
  description: "A stack's services: name, image, mode, replicas running/desired, ports, update state.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ stack: StackName, full: Full }, { additionalProperties: false }),
  output: Type.Object({ stack: Type.String(), services: Type.Array(Doc), count: Type.Integer() }),
  handler: async ({ stack, full }, { engine: { docker }, signal }) => {
    const services = (await servicesOf(docker, stack, signal)).map((s) =>
      full ? (s as unknown as Record<string, unknown>) : { ...serviceRow(s) },
    );
    return { stack, services, count: services.length };
  },
});

export const stackPs = defineTool({
  name: 'docker_stack_ps',
  title: 'Stack tasks',
  description: "A stack's tasks, newest first per slot: node, desired and current state, error.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      stack: StackName,
      desired_state: Type.Optional(Type.Enum(['running', 'shutdown', 'accepted'])),
      limit: Limit,
      full: Full,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ stack: Type.String(), tasks: Type.Array(Doc), count: Type.Integer(), total: Total }),
  narrowHint: "Use desired_state: 'running' or limit.",
  handler: async ({ stack, desired_state, limit, full }, { engine: { docker }, signal, limits }) => {
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const { tasks, services, nodes } = await stackTasks(docker, stack, desired_state, signal);
    if (full) {
      const docs = tasks.slice(0, max) as unknown as Record<string, unknown>[];
      return { stack, tasks: docs, count: docs.length, ...totalOf(tasks.length, docs.length) };
    }
    const rows = tasks
      .map((t) => taskRow(t, services, nodes))
      .sort(byTask)
      .slice(0, max);
    return {
      stack,
      tasks: rows.map((r) => ({ ...r })),
      count: rows.length,
      ...totalOf(tasks.length, rows.length),
    };
  },
});

export const stackRemove = defineTool({
  name: 'docker_stack_remove',
  title: 'Remove stack',
  description: "Remove a stack's services, secrets, configs and networks (whoever deployed it).",
  safety: 'destructive',
  idempotent: true,
  input: Type.Object({ stack: StackName }, { additionalProperties: false }),
  output: Type.Object({
    stack: Type.String(),
    removed: Type.Boolean(),
    steps: Steps,
    left: Type.Optional(
      Type.Array(Type.String(), { description: 'Objects of the stack since the question: not removed' }),
    ),
  }),
  timeoutMs: 120_000,
  preview: async ({ stack }, { engine: { docker }, signal }) => {
    const objects = await stackObjects(docker, stack, signal);
    const counts = (['service', 'secret', 'config', 'network'] as const)
      .map((k) => [k, objects.filter((o) => o.kind === k).length] as const)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`);
    return {
      action: `remove stack '${stack}'${counts.length ? `: ${counts.join(', ')}` : ''}`,
      objects: objects.map((o) => `${o.kind} ${o.name}`),
      plan: { objects: idsOf(objects) },
    };
  },
  handler: async ({ stack }, { engine: { docker }, signal, confirmed }) => {
    // Confirmed: only the objects the user was shown go; anything labelled with the stack since is left.
    const asked = pinned(confirmed, 'objects');
    const only =
      confirmed === undefined
        ? undefined
        : new Set(typeof asked === 'string' && asked !== '' ? asked.split(',') : []);
    const { steps, left } = await removeStack(docker, stack, signal, only);
    return { stack, removed: steps.length > 0, steps, ...(left.length > 0 && { left }) };
  },
});

/** What a stack holds, as one comparable value: its objects' IDs, sorted. */
const idsOf = (objects: StackObject[]): string =>
  objects
    .map((o) => o.id)
    .sort()
    .join(',');

export const stackTools = [stackDeploy, stackList, stackServices, stackPs, stackRemove];
