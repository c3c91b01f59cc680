/**
 * Swarm services on a manager: list, resolve a reference (ID, ID prefix or name), create, update in
 * place (the engine wants the whole spec and the version it was read at; an update that lost a race
 * is read and sent again), scale, roll back, remove, and whether a service has converged. Every
 * request passes the engine guard, which checks the spec that will run.
 */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import { isMissing } from '../errors.ts';
import { filtersQuery, swarmNotFound, swarmRequest } from './api.ts';
import { givenArgs, inArgumentTerms } from './service-refusal.ts';
import {
  modeOf,
  replicasOf,
  type ServiceArgs,
  type ServiceDoc,
  type ServiceMode,
  type ServiceSpec,
  serviceSpec,
} from './service-spec.ts';
import { listTasks, type TaskDoc } from './tasks.ts';

export interface ServiceFilters {
  name?: string[];
  label?: string[];
  mode?: ServiceMode[];
  id?: string[];
}

/** Services with their running/desired counts (status=true). */
export function listServices(
  docker: Dockerode,
  f: ServiceFilters,
  signal: AbortSignal,
): Promise<ServiceDoc[]> {
  const filters = filtersQuery({ name: f.name, label: f.label, mode: f.mode, id: f.id });
  return swarmRequest<ServiceDoc[]>(
    docker,
    { path: '/services', query: { status: true, ...(filters && { filters }) } },
    signal,
  );
}

/** The service `ref` names (ID, unique ID prefix or name); not_found names the close ones. */
export async function inspectService(
  docker: Dockerode,
  ref: string,
  signal: AbortSignal,
): Promise<ServiceDoc> {
  try {
    return await swarmRequest<ServiceDoc>(docker, { path: `/services/${encodeURIComponent(ref)}` }, signal);
  } catch (e) {
    if (!isMissing(e)) throw e;
    const names = await listServices(docker, {}, signal).then(
      (all) => all.map((s) => s.Spec.Name ?? ''),
      () => [],
    );
    throw swarmNotFound('service', ref, names, 'docker_service_list');
  }
}

export interface ServiceChange {
  id: string;
  name: string;
  /** What the engine warned about (e.g. an image it could not pin to a digest). */
  warnings?: string[];
}

const changed = (id: string, name: string, warnings: string[] | null | undefined): ServiceChange => ({
  id: id.slice(0, 12),
  name,
  ...(warnings?.length ? { warnings } : {}),
});

/** Creates a service from the caller's arguments. */
export async function createService(
  docker: Dockerode,
  args: ServiceArgs,
  signal: AbortSignal,
): Promise<ServiceChange> {
  const spec = serviceSpec(args);
  return createServiceSpec(docker, spec, signal).catch((e) => {
    throw inArgumentTerms(e, givenArgs(args), `service '${spec.Name}'`);
  });
}

/** Creates a service from a spec (stacks build theirs from a Compose file). */
export async function createServiceSpec(
  docker: Dockerode,
  spec: ServiceSpec,
  signal: AbortSignal,
): Promise<ServiceChange> {
  const r = await swarmRequest<{ ID: string; Warnings?: string[] | null }>(
    docker,
    { path: '/services/create', method: 'POST', body: spec },
    signal,
  );
  return changed(r.ID, spec.Name ?? '', r.Warnings);
}

const OUT_OF_SEQUENCE = /update out of sequence/i;

/**
 * Updates `ref` in place: `change` turns the current spec into the new one. Sent with the version it
 * was read at; if another writer got there first, read and apply again (up to three times).
 */
export async function updateServiceSpec(
  docker: Dockerode,
  ref: string,
  change: (current: ServiceDoc) => ServiceSpec,
  signal: AbortSignal,
  query: Record<string, unknown> = {},
): Promise<ServiceChange> {
  for (let attempt = 0; ; attempt++) {
    const now = await inspectService(docker, ref, signal);
    const spec = change(now);
    try {
      const r = await swarmRequest<{ Warnings?: string[] | null }>(
        docker,
        {
          path: `/services/${encodeURIComponent(now.ID)}/update`,
          method: 'POST',
          query: { version: now.Version?.Index ?? 0, ...query },
          body: spec,
        },
        signal,
      );
      return changed(now.ID, now.Spec.Name ?? '', r?.Warnings);
    } catch (e) {
      const said = String((e as { json?: { message?: string } }).json?.message ?? '');
      if (attempt < 2 && OUT_OF_SEQUENCE.test(said)) continue;
      throw e;
    }
  }
}

/** Updates `ref` from the caller's arguments; `force` restarts its tasks even if nothing changed. */
export function updateService(
  docker: Dockerode,
  ref: string,
  args: ServiceArgs & { force?: boolean },
  signal: AbortSignal,
): Promise<ServiceChange> {
  return updateServiceSpec(
    docker,
    ref,
    (now) => {
      const spec = serviceSpec({ ...args, name: undefined }, now.Spec);
      if (args.force && spec.TaskTemplate)
        spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
      return spec;
    },
    signal,
  ).catch((e) => {
    throw inArgumentTerms(e, givenArgs(args), `service '${ref}' as it is now (this call does not set it)`);
  });
}

/**
 * Sets the replica count of a replicated service, or the completions of a replicated job (as
 * `docker service scale` does: TotalCompletions; the engine then runs the job again). Global
 * services and jobs run one task per node and do not scale.
 */
export function scaleService(docker: Dockerode, ref: string, replicas: number, signal: AbortSignal) {
  return updateServiceSpec(
    docker,
    ref,
    (now) => {
      const mode = modeOf(now.Spec);
      if (mode === 'replicated-job')
        return {
          ...now.Spec,
          Mode: { ReplicatedJob: { ...now.Spec.Mode?.ReplicatedJob, TotalCompletions: replicas } },
        };
      if (mode !== 'replicated')
        throw new ToolError(
          'invalid_argument',
          `service '${now.Spec.Name}' is a ${mode === 'global' ? 'global service' : 'global job'}: it runs one task per node`,
          {
            hint: 'Only replicated services and replicated jobs scale; change where this one runs with constraints (docker_service_update).',
          },
        );
      return { ...now.Spec, Mode: { Replicated: { Replicas: replicas } } };
    },
    signal,
  ).catch((e) => {
    throw inArgumentTerms(e, NONE, `service '${ref}' as it is now`);
  });
}

/** Goes back to the previous spec (the engine's rollback; the guard checks that spec). */
export function rollbackService(docker: Dockerode, ref: string, signal: AbortSignal) {
  return updateServiceSpec(
    docker,
    ref,
    (now) => {
      if (!now.PreviousSpec)
        throw new ToolError('conflict', `service '${now.Spec.Name}' has no previous spec to roll back to`, {
          hint: 'It was never updated; change it with docker_service_update instead.',
        });
      return now.Spec;
    },
    signal,
    { rollback: 'previous' },
  ).catch((e) => {
    throw inArgumentTerms(e, NONE, `service '${ref}' (its current spec or the one a rollback brings back)`);
  });
}

const NONE: ReadonlySet<string> = new Set();

export async function removeService(
  docker: Dockerode,
  ref: string,
  signal: AbortSignal,
): Promise<ServiceChange> {
  const now = await inspectService(docker, ref, signal);
  await swarmRequest(docker, { path: `/services/${encodeURIComponent(now.ID)}`, method: 'DELETE' }, signal);
  return changed(now.ID, now.Spec.Name ?? '', undefined);
}

/** A value with empty objects, lists and nulls left out, at every depth. */
function pruned(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pruned);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) {
    const p = pruned(x);
    if (p === null || p === undefined) continue;
    if (typeof p === 'object' && Object.keys(p).length === 0) continue;
    out[k] = p;
  }
  return out;
}

/**
 * A task template as a comparable string: a task's copy of its spec leaves out `Runtime` and empty
 * parts the service's spec may hold, so those are left out of both.
 */
export const specKey = (template: unknown): string => {
  const { Runtime: _runtime, ...rest } = (pruned(template) ?? {}) as Record<string, unknown>;
  return JSON.stringify(rest);
};

export interface Convergence {
  converged: boolean;
  /** Tasks of the current spec running / tasks the service wants. */
  running: number;
  desired: number;
  /** The update's state and message, when the service has been updated. */
  update?: string;
  message?: string;
  /** The newest error of a task that should be running and is not. */
  error?: string;
}

const SETTLED = new Set(['completed', 'rollback_completed']);
/** Update states that wait for someone to act: waiting longer changes nothing. */
export const STUCK = new Set(['paused', 'rollback_paused']);

/**
 * Converged: the last update (if any) completed or rolled back, and every task meant to run is of
 * the current spec and running, as many as wanted (replicated) or at least one per eligible node
 * the engine counts (global: ServiceStatus.DesiredTasks).
 */
export async function convergence(docker: Dockerode, ref: string, signal: AbortSignal): Promise<Convergence> {
  const svc = await inspectService(docker, ref, signal);
  const [tasks, listed] = await Promise.all([
    listTasks(docker, { service: [svc.ID] }, signal),
    listServices(docker, { id: [svc.ID] }, signal),
  ]);
  const current = specKey(svc.Spec.TaskTemplate);
  const all = tasks.filter((t: TaskDoc) => t.ServiceID === svc.ID);
  const mine = all.filter((t) => t.DesiredState === 'running');
  const running = mine.filter((t) => t.Status?.State === 'running' && specKey(t.Spec) === current).length;
  const desired = svc.Spec.Mode?.Global
    ? (listed[0]?.ServiceStatus?.DesiredTasks ?? mine.length)
    : (replicasOf(svc.Spec) ?? 0);
  const update = svc.UpdateStatus?.State;
  const failing = all
    .filter((t) => t.Status?.Err)
    .sort((a, b) => String(b.Status?.Timestamp).localeCompare(String(a.Status?.Timestamp)))[0];
  return {
    converged: (!update || SETTLED.has(update)) && running === desired && mine.length === desired,
    running,
    desired,
    ...(update && { update }),
    ...(svc.UpdateStatus?.Message && { message: svc.UpdateStatus.Message }),
    ...(failing?.Status?.Err && { error: failing.Status.Err }),
  };
}
