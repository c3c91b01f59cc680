/** Swarm tasks: where each replica runs, its state and the error that stopped it. */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { inspectNode, listNodes } from '../../docker/swarm/nodes.ts';
import { inspectService, listServices } from '../../docker/swarm/services.ts';
import { byTask, listTasks, taskRow } from '../../docker/swarm/tasks.ts';
import { Full, Limit, Total, totalOf } from '../params.ts';
import { Doc, NodeRef, ServiceRef } from './params.ts';

export const taskList = defineTool({
  name: 'docker_task_list',
  title: 'List tasks',
  description: 'Tasks by service, node or desired state: node, state and error of each.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      service: Type.Optional(ServiceRef),
      node: Type.Optional(NodeRef),
      desired_state: Type.Optional(Type.Enum(['running', 'shutdown', 'accepted'])),
      limit: Limit,
      full: Full,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ tasks: Type.Array(Doc), count: Type.Integer(), total: Total }),
  narrowHint: 'Name a service or node, set desired_state: running, or limit.',
  // A full row's bind sources: paths on the nodes' hosts.
  hostDetails: ['tasks.*.Spec.ContainerSpec.Mounts.*.Source'],
  handler: async ({ service, node, desired_state, limit, full }, { engine: { docker }, signal, limits }) => {
    const svc = service ? await inspectService(docker, service, signal) : undefined;
    const nd = node ? await inspectNode(docker, node, signal) : undefined;
    const [tasks, services, nodes] = await Promise.all([
      listTasks(
        docker,
        {
          ...(svc && { service: [svc.ID] }),
          ...(nd && { node: [nd.ID] }),
          ...(desired_state && { 'desired-state': [desired_state] }),
        },
        signal,
      ),
      listServices(docker, {}, signal),
      listNodes(docker, {}, signal),
    ]);
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const serviceNames = new Map(services.map((s) => [s.ID, s.Spec.Name ?? '']));
    const nodeNames = new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? '']));
    if (full) {
      const docs = tasks.slice(0, max) as unknown as Record<string, unknown>[];
      return { tasks: docs, count: docs.length, ...totalOf(tasks.length, docs.length) };
    }
    const rows = tasks
      .map((t) => taskRow(t, serviceNames, nodeNames))
      .sort(byTask)
      .slice(0, max);
    return { tasks: rows.map((r) => ({ ...r })), count: rows.length, ...totalOf(tasks.length, rows.length) };
  },
});
