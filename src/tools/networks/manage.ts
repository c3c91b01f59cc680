/** Creating, removing and pruning networks. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { engineError } from '../../docker/errors.ts';
import { NAME_EXPECTS, NAME_PATTERN, shortId } from '../../docker/names.ts';
import { overlaps, parseNet } from '../../docker/policy/addresses.ts';
import { inspectNetwork } from '../../docker/resolve.ts';
import { sameAsAsked } from '../asked.ts';
import { DriverName, engineFilters, PruneFilters, StringMap } from '../params.ts';
import {
  checkNetworkPruneFilters,
  networkCandidates,
  networkPreview,
  removePlannedNetworks,
  strandedBy,
} from './prune.ts';
import { asConflict, NetworkName, NetworkRef, NetworkSummary, networkSummary, PREDEFINED } from './ref.ts';

const Cidr = (description: string) =>
  Type.Optional(Type.String({ pattern: '^[0-9a-fA-F.:]+/\\d{1,3}$', maxLength: 64, description }));

const SHOWN_NAME = new RegExp(NAME_PATTERN);
/** A network as an error names it: its name when plain, else its short ID (the name is any text). */
const shownNetwork = (n: Dockerode.NetworkInspectInfo) =>
  SHOWN_NAME.test(n.Name) ? `'${n.Name}'` : shortId(n.Id);

/**
 * The engine's refusals of a create, reworded to name the argument and the fix. It answers 403 for a
 * subnet another network holds and for a second host or null network, which the generic mapping
 * would call policy_denied (this server's settings); and not found for IPv6 without a subnet.
 */
async function createRefusal(
  e: unknown,
  args: { subnet?: string; driver?: string; enable_ipv6?: boolean },
  docker: Dockerode,
  signal: AbortSignal,
): Promise<unknown> {
  const message = (e as { json?: { message?: string } }).json?.message ?? '';
  if (/pool overlaps/i.test(message) && args.subnet) {
    const mine = parseNet(args.subnet);
    const holders = mine
      ? (await docker.listNetworks({ abortSignal: signal }).catch(() => [])).filter((n) =>
          (n.IPAM?.Config ?? []).some((c) => {
            const theirs = c.Subnet ? parseNet(c.Subnet) : undefined;
            return theirs !== undefined && overlaps(mine, theirs);
          }),
        )
      : [];
    const by = holders.length > 0 ? ` of network ${holders.slice(0, 5).map(shownNetwork).join(', ')}` : '';
    return new ToolError(
      'conflict',
      `invalid argument 'subnet': ${args.subnet} overlaps the subnet${by} on this engine`,
      {
        hint: 'Pick a range no network uses (docker_list_networks shows their subnets), or leave subnet out and let the engine pick.',
      },
    );
  }
  if (/only one instance of .* network is allowed/i.test(message)) {
    // The engine's own 'host' (driver host) and 'none' (driver null) networks are the only ones.
    const own = /null/i.test(args.driver ?? '') ? 'none' : 'host';
    return new ToolError(
      'invalid_argument',
      `invalid argument 'driver': the engine allows one network of driver '${args.driver}', its own '${own}' network`,
      { hint: 'Leave driver out for a bridge network (add internal: true to keep it off the outside).' },
    );
  }
  if (args.enable_ipv6 && /IPv6 address pool/i.test(message))
    return new ToolError(
      'invalid_argument',
      "invalid argument 'enable_ipv6': the engine has no IPv6 range of its own to pick from, so it needs an IPv6 subnet",
      {
        hint: 'Give subnet as a private IPv6 range (e.g. fd12:3456:789a::/64); the engine then picks the IPv4 side. Or leave enable_ipv6 out.',
      },
    );
  // Other 403s are states of the engine's networks too, not this server's policy.
  try {
    asConflict("Check the engine's networks with docker_list_networks.")(e);
  } catch (reworded) {
    return reworded;
  }
  return e;
}

export const createNetwork = defineTool({
  name: 'docker_create_network',
  title: 'Create network',
  description: 'Create a network; the engine picks a subnet unless given.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object(
    {
      name: Type.String({
        pattern: NAME_PATTERN,
        expects: NAME_EXPECTS,
        maxLength: 128,
      }),
      driver: DriverName('Default bridge'),
      internal: Type.Optional(Type.Boolean({ description: 'No outside access' })),
      attachable: Type.Optional(Type.Boolean({ description: 'Swarm: manual attach' })),
      labels: StringMap(),
      subnet: Cidr('CIDR, e.g. 10.10.0.0/24'),
      gateway: Type.Optional(
        Type.String({ pattern: '^[0-9a-fA-F.:]+$', maxLength: 64, expects: 'an IP address, e.g. 10.10.0.1' }),
      ),
      ip_range: Cidr('CIDR for container IPs'),
      options: StringMap('Driver options'),
      enable_ipv6: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  output: NetworkSummary,
  handler: async (args, { engine: { docker }, signal }) => {
    const { name, subnet, gateway, ip_range } = args;
    if ((gateway || ip_range) && !subnet)
      throw new ToolError(
        'invalid_argument',
        `invalid argument '${gateway ? 'gateway' : 'ip_range'}': it needs a subnet`,
        {
          hint: 'Give subnet too (e.g. 10.10.0.0/24), or leave all three out and let the engine pick.',
        },
      );
    try {
      await docker.createNetwork({
        Name: name,
        // Without it the engine happily creates a second network of the same name.
        CheckDuplicate: true,
        Driver: args.driver ?? 'bridge',
        Internal: args.internal,
        Attachable: args.attachable,
        EnableIPv6: args.enable_ipv6,
        Labels: args.labels,
        Options: args.options,
        ...(subnet && {
          IPAM: {
            Driver: 'default',
            Config: [
              {
                Subnet: subnet,
                ...(gateway && { Gateway: gateway }),
                ...(ip_range && { IPRange: ip_range }),
              },
            ],
          },
        }),
        abortSignal: signal,
      });
    } catch (e) {
      // Docker answers 409; Podman 500 with 'network already exists' (errors.ts maps both to conflict).
      if (engineError(e)?.kind === 'conflict')
        throw new ToolError('conflict', `network '${name}' already exists`, {
          hint: 'Pick another name, or use the existing one (docker_inspect_network).',
        });
      throw await createRefusal(e, args, docker, signal);
    }
    return networkSummary(await inspectNetwork(docker, name, signal));
  },
});

/**
 * Refuses a network the engine would refuse, or whose removal would strand containers: run before the
 * question too, so a refusal needs no one's approval.
 */
async function checkRemovable(docker: Dockerode, net: Dockerode.NetworkInspectInfo, signal: AbortSignal) {
  if (PREDEFINED.has(net.Name))
    throw new ToolError(
      'invalid_argument',
      `network '${net.Name}' is predefined by the engine and cannot be removed`,
      {
        hint: 'Only user-defined networks can be removed; see them with docker_list_networks (filters: {"type":["custom"]}).',
      },
    );
  // Stopped containers count too: the engine would remove the network and they would fail to start.
  const attached = await docker.listContainers({
    all: true,
    // A container never started has no network ID yet; it matches by name.
    filters: JSON.stringify({ network: [net.Id, net.Name] }),
    abortSignal: signal,
  });
  if (attached.length > 0) {
    const names = attached.map((c) => `'${(c.Names?.[0] ?? shortId(c.Id)).replace(/^\//, '')}'`);
    throw new ToolError(
      'conflict',
      `network '${net.Name}' has ${names.length} attached container(s): ${names.slice(0, 10).join(', ')}`,
      { hint: 'Disconnect them with docker_disconnect_container (or remove them), then retry.' },
    );
  }
}

export const removeNetwork = defineTool({
  name: 'docker_remove_network',
  title: 'Remove network',
  description: 'Remove a network no container is attached to.',
  safety: 'destructive',
  idempotent: true,
  input: Type.Object({ network_id: NetworkRef }, { additionalProperties: false }),
  output: Type.Object({ id: Type.String(), name: NetworkName(), removed: Type.Boolean() }),
  // The engine takes any text as a network's name, newlines and escapes included.
  screened: ['name'],
  preview: async ({ network_id }, { engine: { docker }, signal }) => {
    const net = await inspectNetwork(docker, network_id, signal);
    await checkRemovable(docker, net, signal);
    return {
      action: `remove network '${net.Name}' (${shortId(net.Id)})`,
      objects: [net.Name],
      plan: { id: net.Id },
    };
  },
  handler: async ({ network_id }, { engine: { docker }, signal, confirmed }) => {
    const net = await inspectNetwork(docker, network_id, signal);
    sameAsAsked(confirmed, 'id', net.Id, `network '${net.Name}'`, (v) =>
      typeof v === 'string' ? shortId(v) : 'none',
    );
    await checkRemovable(docker, net, signal);
    await docker
      .getNetwork(net.Id)
      .remove({ abortSignal: signal })
      .catch(asConflict('A container attached meanwhile; disconnect it with docker_disconnect_container.'));
    return { id: shortId(net.Id), name: net.Name, removed: true };
  },
});

export const pruneNetworks = defineTool({
  name: 'docker_prune_networks',
  title: 'Prune networks',
  description: 'Remove user-defined networks no running container uses.',
  safety: 'destructive',
  idempotent: true,
  input: Type.Object(
    {
      filters: PruneFilters,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    removed: Type.Array(NetworkName()),
    count: Type.Integer(),
    stranded: Type.Optional(
      Type.Array(Type.String(), { description: 'Stopped containers that were on a removed network' }),
    ),
    left: Type.Optional(
      Type.Array(NetworkName(), { description: 'Unused after the user was asked: not removed' }),
    ),
  }),
  narrowHint: 'Narrow with filters (until, label).',
  screened: ['removed', 'left'],
  preview: async ({ filters }, { engine: { docker }, signal }) => {
    const [candidates, containers] = await Promise.all([
      networkCandidates(docker, filters, signal),
      docker.listContainers({ all: true, abortSignal: signal }),
    ]);
    return networkPreview(candidates, containers);
  },
  handler: async ({ filters }, { engine: { docker }, signal, limits, confirmed }) => {
    checkNetworkPruneFilters(filters);
    // The engine prunes networks only stopped containers use; those containers then fail to start.
    // Say which, so the caller can reconnect them.
    const before = await docker.listContainers({ all: true, abortSignal: signal });
    // Confirmed: exactly the networks the user was shown.
    const plan = Array.isArray(confirmed)
      ? confirmed.filter((i): i is string => typeof i === 'string')
      : undefined;
    const done = plan ? await removePlannedNetworks(docker, plan, filters, signal) : undefined;
    const names = done
      ? done.removed
      : ((await docker.pruneNetworks({ filters: engineFilters(filters), abortSignal: signal }))
          .NetworksDeleted ?? []);
    const stranded = strandedBy(before, new Set(names)).map((s) => s.container);
    return {
      removed: names.slice(0, limits.maxListResults),
      count: names.length,
      ...(stranded.length > 0 && { stranded: stranded.slice(0, limits.maxListResults) }),
      ...(done && done.left.length > 0 && { left: done.left.slice(0, limits.maxListResults) }),
    };
  },
});
