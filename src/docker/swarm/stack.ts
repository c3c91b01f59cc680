/**
 * Stacks on a swarm, as `docker stack` sees them: a stack is every object carrying the
 * `com.docker.stack.namespace` label with its name, whoever deployed it (we or the docker CLI).
 * Listing, its services and tasks (the same documents and rows as the service and task tools), and
 * removal (services, then secrets, configs and networks). Knows nothing of MCP or of any tool.
 */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import { isMissing } from '../errors.ts';
import { sleep, swarmError, swarmRequest } from './api.ts';
import { listNodes } from './nodes.ts';
import { listBlobs, removeBlob } from './secrets.ts';
import type { ServiceDoc } from './service-spec.ts';
import { listServices } from './services.ts';
import { NAMESPACE } from './stack-spec.ts';
import { listTasks, type TaskDoc } from './tasks.ts';

const byLabel = (stack: string) => [`${NAMESPACE}=${stack}`];

/** The stack's services (with running/desired counts); [] when it has none. */
export function stackServices(docker: Dockerode, stack: string, signal: AbortSignal): Promise<ServiceDoc[]> {
  return listServices(docker, { label: byLabel(stack) }, signal);
}

/** The stack's services, or a not_found naming the stacks that exist. */
export async function servicesOf(
  docker: Dockerode,
  stack: string,
  signal: AbortSignal,
): Promise<ServiceDoc[]> {
  const services = await stackServices(docker, stack, signal);
  if (services.length > 0)
    return services.sort((a, b) => (a.Spec.Name ?? '').localeCompare(b.Spec.Name ?? ''));
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
  const all = await listServices(docker, { label: [NAMESPACE] }, signal);
  const count = new Map<string, number>();
  for (const s of all) {
    const n = s.Spec.Labels?.[NAMESPACE];
    if (n) count.set(n, (count.get(n) ?? 0) + 1);
  }
  return [...count]
    .map(([name, services]) => ({ name, services }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The stack's tasks, with the names of their services and nodes for rows. */
export async function stackTasks(
  docker: Dockerode,
  stack: string,
  desired: string | undefined,
  signal: AbortSignal,
): Promise<{ tasks: TaskDoc[]; services: Map<string, string>; nodes: Map<string, string> }> {
  const services = await servicesOf(docker, stack, signal);
  const [tasks, nodes] = await Promise.all([
    listTasks(
      docker,
      { service: services.map((s) => s.ID), ...(desired && { 'desired-state': [desired] }) },
      signal,
    ),
    listNodes(docker, {}, signal).catch(() => []),
  ]);
  return {
    tasks,
    services: new Map(services.map((s) => [s.ID, s.Spec.Name ?? ''])),
    nodes: new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? ''])),
  };
}

/** An object of a stack, as removal names it. */
export interface StackObject {
  kind: 'service' | 'secret' | 'config' | 'network';
  id: string;
  name: string;
}

/** Every object carrying the stack's label, in the order removal takes them; [] when none does. */
export async function stackObjects(
  docker: Dockerode,
  stack: string,
  signal: AbortSignal,
): Promise<StackObject[]> {
  const label = { label: byLabel(stack) };
  const [services, secrets, configs, nets] = await Promise.all([
    stackServices(docker, stack, signal),
    listBlobs(docker, 'secret', label, signal),
    listBlobs(docker, 'config', label, signal),
    swarmRequest<{ Id: string; Name: string }[]>(
      docker,
      { path: '/networks', query: { filters: JSON.stringify(label) } },
      signal,
    ),
  ]);
  const by = (a: StackObject, b: StackObject) => a.name.localeCompare(b.name);
  return [
    ...services.map((x) => ({ kind: 'service' as const, id: x.ID, name: x.Spec.Name ?? '' })).sort(by),
    ...secrets.map((x) => ({ kind: 'secret' as const, id: x.ID, name: x.Spec.Name })).sort(by),
    ...configs.map((x) => ({ kind: 'config' as const, id: x.ID, name: x.Spec.Name })).sort(by),
    ...nets.map((x) => ({ kind: 'network' as const, id: x.Id, name: x.Name })).sort(by),
  ];
}

/** What a removal did: a step per object removed, and the objects of the stack it left (`kind name`). */
export interface StackRemoval {
  steps: string[];
  left: string[];
}

/** The IDs and names of the networks, secrets and configs a service's spec refers to. */
function referencedBy(s: ServiceDoc): Set<string> {
  const t = s.Spec.TaskTemplate;
  const c = (t?.ContainerSpec ?? {}) as {
    Secrets?: { SecretID?: string }[];
    Configs?: { ConfigID?: string }[];
  };
  const legacy = (s.Spec.Networks ?? []) as { Target?: string }[];
  return new Set(
    [
      ...(t?.Networks ?? []).map((n) => n.Target),
      ...legacy.map((n) => n.Target),
      ...(c.Secrets ?? []).map((x) => x.SecretID),
      ...(c.Configs ?? []).map((x) => x.ConfigID),
    ].filter((x): x is string => typeof x === 'string'),
  );
}

/**
 * Removes the stack's objects: services first, then secrets and configs, then networks (retried while
 * the removed services' tasks still hold an endpoint on them). With `only` (the IDs a confirmed
 * question listed), exactly those: an object labelled with the stack since the question is left, and
 * so is a listed network, secret or config a left service uses; `left` names them. Without it, every
 * object carrying the label. No steps when nothing was removed.
 */
export async function removeStack(
  docker: Dockerode,
  stack: string,
  signal: AbortSignal,
  only?: ReadonlySet<string>,
): Promise<StackRemoval> {
  const steps: string[] = [];
  const left: string[] = [];
  const asked = (id: string) => only === undefined || only.has(id);
  const services = (await stackServices(docker, stack, signal)).sort((a, b) =>
    (a.Spec.Name ?? '').localeCompare(b.Spec.Name ?? ''),
  );
  const kept = services.filter((s) => !asked(s.ID));
  for (const s of kept) left.push(`service ${s.Spec.Name}`);
  // What the services left behind still use: removing it would fail (and a network be retried in vain).
  const inUse = new Set(kept.flatMap((s) => [...referencedBy(s)]));
  const usedBy = (id: string, name: string) => {
    const user = kept.find((s) => referencedBy(s).has(id) || referencedBy(s).has(name));
    return user ? ` (used by service ${user.Spec.Name})` : undefined;
  };
  for (const s of services) {
    if (!asked(s.ID)) continue;
    await swarmRequest(docker, { path: `/services/${s.ID}`, method: 'DELETE' }, signal).catch((e) => {
      if (!isMissing(e)) throw e;
    });
    steps.push(`service ${s.Spec.Name} removed`);
  }
  for (const kind of ['secret', 'config'] as const)
    for (const b of await listBlobs(docker, kind, { label: byLabel(stack) }, signal)) {
      const held = inUse.size > 0 ? usedBy(b.ID, b.Spec.Name) : undefined;
      if (!asked(b.ID) || held) left.push(`${kind} ${b.Spec.Name}${held ?? ''}`);
      else if (await removeBlob(docker, kind, b.ID, signal)) steps.push(`${kind} ${b.Spec.Name} removed`);
    }
  const nets = await swarmRequest<{ Id: string; Name: string }[]>(
    docker,
    { path: '/networks', query: { filters: JSON.stringify({ label: byLabel(stack) }) } },
    signal,
  );
  for (const n of nets) {
    const held = inUse.size > 0 ? usedBy(n.Id, n.Name) : undefined;
    if (!asked(n.Id) || held) {
      left.push(`network ${n.Name}${held ?? ''}`);
      continue;
    }
    const end = Date.now() + 30_000;
    for (;;) {
      try {
        await swarmRequest(docker, { path: `/networks/${n.Id}`, method: 'DELETE' }, signal);
        steps.push(`network ${n.Name} removed`);
        break;
      } catch (e) {
        if (isMissing(e)) break;
        if (Date.now() > end || signal.aborted) throw swarmError(e);
        await sleep(250, signal);
      }
    }
  }
  return { steps, left };
}
