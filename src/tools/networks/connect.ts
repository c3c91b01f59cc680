/** Attaching containers to networks and detaching them. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { NAME_PATTERN } from '../../docker/names.ts';
import { checkJoinedNetwork } from '../../docker/policy/rules.ts';
import { currentPolicy, pathPolicyOf, ruleContextOf } from '../../docker/policy/scope.ts';
import { inspectContainer, inspectNetwork } from '../../docker/resolve.ts';
import { ContainerRef, MAX_ENTRIES, MAX_NAME } from '../params.ts';
import { asConflict, NetworkName, NetworkRef } from './ref.ts';

const Attachment = Type.Object({
  network: NetworkName(),
  container: Type.String(),
  connected: Type.Boolean(),
  ipv4_address: Type.Optional(Type.String({ description: 'Set once running' })),
  aliases: Type.Optional(Type.Array(Type.String())),
});

function attachment(net: Dockerode.NetworkInspectInfo, info: Dockerode.ContainerInspectInfo) {
  const ep = info.NetworkSettings?.Networks?.[net.Name];
  const aliases = ep?.Aliases ?? [];
  return {
    network: net.Name,
    container: info.Name.replace(/^\//, ''),
    connected: ep !== undefined,
    ...(ep?.IPAddress && { ipv4_address: ep.IPAddress }),
    ...(aliases.length > 0 && { aliases }),
  };
}

export const connectContainer = defineTool({
  name: 'docker_connect_container',
  title: 'Connect container to network',
  description: 'Attach a container to a network.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object(
    {
      network_id: NetworkRef,
      container_id: ContainerRef,
      aliases: Type.Optional(
        Type.Array(Type.String({ pattern: NAME_PATTERN, maxLength: MAX_NAME }), {
          maxItems: MAX_ENTRIES,
          description: 'DNS names on it',
        }),
      ),
      ipv4_address: Type.Optional(
        Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$', description: 'Fixed IP in its subnet' }),
      ),
    },
    { additionalProperties: false },
  ),
  output: Attachment,
  // The engine takes any text as a network's name, newlines and escapes included.
  screened: ['network'],
  handler: async ({ network_id, container_id, aliases, ipv4_address }, { engine, signal }) => {
    const { docker } = engine;
    const podman = engine.info()?.kind === 'podman';
    const net = await inspectNetwork(docker, network_id, signal);
    // The engine guard refuses the host network too, but names the request it sees (/networks/<ID>/connect):
    // the same rule, first, names the argument the caller gave.
    const scope = currentPolicy();
    checkJoinedNetwork(
      network_id,
      net,
      'network_id',
      ruleContextOf(scope, () => pathPolicyOf(scope, engine.facts)),
    );
    const before = await inspectContainer(docker, container_id, signal);
    const name = before.Name.replace(/^\//, '');
    if (before.NetworkSettings?.Networks?.[net.Name])
      throw new ToolError('conflict', `container '${name}' is already connected to network '${net.Name}'`, {
        hint: 'To change its aliases or address, disconnect it first with docker_disconnect_container.',
      });
    if (before.HostConfig?.NetworkMode === 'none' && before.NetworkSettings?.Networks?.none)
      throw new ToolError(
        'conflict',
        `container '${name}' is on network 'none', which excludes every other network`,
        {
          hint: `Disconnect it from 'none' first with docker_disconnect_container (network_id: "none").`,
        },
      );
    // Podman shows no 'none' endpoint to disconnect, and refuses the connect ("invalid network mode").
    if (podman && before.HostConfig?.NetworkMode === 'none')
      throw new ToolError(
        'conflict',
        `container '${name}' is on network 'none', which excludes every other network, and Podman cannot change that`,
        { hint: 'Create the container on the network instead (docker_create_container with network_mode).' },
      );
    await docker
      .getNetwork(net.Id)
      .connect({
        Container: before.Id,
        EndpointConfig: {
          ...(aliases?.length && { Aliases: aliases }),
          ...(ipv4_address && { IPAMConfig: { IPv4Address: ipv4_address } }),
        },
        abortSignal: signal,
      } as Dockerode.NetworkConnectOptions)
      .catch(asConflict('Check the container and network with docker_inspect_container.'));
    return attachment(net, await inspectContainer(docker, before.Id, signal));
  },
});

export const disconnectContainer = defineTool({
  name: 'docker_disconnect_container',
  title: 'Disconnect container from network',
  description: 'Detach a container from a network; no-op if not attached.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object(
    {
      network_id: NetworkRef,
      container_id: ContainerRef,
      force: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  output: Attachment,
  screened: ['network'],
  handler: async ({ network_id, container_id, force }, { engine: { docker }, signal }) => {
    const net = await inspectNetwork(docker, network_id, signal);
    const before = await inspectContainer(docker, container_id, signal);
    if (!before.NetworkSettings?.Networks?.[net.Name]) return attachment(net, before);
    await docker
      .getNetwork(net.Id)
      .disconnect({ Container: before.Id, Force: force, abortSignal: signal })
      .catch(asConflict('Check the container and network with docker_inspect_container.'));
    return attachment(net, await inspectContainer(docker, before.Id, signal));
  },
});
