/** The swarm an engine is in: info, init, join (as told by a manager engine), join token, leave. */
import Type from 'typebox';
import { reword, ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { engineError } from '../../docker/errors.ts';
import { initSwarm, joinSwarm, joinToken, leaveSwarm, swarmState } from '../../docker/swarm/cluster.ts';

const SwarmStateOut = Type.Object({
  state: Type.String(),
  role: Type.String(),
  node_id: Type.Optional(Type.String()),
  node_addr: Type.Optional(Type.String()),
  cluster_id: Type.Optional(Type.String()),
  created: Type.Optional(Type.String()),
  nodes: Type.Optional(Type.Integer()),
  managers: Type.Optional(Type.Integer()),
  manager_addrs: Type.Optional(Type.Array(Type.String())),
  error: Type.Optional(Type.String()),
});

/**
 * An address the engine takes for a swarm: an IP, an IP:port or an interface name, maybe with a port
 * ('10.0.0.5', '[fd00::1]:2377', 'eth0:2377'). Checked before the user is asked about the call: a
 * blank or a control character could only fail.
 */
const ADDR = {
  minLength: 1,
  maxLength: 256,
  pattern: '^[A-Za-z0-9_.:%@\\[\\]-]+$',
  expects: "an IP address or interface name, maybe with a port, e.g. '10.0.0.5' or 'eth0:2377'",
};

const Addr = (description: string) => Type.Optional(Type.String({ ...ADDR, description }));

export const swarmInfo = defineTool({
  name: 'docker_swarm_info',
  title: 'Swarm info',
  description: "The engine's swarm: state, role, node and manager counts (never join tokens).",
  safety: 'safe',
  idempotent: true,
  input: Type.Object({}, { additionalProperties: false }),
  output: SwarmStateOut,
  handler: async (_args, { engine, signal }) => {
    // The other tools' requests are refused for Podman at the engine boundary; this one reads /info.
    if (engine.info()?.kind === 'podman')
      throw new ToolError('invalid_argument', `engine '${engine.name}' is Podman, which has no Swarm API`, {
        hint: 'Use a Docker engine for Swarm.',
        retryable: false,
      });
    return swarmState(engine.docker, signal);
  },
});

export const swarmInit = defineTool({
  name: 'docker_swarm_init',
  title: 'Init swarm',
  description: 'Start a swarm with this engine as its manager.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object(
    {
      advertise_addr: Type.String({ ...ADDR, description: 'IP other nodes reach' }),
      listen_addr: Addr('Default: advertise_addr'),
    },
    { additionalProperties: false },
  ),
  output: SwarmStateOut,
  handler: async (args, { engine: { docker }, signal }) => {
    await initSwarm(docker, args, signal);
    return swarmState(docker, signal);
  },
});

export const swarmJoin = defineTool({
  name: 'docker_swarm_join',
  title: 'Join swarm',
  description: 'Join the swarm of manager_engine (a configured engine); the token never leaves the server.',
  safety: 'moderate',
  idempotent: false,
  // As a manager the node controls the whole swarm: the manager token is destructive to hand out.
  escalate: { role: { manager: 'destructive' } },
  // The join token is fetched from the manager engine: that engine must allow giving it out.
  actsOn: { manager_engine: 'docker_swarm_join_token' },
  needsEngines: true,
  input: Type.Object(
    {
      manager_engine: Type.String({ minLength: 1, maxLength: 256 }),
      role: Type.Optional(Type.Enum(['worker', 'manager'])),
      advertise_addr: Addr('IP other nodes reach'),
      listen_addr: Addr('Default: advertise_addr'),
    },
    { additionalProperties: false },
  ),
  output: SwarmStateOut,
  handler: async (args, { engine, engines, signal }) => {
    const entry = engines?.find((e) => e.name === args.manager_engine);
    if (!entry)
      throw new ToolError('not_found', `engine '${args.manager_engine}' is not one you may use`, {
        hint: `Use one of: ${(engines ?? []).map((e) => e.name).join(', ') || 'none'} (see docker_list_engines).`,
      });
    if (entry.name === engine.name)
      throw new ToolError('invalid_argument', 'manager_engine is the engine that would join', {
        hint: 'Pass engine: the engine to join, and manager_engine: a manager of the swarm.',
      });
    // A tool that reports on every engine is not connected first: connect both here.
    const onManager = fromEngine(entry.name);
    const [joining, manager] = await Promise.all([
      engine.client(signal),
      entry.access.client(signal).catch((e: unknown) => {
        throw onManager(e);
      }),
    ]);
    await joinSwarm(joining, manager, { ...args, role: args.role ?? 'worker' }, signal, onManager);
    return swarmState(joining, signal);
  },
});

/** A failure on another engine than the call's, told as that engine's (`engine 'NAME': …`). */
const fromEngine =
  (name: string) =>
  (e: unknown): unknown => {
    const error = e instanceof ToolError ? e : engineError(e);
    if (!error || error.message.startsWith(`engine '${name}': `)) return error ?? e;
    return reword(error, (m) => `engine '${name}': ${m}`);
  };

export const swarmJoinToken = defineTool({
  name: 'docker_swarm_join_token',
  title: 'Swarm join token',
  description: 'Join token and manager addresses for a node outside this server.',
  safety: 'moderate',
  idempotent: true,
  escalate: { role: { manager: 'destructive' } },
  secretResult: true,
  input: Type.Object(
    {
      role: Type.Optional(Type.Enum(['worker', 'manager'])),
      rotate: Type.Optional(Type.Boolean({ description: 'Replace the token first' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ role: Type.String(), token: Type.String(), managers: Type.Array(Type.String()) }),
  handler: async ({ role, rotate }, { engine: { docker }, signal }) => {
    const r = role ?? 'worker';
    return { role: r, ...(await joinToken(docker, r, signal, rotate ?? false)) };
  },
});

export const swarmLeave = defineTool({
  name: 'docker_swarm_leave',
  title: 'Leave swarm',
  description: 'Leave the swarm; a manager needs force (quorum may be lost).',
  safety: 'destructive',
  idempotent: false,
  input: Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
  output: SwarmStateOut,
  preview: async ({ force }, { engine: { docker }, signal }) => {
    const s = await swarmState(docker, signal);
    if (s.state !== 'active')
      return { action: `leave the swarm (this engine is ${s.state}: nothing to leave)` };
    const managers = s.managers ?? 0;
    // Raft needs a majority of the managers there were: one leaving from one or two loses it.
    const quorum =
      s.role !== 'manager'
        ? ''
        : managers <= 1
          ? '; it is the only manager: the swarm goes with it'
          : managers - 1 < Math.floor(managers / 2) + 1
            ? `; one of ${managers} managers: the rest lose their quorum`
            : `; one of ${managers} managers`;
    return {
      action: `this engine (node ${s.node_id?.slice(0, 12) ?? '?'}, a ${s.role}) leaves swarm ${s.cluster_id?.slice(0, 12) ?? ''}${quorum}; its service tasks stop${force ? '; forced' : ''}`,
    };
  },
  handler: async ({ force }, { engine: { docker }, signal }) => {
    await leaveSwarm(docker, force ?? false, signal);
    return swarmState(docker, signal);
  },
});
