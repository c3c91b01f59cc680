/**
 * Swarm tasks: the list by service, node and desired state, and the compact row of each (service
 * name and slot, node hostname, desired and current state, the error that stopped it).
 */
import type Dockerode from 'dockerode';
import { filtersQuery, swarmRequest } from './api.ts';

export interface TaskDoc {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  Slot?: number;
  /** Jobs only: the run of the job this task belongs to. */
  JobIteration?: { Index?: number };
  DesiredState?: string;
  Spec?: { ContainerSpec?: { Image?: string } } & Record<string, unknown>;
  Status?: {
    State?: string;
    Message?: string;
    Err?: string;
    Timestamp?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
  CreatedAt?: string;
  UpdatedAt?: string;
}

export interface TaskFilters {
  service?: string[];
  node?: string[];
  'desired-state'?: string[];
  label?: string[];
  id?: string[];
}

export function listTasks(docker: Dockerode, f: TaskFilters, signal: AbortSignal): Promise<TaskDoc[]> {
  const filters = filtersQuery({ ...f });
  return swarmRequest<TaskDoc[]>(docker, { path: '/tasks', query: filters ? { filters } : {} }, signal);
}

export interface TaskRow {
  id: string;
  /** '<service>.<slot>' (replicated) or '<service>.<node id>' (global), as `docker service ps`. */
  name: string;
  image: string;
  node: string;
  desired: string;
  state: string;
  /** When it entered that state. */
  since?: string;
  error?: string;
}

/** The compact row of a task; `services` and `nodes` map IDs to names. */
export function taskRow(t: TaskDoc, services: Map<string, string>, nodes: Map<string, string>): TaskRow {
  const service = services.get(t.ServiceID ?? '') ?? (t.ServiceID ?? '').slice(0, 12);
  const node = nodes.get(t.NodeID ?? '') ?? (t.NodeID ?? '').slice(0, 12);
  return {
    id: t.ID.slice(0, 12),
    name: `${service}.${t.Slot ?? (t.NodeID ?? '').slice(0, 12)}`,
    image: String(t.Spec?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, ''),
    node,
    desired: t.DesiredState ?? '',
    state: t.Status?.State ?? '',
    ...(t.Status?.Timestamp && { since: t.Status.Timestamp }),
    ...(t.Status?.Err && { error: t.Status.Err }),
  };
}

/** Newest first, as `docker service ps`: by service name and slot, then by time. */
export const byTask = (a: TaskRow, b: TaskRow): number =>
  a.name.localeCompare(b.name, undefined, { numeric: true }) ||
  String(b.since).localeCompare(String(a.since));
