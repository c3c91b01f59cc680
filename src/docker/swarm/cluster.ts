/**
 * The swarm an engine belongs to: what it is (never its join tokens), starting one, joining one as
 * told by a manager this server reaches (so a token never passes through a caller), a join token for
 * nodes outside this server, and leaving.
 */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import { swarmRequest } from './api.ts';

interface InfoSwarm {
  NodeID?: string;
  NodeAddr?: string;
  LocalNodeState?: string;
  ControlAvailable?: boolean;
  Error?: string;
  RemoteManagers?: { NodeID?: string; Addr?: string }[] | null;
  Nodes?: number;
  Managers?: number;
  Cluster?: { ID?: string; CreatedAt?: string };
}

export interface SwarmState {
  /** inactive, pending, active, error, locked. */
  state: string;
  role: 'manager' | 'worker' | 'none';
  node_id?: string;
  node_addr?: string;
  cluster_id?: string;
  created?: string;
  /** Counts a manager sees. */
  nodes?: number;
  managers?: number;
  manager_addrs?: string[];
  error?: string;
}

/** What the engine says of its swarm (GET /info), tokens never included. */
export async function swarmState(docker: Dockerode, signal: AbortSignal): Promise<SwarmState> {
  const info = await swarmRequest<{ Swarm?: InfoSwarm }>(docker, { path: '/info' }, signal);
  const s = info.Swarm ?? {};
  const state = s.LocalNodeState || 'inactive';
  const active = state === 'active';
  const manager = active && !!s.ControlAvailable;
  const addrs = (s.RemoteManagers ?? []).map((m) => m.Addr ?? '').filter(Boolean);
  return {
    state,
    role: !active ? 'none' : manager ? 'manager' : 'worker',
    ...(s.NodeID && { node_id: s.NodeID }),
    ...(s.NodeAddr && { node_addr: s.NodeAddr }),
    ...(s.Cluster?.ID && { cluster_id: s.Cluster.ID }),
    ...(s.Cluster?.CreatedAt && { created: s.Cluster.CreatedAt }),
    ...(manager && { nodes: s.Nodes ?? 0, managers: s.Managers ?? 0 }),
    ...(addrs.length > 0 && { manager_addrs: addrs }),
    ...(s.Error && { error: s.Error }),
  };
}

/** 'ADDR' → 'ADDR:port' unless it has one ('[v6]:p', 'v4:p', or an interface name left as is). */
export const withPort = (addr: string, port: number): string =>
  /^\[.*\]:\d+$/.test(addr) || /^[^:]+:\d+$/.test(addr)
    ? addr
    : addr.includes(':')
      ? `[${addr}]:${port}`
      : `${addr}:${port}`;

export interface InitArgs {
  advertise_addr: string;
  /** Default: the advertise address, so nothing listens on every interface. */
  listen_addr?: string;
  data_path_addr?: string;
  force_new_cluster?: boolean;
}

/** Starts a swarm with this engine as its first manager; answers the node ID. */
export async function initSwarm(docker: Dockerode, a: InitArgs, signal: AbortSignal): Promise<string> {
  return swarmRequest<string>(
    docker,
    {
      path: '/swarm/init',
      method: 'POST',
      body: {
        AdvertiseAddr: a.advertise_addr,
        ListenAddr: withPort(a.listen_addr ?? a.advertise_addr, 2377),
        ...(a.data_path_addr && { DataPathAddr: a.data_path_addr }),
        ...(a.force_new_cluster && { ForceNewCluster: true }),
      },
    },
    signal,
  );
}

export type SwarmRole = 'worker' | 'manager';

/** The token a node needs to join as `role`, and the managers' addresses (GET /swarm: managers only). */
export async function joinToken(
  docker: Dockerode,
  role: SwarmRole,
  signal: AbortSignal,
  rotate = false,
): Promise<{ token: string; managers: string[] }> {
  if (rotate) {
    const now = await swarmRequest<{ Version?: { Index: number }; Spec: unknown }>(
      docker,
      { path: '/swarm' },
      signal,
    );
    await swarmRequest(
      docker,
      {
        path: '/swarm/update',
        method: 'POST',
        query: {
          version: now.Version?.Index ?? 0,
          [role === 'manager' ? 'rotateManagerToken' : 'rotateWorkerToken']: true,
        },
        body: now.Spec,
      },
      signal,
    );
  }
  const sw = await swarmRequest<{ JoinTokens?: { Worker?: string; Manager?: string } }>(
    docker,
    { path: '/swarm' },
    signal,
  );
  const token = role === 'manager' ? sw.JoinTokens?.Manager : sw.JoinTokens?.Worker;
  if (!token) throw new ToolError('internal', 'the manager answered no join token');
  const state = await swarmState(docker, signal);
  const managers = state.manager_addrs ?? (state.node_addr ? [withPort(state.node_addr, 2377)] : []);
  return { token, managers };
}

export interface JoinArgs {
  role: SwarmRole;
  advertise_addr?: string;
  listen_addr?: string;
  data_path_addr?: string;
}

/**
 * Joins `docker`'s engine to the swarm `manager` manages: the token and addresses are read from the
 * manager here and go straight to the joining engine. `fromManager` turns a failure on the manager's
 * side into the error its caller shows (one naming that engine).
 */
export async function joinSwarm(
  docker: Dockerode,
  manager: Dockerode,
  a: JoinArgs,
  signal: AbortSignal,
  fromManager: (e: unknown) => unknown = (e) => e,
): Promise<void> {
  let found: { token: string; managers: string[] };
  try {
    found = await joinToken(manager, a.role, signal);
    if (found.managers.length === 0)
      throw new ToolError('conflict', 'it reports no manager address to join', {
        hint: 'Check it with docker_swarm_info on that engine.',
      });
  } catch (e) {
    throw fromManager(e);
  }
  const { token, managers } = found;
  const listen = a.listen_addr ?? a.advertise_addr;
  await swarmRequest(
    docker,
    {
      path: '/swarm/join',
      method: 'POST',
      body: {
        RemoteAddrs: managers,
        JoinToken: token,
        ...(a.advertise_addr && { AdvertiseAddr: a.advertise_addr }),
        ListenAddr: listen ? withPort(listen, 2377) : '0.0.0.0:2377',
        ...(a.data_path_addr && { DataPathAddr: a.data_path_addr }),
      },
    },
    signal,
  );
}

/** Leaves the swarm; a manager needs `force` (it may break the cluster's quorum). */
export async function leaveSwarm(docker: Dockerode, force: boolean, signal: AbortSignal): Promise<void> {
  await swarmRequest(docker, { path: '/swarm/leave', method: 'POST', query: { force } }, signal);
}
