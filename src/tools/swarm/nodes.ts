/** Swarm nodes, seen from a manager: list, inspect, update (availability, role, labels), remove. */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { inspectNode, listNodes, nodeRow, removeNode, updateNode } from '../../docker/swarm/nodes.ts';
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
  handler: async ({ node, ...change }, { engine: { docker }, signal }) => ({
    ...nodeRow(await updateNode(docker, node, change, signal)),
  }),
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
  handler: async ({ node, force }, { engine: { docker }, signal }) =>
    removeNode(docker, node, force ?? false, signal),
});
