/** Swarm nodes, seen from a manager: list, inspect, update (availability, role, labels), remove. */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { swarmState } from '../../docker/swarm/cluster.ts';
import { inspectNode, listNodes, nodeRow, removeNode, updateNode } from '../../docker/swarm/nodes.ts';
import { listTasks } from '../../docker/swarm/tasks.ts';
import { sameAsAsked } from '../asked.ts';
import { FilterMap, Full, Limit, MAX_VALUE, mapBounds, Total, totalOf } from '../params.ts';
import { Doc, NodeRef } from './params.ts';

export const nodeList = defineTool({
  name: 'docker_node_list',
  title: 'List nodes',
  description: "The swarm's nodes: hostname, role, availability, state, manager status.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    { filters: FilterMap('e.g. {"role":["worker"]}'), limit: Limit, full: Full },
    { additionalProperties: false },
  ),
  output: Type.Object({ nodes: Type.Array(Doc), count: Type.Integer(), total: Total }),
  narrowHint: 'Use filters (role, name, label) or limit.',
  handler: async ({ filters, limit, full }, { engine: { docker }, signal, limits }) => {
    const all = await listNodes(docker, filters ?? {}, signal);
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const nodes = all
      .sort((a, b) => (a.Description?.Hostname ?? '').localeCompare(b.Description?.Hostname ?? ''))
      .slice(0, max)
      .map((n) => (full ? (n as unknown as Record<string, unknown>) : { ...nodeRow(n) }));
    return { nodes, count: nodes.length, ...totalOf(all.length, nodes.length) };
  },
});

export const nodeInspect = defineTool({
  name: 'docker_node_inspect',
  title: 'Inspect node',
  description: 'One node: role, availability, state, address, engine, labels, resources.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ node: NodeRef, full: Full }, { additionalProperties: false }),
  output: Doc,
  handler: async ({ node, full }, { engine: { docker }, signal }) => {
    const n = await inspectNode(docker, node, signal);
    if (full) return n as unknown as Record<string, unknown>;
    const r = n.Description?.Resources;
    return {
      ...nodeRow(n),
      ...(r?.NanoCPUs && { cpus: r.NanoCPUs / 1e9 }),
      ...(r?.MemoryBytes && { memory_bytes: r.MemoryBytes }),
      ...(n.Description?.Platform && {
        platform: `${n.Description.Platform.OS}/${n.Description.Platform.Architecture}`,
      }),
    };
  },
});

export const nodeUpdate = defineTool({
  name: 'docker_node_update',
  title: 'Update node',
  description: 'Set availability (drain moves tasks away), role, or labels (null removes).',
  safety: 'moderate',
  idempotent: true,
  // A promoted node controls the whole swarm, as a manager join does; a demoted manager leaves the
  // Raft group, as a manager leaving does (fewer failures tolerated; this server's own engine demoted
  // can no longer manage the swarm). Either way: destructive, the preview saying which.
  escalate: { role: 'destructive' },
  input: Type.Object(
    {
      node: NodeRef,
      availability: Type.Optional(Type.Enum(['active', 'pause', 'drain'])),
      role: Type.Optional(Type.Enum(['worker', 'manager'])),
      labels: Type.Optional(
        Type.Record(
          Type.String(),
          Type.Union([Type.String({ maxLength: MAX_VALUE }), Type.Null()]),
          mapBounds(),
        ),
      ),
    },
    { additionalProperties: false },
  ),
  output: Doc,
  preview: async ({ node, role, availability, labels }, { engine: { docker }, signal }) => {
    const n = await inspectNode(docker, node, signal);
    const { id, hostname, role: was } = nodeRow(n);
    const named = `node '${hostname}' (${id})`;
    let action = `update ${named}`;
    if (role && role === was) action = `${named} is a ${was} already: its role stays`;
    else if (role === 'manager')
      action = `promote ${named} to manager: it will control the whole swarm (services, secrets, nodes)`;
    else if (role === 'worker') {
      const here = await swarmState(docker, signal);
      const m = here.managers ?? 0;
      const own =
        here.node_id === n.ID ? ', the node of this engine, which can then no longer manage the swarm' : '';
      // Raft keeps a quorum through the loss of a minority: (m - 1) / 2 managers, rounded down.
      action =
        m <= 1
          ? `demote ${named}, the swarm's only manager, to worker (the engine refuses: a swarm needs a manager)`
          : `demote manager ${named}${own} to worker: managers go from ${m} to ${m - 1}, and the swarm survives the loss of ${Math.floor((m - 2) / 2)} instead of ${Math.floor((m - 1) / 2)}`;
    }
    const also = [
      availability && `availability ${availability}`,
      labels && `labels ${Object.keys(labels).join(', ')}`,
    ].filter(Boolean);
    return { action: also.length ? `${action}; ${also.join('; ')}` : action, plan: { id: n.ID } };
  },
  handler: async ({ node, ...change }, { engine: { docker }, signal, confirmed }) => {
    // Confirmed: the node the question named, by its ID.
    let ref = node;
    if (confirmed !== undefined) {
      const n = await inspectNode(docker, node, signal);
      sameAsAsked(confirmed, 'id', n.ID, `node '${node}'`, (v) => String(v).slice(0, 12));
      ref = n.ID;
    }
    return { ...nodeRow(await updateNode(docker, ref, change, signal)) };
  },
});

export const nodeRemove = defineTool({
  name: 'docker_node_remove',
  title: 'Remove node',
  description: 'Remove a node from the swarm; force removes one that is still up.',
  safety: 'destructive',
  idempotent: false,
  input: Type.Object(
    { node: NodeRef, force: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  output: Type.Object({ id: Type.String(), hostname: Type.String() }),
  preview: async ({ node, force }, { engine: { docker }, signal }) => {
    const n = await inspectNode(docker, node, signal);
    const r = nodeRow(n);
    const running = await listTasks(docker, { node: [n.ID], 'desired-state': ['running'] }, signal);
    const how = [
      r.role + (r.manager ? ` (${r.manager})` : ''),
      r.availability,
      r.state,
      `${running.length} task(s) running there`,
      force && 'forced',
    ].filter(Boolean);
    return {
      action: `remove node '${r.hostname}' (${r.id}; ${how.join('; ')}) from the swarm`,
      objects: [`node ${r.hostname}`],
      plan: { id: n.ID },
    };
  },
  handler: async ({ node, force }, { engine: { docker }, signal, confirmed }) => {
    if (confirmed !== undefined) {
      const n = await inspectNode(docker, node, signal);
      sameAsAsked(confirmed, 'id', n.ID, `node '${node}'`, (v) => String(v).slice(0, 12));
      return removeNode(docker, n.ID, force ?? false, signal);
    }
    return removeNode(docker, node, force ?? false, signal);
  },
});
