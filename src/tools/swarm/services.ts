/** Reading services: list, inspect, logs, and waiting until one has converged. */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { sleep } from '../../docker/swarm/api.ts';
import { isMet, STUCK, type Steady, watch } from '../../docker/swarm/convergence.ts';
import { listNodes } from '../../docker/swarm/nodes.ts';
import { readServiceLogs } from '../../docker/swarm/service-logs.ts';
import { imageOf, serviceRow } from '../../docker/swarm/service-spec.ts';
import { convergence, inspectService, listServices } from '../../docker/swarm/services.ts';
import { listTasks, taskRow } from '../../docker/swarm/tasks.ts';
import { lineMatcher } from '../containers/match.ts';
import { FilterMap, Full, Limit, TimePoint, Total, totalOf } from '../params.ts';
import { parseTimePoint } from '../time.ts';
import { Doc, ServiceRef, TaskRef } from './params.ts';

export const serviceList = defineTool({
  name: 'docker_service_list',
  title: 'List services',
  description: 'Services: name, image, mode, replicas running/desired, ports, update state.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    { filters: FilterMap('e.g. {"label":["app=web"]}'), limit: Limit, full: Full },
    { additionalProperties: false },
  ),
  output: Type.Object({ services: Type.Array(Doc), count: Type.Integer(), total: Total }),
  narrowHint: 'Use filters (name, label, mode) or limit.',
  // A full row's bind sources: paths on the nodes' hosts.
  hostDetails: [
    'services.*.Spec.TaskTemplate.ContainerSpec.Mounts.*.Source',
    'services.*.PreviousSpec.TaskTemplate.ContainerSpec.Mounts.*.Source',
  ],
  handler: async ({ filters, limit, full }, { engine: { docker }, signal, limits }) => {
    const all = await listServices(docker, filters ?? {}, signal);
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const services = all
      .sort((a, b) => (a.Spec.Name ?? '').localeCompare(b.Spec.Name ?? ''))
      .slice(0, max)
      .map((s) => (full ? (s as unknown as Record<string, unknown>) : { ...serviceRow(s) }));
    return { services, count: services.length, ...totalOf(all.length, services.length) };
  },
});

type Obj = Record<string, unknown>;
const ns = (n: unknown) => (typeof n === 'number' ? n / 1e9 : undefined);
const policy = (p: Obj | undefined) =>
  p && {
    parallelism: p.Parallelism,
    delay: ns(p.Delay),
    failure_action: p.FailureAction,
    monitor: ns(p.Monitor),
    order: p.Order,
  };

export const serviceInspect = defineTool({
  name: 'docker_service_inspect',
  title: 'Inspect service',
  description: "A service's image, command, env, mounts, networks, placement and update state.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ service: ServiceRef, full: Full }, { additionalProperties: false }),
  output: Doc,
  // Whoever created the service set these (the full document nests them): each string screened
  // where it stands, so the env list stays the service's own (fence lines would be entries of it).
  screened: [
    'env',
    'labels',
    'Spec.TaskTemplate.ContainerSpec.Env',
    'Spec.TaskTemplate.ContainerSpec.Labels',
    'Spec.Labels',
  ],
  // A bind's source is a path on the nodes' hosts (a volume's name stays).
  hostDetails: [
    'mounts.*:source',
    'Spec.TaskTemplate.ContainerSpec.Mounts.*.Source',
    'PreviousSpec.TaskTemplate.ContainerSpec.Mounts.*.Source',
  ],
  handler: async ({ service, full }, { engine: { docker }, signal }) => {
    const s = await inspectService(docker, service, signal);
    if (full) return s as unknown as Obj;
    const [listed] = await listServices(docker, { id: [s.ID] }, signal);
    const c = (s.Spec.TaskTemplate?.ContainerSpec ?? {}) as Obj;
    const mounts = ((c.Mounts as Obj[] | undefined) ?? []).map(
      (m) => `${m.Type === 'tmpfs' ? 'tmpfs' : (m.Source ?? '')}:${m.Target}${m.ReadOnly ? ':ro' : ''}`,
    );
    return {
      ...serviceRow(listed ?? s),
      ...(c.Command ? { entrypoint: c.Command } : {}),
      ...(c.Args ? { command: c.Args } : {}),
      ...(c.Env ? { env: c.Env } : {}),
      ...(mounts.length ? { mounts } : {}),
      ...(s.Spec.TaskTemplate?.Networks?.length
        ? { networks: s.Spec.TaskTemplate.Networks.map((n) => n.Target) }
        : {}),
      ...(s.Spec.TaskTemplate?.Placement?.Constraints
        ? { constraints: s.Spec.TaskTemplate.Placement.Constraints }
        : {}),
      ...(s.Spec.UpdateConfig ? { update_config: policy(s.Spec.UpdateConfig) } : {}),
      ...(s.Spec.RollbackConfig ? { rollback_config: policy(s.Spec.RollbackConfig) } : {}),
      ...(s.UpdateStatus?.Message ? { update_message: s.UpdateStatus.Message } : {}),
      ...(s.PreviousSpec ? { previous_image: imageOf(s.PreviousSpec) } : {}),
      ...(s.Spec.Labels && Object.keys(s.Spec.Labels).length ? { labels: s.Spec.Labels } : {}),
      created: s.CreatedAt,
      updated: s.UpdatedAt,
    };
  },
});

export const serviceLogs = defineTool({
  name: 'docker_service_logs',
  title: 'Service logs',
  description: "Newest log lines of a service's tasks (untrusted text), each led by task@node.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      service: ServiceRef,
      task: Type.Optional(TaskRef),
      tail: Type.Optional(Type.Integer({ minimum: 0, default: 100 })),
      since: TimePoint,
      timestamps: Type.Optional(Type.Boolean()),
      grep: Type.Optional(Type.String({ maxLength: 512, description: 'Text or /regex/i' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    service: Type.String(),
    lines: Type.Array(Type.String()),
    count: Type.Integer(),
    scanned: Type.Optional(Type.Integer()),
  }),
  keep: 'tail',
  untrusted: { lines: 'logs of service {service}' },
  narrowHint: 'Use tail, since, task or grep.',
  handler: async (args, { engine: { docker }, signal, limits }) => {
    const since = args.since === undefined ? undefined : parseTimePoint(args.since, 'since');
    const match = args.grep === undefined ? undefined : await lineMatcher(args.grep, 'grep');
    const svc = await inspectService(docker, args.service, signal);
    const [tasks, nodes] = await Promise.all([
      listTasks(docker, { service: [svc.ID] }, signal),
      listNodes(docker, {}, signal),
    ]);
    const nodeNames = new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? '']));
    const names = new Map([[svc.ID, svc.Spec.Name ?? '']]);
    const taskNames = new Map(tasks.map((t) => [t.ID, taskRow(t, names, nodeNames).name]));
    const task = args.task
      ? (tasks.find((t) => t.ID.startsWith(args.task as string))?.ID ?? args.task)
      : undefined;
    const tail = Math.min(args.tail ?? 100, limits.maxLogLines);
    const ask = match ? Math.min(limits.maxLogLines, tail * 20) : tail;
    const { lines, scanned } = await readServiceLogs(
      docker,
      task ? { task } : { service: svc.ID },
      {
        tail: ask,
        timestamps: args.timestamps ?? false,
        since,
        tty: !!svc.Spec.TaskTemplate?.ContainerSpec?.TTY,
      },
      { maxLines: tail, maxBytes: 2 * limits.maxResponseBytes + 65_536, match },
      { tasks: taskNames, nodes: nodeNames },
      signal,
    );
    return { service: svc.Spec.Name ?? svc.ID, lines, count: lines.length, ...(match && { scanned }) };
  },
});

export const serviceWait = defineTool({
  name: 'docker_service_wait',
  title: 'Wait for service',
  description:
    'Wait until all tasks ran the current spec 5 s (update_config.monitor); a job: completed. Else met:false.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      service: ServiceRef,
      timeout: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 3600, description: 'Seconds (default 60)' }),
      ),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    met: Type.Boolean(),
    running: Type.Integer(),
    desired: Type.Integer({ description: 'A job: completions of its current run' }),
    completed: Type.Optional(Type.Integer({ description: 'A job: tasks of its current run completed' })),
    update: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
    error: Type.Optional(Type.String()),
    stable_s: Type.Optional(
      Type.Number({ description: 'met:false: seconds all tasks had been running at the timeout' }),
    ),
    waited_s: Type.Number(),
  }),
  timeoutArg: 'timeout',
  timeoutMs: 75_000,
  handler: async ({ service, timeout }, { engine: { docker }, signal }) => {
    const start = Date.now();
    const deadline = start + (timeout ?? 60) * 1000;
    let steady: Steady | undefined;
    for (;;) {
      const c = await convergence(docker, service, signal);
      const now = Date.now();
      steady = watch(steady, c, now);
      const met = isMet(c, steady, now);
      const stuck = c.update !== undefined && STUCK.has(c.update);
      if (met || stuck || now >= deadline || signal.aborted) {
        const { converged: _c, job: _j, watched: _w, windowMs: _m, ...rest } = c;
        const stable = !met && steady ? { stable_s: Math.round((now - steady.since) / 100) / 10 } : {};
        return { met, ...rest, ...stable, waited_s: Math.round((now - start) / 100) / 10 };
      }
      // Look again soon, and right when the stability window ends.
      const due = steady ? steady.since + c.windowMs - now : 500;
      await sleep(Math.min(500, Math.max(0, due), Math.max(0, deadline - now)), signal);
    }
  },
});
