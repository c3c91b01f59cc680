/** Swarm nodes on a manager: list, resolve (ID, ID prefix or hostname), update in place, remove. */
import type Dockerode from 'dockerode';
import { isMissing } from '../errors.ts';
import { filtersQuery, swarmNotFound, swarmRequest } from './api.ts';

export interface NodeDoc {
  ID: string;
  Version?: { Index: number };
  Spec: { Name?: string; Labels?: Record<string, string>; Role?: string; Availability?: string };
  Description?: {
    Hostname?: string;
    Engine?: { EngineVersion?: string; Labels?: Record<string, string> };
    Platform?: { Architecture?: string; OS?: string };
    Resources?: { NanoCPUs?: number; MemoryBytes?: number };
  };
  Status?: { State?: string; Addr?: string; Message?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string };
}

export interface NodeFilters {
  role?: string[];
  membership?: string[];
  name?: string[];
  label?: string[];
  'node.label'?: string[];
  id?: string[];
}

export function listNodes(docker: Dockerode, f: NodeFilters, signal: AbortSignal): Promise<NodeDoc[]> {
  const filters = filtersQuery({ ...f });
  return swarmRequest<NodeDoc[]>(docker, { path: '/nodes', query: filters ? { filters } : {} }, signal);
}

export async function inspectNode(docker: Dockerode, ref: string, signal: AbortSignal): Promise<NodeDoc> {
  try {
    return await swarmRequest<NodeDoc>(docker, { path: `/nodes/${encodeURIComponent(ref)}` }, signal);
  } catch (e) {
    if (!isMissing(e)) throw e;
    const names = await listNodes(docker, {}, signal).then(
      (all) => all.map((n) => n.Description?.Hostname ?? ''),
      () => [],
    );
    throw swarmNotFound('node', ref, names, 'docker_node_list');
  }
}

export interface NodeRow {
  id: string;
  hostname: string;
  role: string;
  availability: string;
  state: string;
  /** leader, reachable or unreachable (managers only). */
  manager?: string;
  addr?: string;
  engine?: string;
  labels?: Record<string, string>;
}

export function nodeRow(n: NodeDoc): NodeRow {
  const labels = n.Spec.Labels ?? {};
  return {
    id: n.ID.slice(0, 12),
    hostname: n.Description?.Hostname ?? '',
    role: n.Spec.Role ?? '',
    availability: n.Spec.Availability ?? '',
    state: n.Status?.State ?? '',
    ...(n.ManagerStatus && {
      manager: n.ManagerStatus.Leader ? 'leader' : (n.ManagerStatus.Reachability ?? ''),
    }),
    ...(n.Status?.Addr && { addr: n.Status.Addr }),
    ...(n.Description?.Engine?.EngineVersion && { engine: n.Description.Engine.EngineVersion }),
    ...(Object.keys(labels).length > 0 && { labels }),
  };
}

export interface NodeChange {
  availability?: 'active' | 'pause' | 'drain';
  role?: 'worker' | 'manager';
  /** Labels to set; a null value removes the label. */
  labels?: Record<string, string | null>;
}

/** Changes a node's spec in place, at the version read. */
export async function updateNode(
  docker: Dockerode,
  ref: string,
  c: NodeChange,
  signal: AbortSignal,
): Promise<NodeDoc> {
  const now = await inspectNode(docker, ref, signal);
  const labels = { ...(now.Spec.Labels ?? {}) };
  for (const [k, v] of Object.entries(c.labels ?? {})) {
    if (v === null) delete labels[k];
    else labels[k] = v;
  }
  const spec = {
    ...now.Spec,
    Labels: labels,
    ...(c.availability && { Availability: c.availability }),
    ...(c.role && { Role: c.role }),
  };
  await swarmRequest(
    docker,
    {
      path: `/nodes/${encodeURIComponent(now.ID)}/update`,
      method: 'POST',
      query: { version: now.Version?.Index ?? 0 },
      body: spec,
    },
    signal,
  );
  return inspectNode(docker, now.ID, signal);
}

export async function removeNode(docker: Dockerode, ref: string, force: boolean, signal: AbortSignal) {
  const now = await inspectNode(docker, ref, signal);
  await swarmRequest(
    docker,
    { path: `/nodes/${encodeURIComponent(now.ID)}`, method: 'DELETE', query: { force } },
    signal,
  );
  return { id: now.ID.slice(0, 12), hostname: now.Description?.Hostname ?? '' };
}
