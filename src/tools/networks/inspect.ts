/** Read-only views of networks: list and inspect. */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { shortId } from '../../docker/names.ts';
import { inspectNetwork } from '../../docker/resolve.ts';
import { engineFilters, FilterMap, Full, Limit, Total, totalOf } from '../params.ts';
import { NetworkName, NetworkRef, networkSummary } from './ref.ts';

const NetworkRow = Type.Object({
  id: Type.String(),
  name: NetworkName(),
  driver: Type.String(),
  scope: Type.String(),
  internal: Type.Optional(Type.Boolean()),
  subnets: Type.Optional(Type.Array(Type.String())),
});

export const listNetworks = defineTool({
  name: 'docker_list_networks',
  lists: 'network',
  title: 'List networks',
  description: 'List networks, one compact row each.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      filters: FilterMap('e.g. {"driver":["bridge"]}'),
      limit: Limit,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    networks: Type.Array(NetworkRow),
    count: Type.Integer({ description: 'Rows returned' }),
    total: Total,
  }),
  narrowHint: 'Use filters (name, label, driver, type) or limit.',
  // The engine takes any text as a network name, newlines and escapes included.
  screened: ['networks.*.name'],
  handler: async ({ filters, limit }, { engine: { docker }, signal, limits }) => {
    const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
    const all = await docker.listNetworks({ filters: engineFilters(filters), abortSignal: signal });
    // The engine lists in no particular order; by name reads best and pages predictably.
    const networks = all
      .sort((a, b) => a.Name.localeCompare(b.Name))
      .slice(0, max)
      .map((n) => {
        const subnets = (n.IPAM?.Config ?? []).flatMap((c) => (c.Subnet ? [c.Subnet] : []));
        return {
          id: shortId(n.Id),
          name: n.Name,
          driver: n.Driver,
          scope: n.Scope,
          ...(n.Internal && { internal: true }),
          ...(subnets.length > 0 && { subnets }),
        };
      });
    return { networks, count: networks.length, ...totalOf(all.length, networks.length) };
  },
});

export const inspectNetworkTool = defineTool({
  name: 'docker_inspect_network',
  title: 'Inspect network',
  description: "A network's driver, subnets, options and containers.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ network_id: NetworkRef, full: Full }, { additionalProperties: false }),
  output: Type.Object({}, { additionalProperties: true }),
  // Whoever created the network chose these, as any text; the full document has them capitalised.
  screened: ['name', 'labels', 'options', 'Name', 'Labels', 'Options'],
  handler: async ({ network_id, full }, { engine: { docker }, signal }) => {
    const info = await inspectNetwork(docker, network_id, signal);
    return full ? (info as unknown as Record<string, unknown>) : networkSummary(info);
  },
});
