/**
 * Swarm services on a manager: list, resolve a reference (ID, ID prefix or name), create, update in
 * place (the engine wants the whole spec and the version it was read at; an update that lost a race
 * is read and sent again), scale, roll back, remove, and one look at whether it has converged. Every
 * request passes the engine guard, which checks the spec that will run.
 */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import { isMissing } from '../errors.ts';
import { filtersQuery, swarmNotFound, swarmRequest } from './api.ts';
import { assess, type Convergence } from './convergence.ts';
import { givenArgs, inArgumentTerms } from './service-refusal.ts';
import {
  modeOf,
  type ServiceArgs,
  type ServiceDoc,
  type ServiceMode,
  type ServiceSpec,
  serviceSpec,
} from './service-spec.ts';
import { listTasks } from './tasks.ts';

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
  note?: string;
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
export async function scaleService(
  docker: Dockerode,
  ref: string,
  replicas: number,
  signal: AbortSignal,
): Promise<ServiceChange> {
  let job = false;
  const r = await updateServiceSpec(
    docker,
    ref,
    (now) => {
      const mode = modeOf(now.Spec);
      job = mode === 'replicated-job';
      if (job)
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
  return job ? { ...r, note: `The job runs again, to ${replicas} completions.` } : r;
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

/**
 * One look at whether `ref` has converged (convergence.ts): its document, its tasks and, for a global
 * service, the engine's count of the tasks it wants.
 */
export async function convergence(docker: Dockerode, ref: string, signal: AbortSignal): Promise<Convergence> {
  const svc = await inspectService(docker, ref, signal);
  const [tasks, listed] = await Promise.all([
    listTasks(docker, { service: [svc.ID] }, signal),
    listServices(docker, { id: [svc.ID] }, signal),
  ]);
  return assess(svc, tasks, listed[0]?.ServiceStatus?.DesiredTasks);
}
