/**
 * Stacks on a swarm, as `docker stack` sees them: a stack is every object carrying the
 * `com.docker.stack.namespace` label with its name, whoever deployed it (we or the docker CLI).
 * Listing, its services and tasks as compact rows, and removal (services, then secrets, configs
 * and networks). Knows nothing of MCP or of any tool.
 */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import { isMissing } from '../errors.ts';
import { engineRequest } from '../request.ts';
import { swarmError } from './api.ts';
import { listBlobs, removeBlob } from './secrets.ts';
import { NAMESPACE } from './stack-spec.ts';

export interface ServiceDoc {
  ID: string;
  Version: { Index: number };
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    TaskTemplate?: { ContainerSpec?: { Image?: string } };
    Mode?: {
      Replicated?: { Replicas?: number };
      Global?: object;
      ReplicatedJob?: object;
      GlobalJob?: object;
    };
  };
  Endpoint?: {
    Ports?: { Protocol?: string; TargetPort?: number; PublishedPort?: number; PublishMode?: string }[];
  };
  UpdateStatus?: { State?: string };
  ServiceStatus?: { RunningTasks?: number; DesiredTasks?: number };
}

interface TaskDoc {
  ID: string;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string; Err?: string; Timestamp?: string };
  Spec?: { ContainerSpec?: { Image?: string } };
}

const label = (stack: string) => JSON.stringify({ label: [`${NAMESPACE}=${stack}`] });

const ask = async <T>(
  docker: Dockerode,
  path: string,
  query: Record<string, unknown>,
  signal: AbortSignal,
) => {
  try {
    return await engineRequest<T>(docker, { path, query }, signal);
  } catch (e) {
    throw swarmError(e);
  }
};

/** The stack's services (with running/desired counts). */
export function stackServices(docker: Dockerode, stack: string, signal: AbortSignal): Promise<ServiceDoc[]> {
  return ask<ServiceDoc[]>(docker, '/services', { filters: label(stack), status: true }, signal);
}

/** The stack's services, or a not_found naming the stacks that exist. */
async function servicesOf(docker: Dockerode, stack: string, signal: AbortSignal): Promise<ServiceDoc[]> {
  const services = await stackServices(docker, stack, signal);
  if (services.length > 0) return services;
  const names = (await listStacks(docker, signal)).map((s) => s.name);
  throw new ToolError('not_found', `stack '${stack}' has no services on this engine`, {
    hint: names.length
      ? `Stacks here: ${names.slice(0, 10).join(', ')}.`
      : 'No stacks here; deploy one with docker_stack_deploy.',
  });
}

/** Every stack: the namespace labels of the swarm's services, with their service counts. */
export async function listStacks(
  docker: Dockerode,
  signal: AbortSignal,
): Promise<{ name: string; services: number }[]> {
  const all = await ask<ServiceDoc[]>(
    docker,
    '/services',
    { filters: JSON.stringify({ label: [NAMESPACE] }) },
    signal,
  );
  const count = new Map<string, number>();
  for (const s of all) {
    const n = s.Spec.Labels?.[NAMESPACE];
    if (n) count.set(n, (count.get(n) ?? 0) + 1);
  }
  return [...count]
    .map(([name, services]) => ({ name, services }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const modeOf = (s: ServiceDoc) =>
  s.Spec.Mode?.Global
    ? 'global'
    : s.Spec.Mode?.ReplicatedJob
      ? 'replicated-job'
      : s.Spec.Mode?.GlobalJob
        ? 'global-job'
        : 'replicated';

/** A service as one compact row: name, image, mode, replicas running/desired, ports, update state. */
export function serviceRow(s: ServiceDoc) {
  const ports = (s.Endpoint?.Ports ?? []).map(
    (p) =>
      `${p.PublishedPort ?? ''}->${p.TargetPort}/${p.Protocol ?? 'tcp'}${p.PublishMode === 'host' ? ' (host)' : ''}`,
  );
  const st = s.ServiceStatus;
  return {
    name: s.Spec.Name,
    image: (s.Spec.TaskTemplate?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, ''),
    mode: modeOf(s),
    replicas: `${st?.RunningTasks ?? 0}/${st?.DesiredTasks ?? s.Spec.Mode?.Replicated?.Replicas ?? 0}`,
    ...(ports.length > 0 && { ports }),
    ...(s.UpdateStatus?.State && { update_state: s.UpdateStatus.State }),
  };
}

export async function stackServiceRows(docker: Dockerode, stack: string, signal: AbortSignal) {
  const services = await servicesOf(docker, stack, signal);
  return services.map(serviceRow).sort((a, b) => a.name.localeCompare(b.name));
}

/** The stack's tasks, newest state first per slot: `<service>.<slot>` (or `.<node>` for global ones). */
export async function stackTasks(docker: Dockerode, stack: string, signal: AbortSignal) {
  const services = await servicesOf(docker, stack, signal);
  const names = new Map(services.map((s) => [s.ID, s.Spec.Name]));
  const tasks = await ask<TaskDoc[]>(
    docker,
    '/tasks',
    { filters: JSON.stringify({ service: services.map((s) => s.ID) }) },
    signal,
  );
  const nodes = new Map(
    (
      await ask<{ ID: string; Description?: { Hostname?: string } }[]>(docker, '/nodes', {}, signal).catch(
        () => [],
      )
    ).map((n) => [n.ID, n.Description?.Hostname ?? n.ID.slice(0, 12)]),
  );
  return tasks
    .map((t) => ({
      name: `${names.get(t.ServiceID) ?? t.ServiceID.slice(0, 12)}.${t.Slot ?? t.NodeID?.slice(0, 12) ?? ''}`,
      id: t.ID.slice(0, 12),
      image: (t.Spec?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, ''),
      ...(t.NodeID && { node: nodes.get(t.NodeID) ?? t.NodeID.slice(0, 12) }),
      desired_state: t.DesiredState ?? '',
      state: t.Status?.State ?? '',
      ...(t.Status?.Timestamp && { since: t.Status.Timestamp }),
      ...(t.Status?.Err && { error: t.Status.Err }),
      at: Date.parse(t.Status?.Timestamp ?? '') || 0,
    }))
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }) || b.at - a.at)
    .map(({ at: _at, ...row }) => row);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Removes every object of the stack: services first, then secrets and configs, then networks
 * (retried while the removed services' tasks still hold an endpoint on them). [] when nothing had the label.
 */
export async function removeStack(docker: Dockerode, stack: string, signal: AbortSignal): Promise<string[]> {
  const steps: string[] = [];
  for (const s of await stackServices(docker, stack, signal)) {
    await engineRequest(docker, { path: `/services/${s.ID}`, method: 'DELETE' }, signal).catch((e) => {
      if (!isMissing(e)) throw swarmError(e);
    });
    steps.push(`service ${s.Spec.Name} removed`);
  }
  for (const kind of ['secret', 'config'] as const)
    for (const b of await listBlobs(docker, kind, { label: [`${NAMESPACE}=${stack}`] }, signal))
      if (await removeBlob(docker, kind, b.ID, signal)) steps.push(`${kind} ${b.Spec.Name} removed`);
  const nets = await ask<{ Id: string; Name: string }[]>(
    docker,
    '/networks',
    { filters: label(stack) },
    signal,
  );
  for (const n of nets) {
    const end = Date.now() + 30_000;
    for (;;) {
      try {
        await engineRequest(docker, { path: `/networks/${n.Id}`, method: 'DELETE' }, signal);
        steps.push(`network ${n.Name} removed`);
        break;
      } catch (e) {
        if (isMissing(e)) break;
        if (Date.now() > end || signal.aborted) throw swarmError(e);
        await sleep(250, signal);
      }
    }
  }
  return steps;
}
