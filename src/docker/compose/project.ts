/**
 * A Compose project on the engine: up (networks, volumes, containers in dependency order, recreated
 * only when their config hash changed), down, and finding a project's containers by label. Every
 * container's create body passes the engine's policy before anything is made, so a project that
 * asks for something the policy refuses leaves nothing behind. Knows nothing of MCP.
 */
import type Dockerode from 'dockerode';
import type { EngineFacts } from '../../core/engine.ts';
import { ToolError } from '../../core/errors.ts';
import type { ProgressFn } from '../../core/progress.ts';
import { createRequest } from '../container-spec.ts';
import { ensureImage, pullPolicy } from './image.ts';
import type { Project } from './load.ts';
import { linkedServices, type Obj } from './normalise.ts';
import { checkProject } from './policy.ts';
import { projectContainers } from './running.ts';
import {
  COMPOSE_VERSION,
  endpoint,
  L,
  replicas,
  resourceName,
  serviceImage,
  serviceNetworks,
  serviceSpec,
} from './spec.ts';
import { copyContents, partial, tell } from './stopped.ts';
import { waitForDependencies } from './wait.ts';

/**
 * The services a service needs made and started first: its depends_on, the service whose network it
 * shares (`network_mode: service:x`), and those its links and volumes_from name.
 */
export function prerequisites(svc: Obj | undefined): string[] {
  const mode = svc?.network_mode;
  return [
    ...Object.keys((svc?.depends_on as Obj | undefined) ?? {}),
    ...(typeof mode === 'string' && mode.startsWith('service:') ? [mode.slice('service:'.length)] : []),
    ...linkedServices(svc ?? {}).map(([, d]) => d),
  ];
}

/** Services in dependency order (dependencies first); a cycle is an error naming it. */
export function serviceOrder(p: Project, only?: string[]): string[] {
  const want = new Set(only?.length ? only : Object.keys(p.services));
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, path: string[]) => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting')
      throw new ToolError('invalid_argument', `depends_on makes a cycle: ${[...path, n].join(' -> ')}`, {
        hint: 'Remove one of the dependencies.',
      });
    state.set(n, 'visiting');
    for (const d of prerequisites(p.services[n])) if (p.services[d]) visit(d, [...path, n]);
    state.set(n, 'done');
    out.push(n);
  };
  for (const n of Object.keys(p.services)) if (want.has(n)) visit(n, []);
  return out;
}

export interface Step {
  service?: string;
  object: string;
  action:
    | 'created'
    | 'recreated'
    | 'started'
    | 'unchanged'
    | 'pulled'
    | 'built'
    | 'removed'
    | 'stopped'
    | 'exists';
}

/** Builds a service's image and tags it `image` (the tool layer owns the build context path). */
export type ServiceBuild = (
  service: string,
  image: string,
  build: Obj,
  progress: (message: string) => void,
) => Promise<void>;

export interface UpOptions {
  services?: string[];
  /** How to build a `build:` service whose image is missing; without it such a service is refused. */
  build?: ServiceBuild;
  pull?: 'missing' | 'always' | 'never';
  removeOrphans?: boolean;
  /** Registry credentials for a pull (the image tools' lookup: Docker config, credential helpers). */
  auth?: (image: string, signal: AbortSignal) => Promise<object | undefined>;
  /** A failed pull as the image tools report it (registry_auth with a login hint, not_found…). */
  pullFailure?: (e: unknown, image: string) => unknown;
  /** Seconds to wait for a dependency to become healthy or to complete. */
  waitTimeout?: number;
  progress: ProgressFn;
  signal: AbortSignal;
}

export async function up(docker: Dockerode, facts: EngineFacts, p: Project, o: UpOptions): Promise<Step[]> {
  const order = serviceOrder(p, o.services);
  // With services named, their dependencies come up too.
  const services = o.services?.length ? serviceOrder(p, [...new Set([...o.services, ...order])]) : order;
  for (const s of services)
    if (!p.services[s]?.image && !(p.services[s]?.build && o.build))
      throw new ToolError('invalid_argument', `service "${s}" has no image`, {
        hint: 'Name an image, or give it build:.',
      });
  for (const s of services)
    for (const kind of ['secrets', 'configs'] as const)
      for (const ref of (p.services[s]?.[kind] as Obj[] | undefined) ?? []) {
        const def = p[kind][String(ref.source)];
        if (typeof def?.file !== 'string' && typeof def?.content !== 'string')
          throw new ToolError(
            'invalid_argument',
            `service "${s}": ${kind} "${String(ref.source)}" is ${def ? 'not backed by a file or environment variable' : 'not defined'}`,
            { hint: `Define it at the top level with file: or environment:.` },
          );
      }
  await checkProject(docker, facts, p, services);

  const steps: Step[] = [];
  const total = services.length + 2;
  let done = 0;
  /** What is in flight, per service ('' for the project's networks and volumes), for an answer that stops in the middle. */
  const doing = new Map<string, string>();
  const inFlight = () => [...doing.values()].filter(Boolean).join(', ');
  const step = (s: Step) => {
    steps.push(s);
    doing.delete(s.service ?? '');
    o.progress(done, total, `${s.object} ${s.action}`);
  };
  const { signal } = o;
  // A cancelled or timed-out call is answered at once with the signal's reason: say in it what exists.
  const onAbort = () => {
    if (signal.reason instanceof ToolError) tell(signal.reason, steps, inFlight());
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await apply();
  } catch (e) {
    throw partial(e, steps, inFlight(), signal);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  o.progress(total, total, 'up');
  // Services ran side by side: report in dependency order (networks and volumes first, orphans last).
  const rank = (st: Step) => (st.service === undefined ? -1 : services.indexOf(st.service) >>> 0);
  return steps
    .map((st, i) => [st, i] as const)
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
    .map(([st]) => st);

  async function apply() {
    // Networks.
    const netKeys = new Set(services.flatMap((s) => Object.keys(serviceNetworks(p.services[s] as Obj))));
    for (const key of netKeys) {
      const def = p.networks[key] ?? {};
      const name = resourceName(p.name, key, def);
      const exists = await (
        docker.getNetwork(name).inspect({ abortSignal: signal } as never) as unknown as Promise<unknown>
      ).then(
        () => true,
        () => false,
      );
      if (exists) continue;
      if (def.external)
        throw new ToolError('not_found', `external network "${name}" does not exist`, {
          hint: 'Create it first.',
        });
      doing.set('', `creating network ${name} (it may exist)`);
      await docker.createNetwork({
        Name: name,
        Driver: (def.driver as string | undefined) ?? 'bridge',
        Internal: def.internal === true,
        Attachable: def.attachable === true,
        ...(def.driver_opts !== undefined && { Options: def.driver_opts as Record<string, string> }),
        Labels: {
          ...(def.labels as Record<string, string> | undefined),
          [L.project]: p.name,
          [L.network]: key,
          [L.version]: COMPOSE_VERSION,
        },
        abortSignal: signal,
      } as Dockerode.NetworkCreateOptions);
      step({ object: `network ${name}`, action: 'created' });
    }
    done++;

    // Named volumes the services mount.
    const volKeys = new Set(
      services.flatMap((s) =>
        ((p.services[s]?.volumes as Obj[] | undefined) ?? [])
          .filter((v) => v.type === 'volume' && v.source)
          .map((v) => String(v.source)),
      ),
    );
    for (const key of volKeys) {
      const def = p.volumes[key] ?? {};
      const name = resourceName(p.name, key, def);
      const exists = await docker
        .getVolume(name)
        .inspect({ abortSignal: signal })
        .then(
          () => true,
          () => false,
        );
      if (exists) continue;
      if (def.external)
        throw new ToolError('not_found', `external volume "${name}" does not exist`, {
          hint: 'Create it first.',
        });
      doing.set('', `creating volume ${name} (it may exist)`);
      await docker.createVolume({
        Name: name,
        Driver: (def.driver as string | undefined) ?? 'local',
        ...(def.driver_opts !== undefined && { DriverOpts: def.driver_opts as Record<string, string> }),
        Labels: {
          ...(def.labels as Record<string, string> | undefined),
          [L.project]: p.name,
          [L.volume]: key,
          [L.version]: COMPOSE_VERSION,
        },
        abortSignal: signal,
      } as never);
      step({ object: `volume ${name}`, action: 'created' });
    }
    done++;

    const existing = await projectContainers(docker, p.name, undefined, signal);
    // Each service starts as soon as the services it depends on are up (as Compose does), side by side;
    // the first failure stops the others at their next step.
    const failed = new AbortController();
    const run = AbortSignal.any([signal, failed.signal]);
    const images = new Map<string, Promise<string | undefined>>();
    /** Services whose containers this call created, recreated, started or removed. */
    const changed = new Set<string>();
    const tasks = new Map<string, Promise<void>>();
    for (const s of services) {
      const svc = p.services[s] as Obj;
      const deps = prerequisites(svc).filter((d) => tasks.has(d));
      const task = Promise.all(deps.map((d) => tasks.get(d)))
        .then(() => service(s, svc))
        .catch((e) => {
          failed.abort(e);
          throw e;
        });
      task.catch(() => {});
      tasks.set(s, task);
    }
    const settled = await Promise.allSettled(tasks.values());
    const failure = settled.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failure) throw signal.aborted ? signal.reason : failed.signal.reason;
    if (o.removeOrphans)
      for (const c of existing.filter((c) => !p.services[c.Labels[L.service] ?? ''])) {
        doing.set('', `removing container ${name(c)} (it may still exist)`);
        await docker.getContainer(c.Id).remove({ force: true, abortSignal: signal });
        step({ service: c.Labels[L.service], object: `container ${name(c)}`, action: 'removed' });
      }

    async function service(s: string, svc: Obj) {
      run.throwIfAborted();
      const say = (what: string) => doing.set(s, what);
      await waitForDependencies(
        docker,
        p,
        s,
        { ...o, signal: run },
        (dep, cond) => say(`waiting for "${dep}" (${cond}) before "${s}"`),
        { containers: existing, changed },
      );
      const image = serviceImage(p, s);
      if (svc.build && o.build) {
        const have = await (
          docker.getImage(image).inspect({ abortSignal: run } as never) as unknown as Promise<unknown>
        ).then(
          () => true,
          () => false,
        );
        if (!have) {
          say(`building image ${image}`);
          await o.build(s, image, svc.build as Obj, (m) => o.progress(done, total, m));
          step({ service: s, object: `image ${image}`, action: 'built' });
        }
      }
      // One pull per image, whichever service asks first.
      const key = `${image}\n${pullPolicy(svc, o.pull)}`;
      if (!images.has(key))
        images.set(
          key,
          ensureImage(docker, image, pullPolicy(svc, o.pull), {
            signal: run,
            step,
            service: s,
            auth: o.auth,
            pullFailure: o.pullFailure,
            progress: (m) => o.progress(done, total, m),
            doing: say,
          }),
        );
      const imageId = await images.get(key);
      const n = replicas(svc);
      for (let i = 1; i <= n; i++) {
        const spec = serviceSpec(p, s, i);
        const mine = existing.find((c) => c.Labels[L.service] === s && c.Labels[L.number] === String(i));
        // Unchanged: same config hash and the same image (a rebuilt or re-pulled tag recreates, as Compose v2).
        if (mine && mine.Labels[L.hash] === spec.labels?.[L.hash] && (!imageId || mine.ImageID === imageId)) {
          if (mine.State === 'running')
            step({ service: s, object: `container ${spec.name}`, action: 'unchanged' });
          else {
            changed.add(s);
            say(`starting container ${spec.name}`);
            await docker.getContainer(mine.Id).start({ abortSignal: run });
            step({ service: s, object: `container ${spec.name}`, action: 'started' });
          }
          continue;
        }
        changed.add(s);
        if (mine) {
          say(`removing container ${spec.name} to recreate it (it may still exist)`);
          await docker.getContainer(mine.Id).remove({ force: true, abortSignal: run });
        }
        const { query, body } = createRequest(spec);
        say(`creating container ${spec.name} (it may exist, not started)`);
        const created = await docker.createContainer({ ...body, ...query, abortSignal: run } as never);
        say(`preparing container ${spec.name} (it exists, not started)`);
        for (const key of Object.keys(serviceNetworks(svc)).slice(1))
          await docker.getNetwork(resourceName(p.name, key, p.networks[key])).connect({
            Container: created.id,
            EndpointConfig: { Aliases: endpoint(s, serviceNetworks(svc)[key]).aliases },
            abortSignal: run,
          } as never);
        await copyContents(created, p, svc, run);
        say(`starting container ${spec.name} (it exists, perhaps not started)`);
        await created.start({ abortSignal: run });
        step({ service: s, object: `container ${spec.name}`, action: mine ? 'recreated' : 'created' });
      }
      // Replicas beyond the count go.
      for (const c of existing.filter((c) => c.Labels[L.service] === s && Number(c.Labels[L.number]) > n)) {
        changed.add(s);
        say(`removing container ${name(c)} (it may still exist)`);
        await docker.getContainer(c.Id).remove({ force: true, abortSignal: run });
        step({ service: s, object: `container ${name(c)}`, action: 'removed' });
      }
      done++;
    }
  }
}

const name = (c: { Names?: string[] }) => (c.Names?.[0] ?? '').replace(/^\//, '');
