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
import { createRequest, endpointConfig } from '../container-spec.ts';
import type { ProbedEngine } from '../policy/probe.ts';
import { ensureImage, imageId, pullPolicy } from './image.ts';
import { inheritVolumes } from './inherit.ts';
import { checkContainerKeys } from './keys.ts';
import type { Project } from './load.ts';
import { checkNames } from './names.ts';
import { linkedServices, type Obj } from './normalise.ts';
import { checkProject } from './policy.ts';
import { ensureResources, resourceObjects } from './resources.ts';
import { orphansOf, projectContainers } from './running.ts';
import {
  endpoint,
  L,
  replicas,
  resourceName,
  serviceImage,
  serviceNetworks,
  serviceSpec,
  sharedServices,
} from './spec.ts';
import { copyContents, type InFlight, partial, tell } from './stopped.ts';
import { ProjectPoll, waitForDependencies } from './wait.ts';

/**
 * The services a service needs made and started first: its depends_on, the service whose network it
 * shares (`network_mode: service:x`), and those its links and volumes_from name.
 */
export function prerequisites(svc: Obj | undefined): string[] {
  return [...Object.keys((svc?.depends_on as Obj | undefined) ?? {}), ...creationNeeds(svc ?? {})];
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
    | 'exists'
    | 'left: not in the question the user accepted'
    | 'left: in use by a container not in the question'
    | 'left: in use by another container'
    | typeof RESTARTED
    | typeof ORPHAN;
}

/** An unchanged container restarted because a dependency with `restart: true` was updated (Compose v2). */
const RESTARTED = 'restarted: a dependency with restart: true was updated';

/** The step of an orphan `up` leaves (Compose warns of them too). */
const ORPHAN = 'orphan: its service is not in the files; remove_orphans: true removes it';

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
  /** The orphans' IDs the user was shown and accepted; others found now are left (a confirmed call). */
  acceptedOrphans?: string[];
  /** Registry credentials for a pull (the image tools' lookup: Docker config, credential helpers). */
  auth?: (image: string, signal: AbortSignal) => Promise<object | undefined>;
  /** A failed pull as the image tools report it (registry_auth with a login hint, not_found…). */
  pullFailure?: (e: unknown, image: string) => unknown;
  /** The Engine API version negotiated with the engine (a key a newer engine maps is refused). */
  apiVersion: string;
  /** Seconds to wait for a dependency to become healthy or to complete. */
  waitTimeout?: number;
  progress: ProgressFn;
  signal: AbortSignal;
  /** The engine: its name, for a refusal that names it, and whether it is Podman (policy/probe.ts). */
  engine?: ProbedEngine;
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
  checkContainerKeys(p, services, o.apiVersion);
  checkNames(p, services);
  await checkProject(docker, facts, p, services, { engine: o.engine, signal: o.signal });

  const steps: Step[] = [];
  // Each service counts twice (created, started), the networks and volumes once.
  const total = 2 * services.length + 1;
  let done = 0;
  /** What is in flight, per service or object, for an answer that stops in the middle. */
  const doing = new Map<string, string>();
  /** Containers this call created (or found stopped) and has not started yet. */
  const idle = new Set<string>();
  const inFlight = (): InFlight => ({
    doing: [...doing.values()].filter(Boolean).join(', '),
    notStarted: [...idle],
  });
  const step = (s: Step) => {
    steps.push(s);
    o.progress(done, total, `${s.object} ${s.action}`);
  };
  // Report in dependency order (networks and volumes first, orphans last), whichever finished first.
  const objects = resourceObjects(p, services);
  const rank = (st: Step) =>
    st.service === undefined
      ? objects.indexOf(st.object) - objects.length - 1
      : services.indexOf(st.service) >>> 0;
  const ranked = () =>
    steps
      .map((st, i) => [st, i] as const)
      .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
      .map(([st]) => st);
  const { signal } = o;
  // A cancelled or timed-out call is answered at once with the signal's reason: say in it what exists.
  const onAbort = () => {
    if (signal.reason instanceof ToolError) tell(signal.reason, ranked(), inFlight());
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await apply();
  } catch (e) {
    throw partial(e, ranked(), inFlight(), signal);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  o.progress(total, total, 'up');
  return ranked();

  /**
   * As Compose v2, creating apart from starting: every container is created as soon as what its
   * creation needs exists (networks, volumes, its image, the containers its network_mode, links and
   * volumes_from name; a service_healthy dependency started), all side by side; each is started once
   * the services it depends on are up (started, healthy or completed). The first failure stops the
   * others at their next step.
   */
  async function apply() {
    const failed = new AbortController();
    const run = AbortSignal.any([signal, failed.signal]);
    const guard = <T>(task: Promise<T>): Promise<T> => {
      const out = task.catch((e) => {
        failed.abort(e);
        throw e;
      });
      out.catch(() => {});
      return out;
    };
    const existing = guard(projectContainers(docker, p.name, undefined, run));
    const images = new Map<string, Promise<string | undefined>>();
    // Every image is pulled or built before anything is made, as Compose v2 does: a pull or build that
    // fails refuses the call with no network, volume or container created (or being created when it
    // answers). The pulls run side by side; the containers are still created and started side by side.
    const ids = new Map(services.map((s) => [s, guard(image(s, p.services[s] as Obj))]));
    const present = guard(Promise.all(ids.values()));
    const resources = guard(
      present
        .then(() =>
          ensureResources(docker, p, services, {
            signal,
            stop: run,
            step,
            doing: (key, what) => (what ? doing.set(key, what) : doing.delete(key)),
          }),
        )
        .then(() => {
          done++;
        }),
    );
    /** Services whose containers this call created, recreated, started or removed. */
    const changed = new Set<string>();
    /** Services whose containers this call created, recreated or removed (not only started). */
    const updated = new Set<string>();
    /** Per service, its running containers left as they were (restarted when a `restart: true` dependency is updated). */
    const kept = new Map<string, { id: string; name: string; step: Step }[]>();
    const poll = new ProjectPoll(docker, p.name, run);
    const made = new Map<string, Promise<ToStart[]>>();
    const up = new Map<string, Promise<void>>();
    for (const s of services) {
      const svc = p.services[s] as Obj;
      // `services` is in dependency order: what a service needs is already in the maps.
      const needs = creationNeeds(svc).filter((d) => made.has(d));
      // A service that waits for a dependency to be healthy is created while that one's first healthcheck
      // runs (an interval at least), not beside its creation and start, which it would only slow down.
      const later = healthyDependencies(svc).filter((d) => up.has(d));
      made.set(
        s,
        guard(
          Promise.all([
            existing,
            ids.get(s),
            resources,
            ...needs.map((d) => made.get(d)),
            ...later.map((d) => up.get(d)),
          ]).then(([cs, id]) => create(s, svc, cs, id)),
        ),
      );
      const deps = prerequisites(svc).filter((d) => up.has(d));
      up.set(
        s,
        guard(
          Promise.all([made.get(s), ...deps.map((d) => up.get(d))]).then(async ([mine]) =>
            start(s, mine as ToStart[], await existing),
          ),
        ),
      );
    }
    const settled = await Promise.allSettled([existing, resources, ...made.values(), ...up.values()]);
    poll.close();
    if (settled.some((r) => r.status === 'rejected'))
      throw signal.aborted ? signal.reason : failed.signal.reason;
    for (const c of orphansOf(p, await existing)) {
      const object = `container ${name(c)}`;
      if (!o.removeOrphans) step({ service: c.Labels[L.service], object, action: ORPHAN });
      else if (o.acceptedOrphans && !o.acceptedOrphans.includes(c.Id))
        step({ service: c.Labels[L.service], object, action: 'left: not in the question the user accepted' });
      else {
        doing.set('', `removing container ${name(c)} (it may still exist)`);
        await docker.getContainer(c.Id).remove({ force: true, abortSignal: signal });
        doing.delete('');
        step({ service: c.Labels[L.service], object, action: 'removed' });
      }
    }

    /** The service's image, built or pulled as needed (one pull per image, whichever service asks first); its ID. */
    async function image(s: string, svc: Obj): Promise<string | undefined> {
      const image = serviceImage(p, s);
      const say = (what: string) => doing.set(s, what);
      if (svc.build && o.build) {
        const have = await imageId(docker, image, run);
        if (!have) {
          say(`building image ${image}`);
          await o.build(s, image, svc.build as Obj, (m) => o.progress(done, total, m));
          doing.delete(s);
          step({ service: s, object: `image ${image}`, action: 'built' });
        }
      }
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
          }).finally(() => doing.delete(s)),
        );
      return images.get(key);
    }

    /** The service's containers made as the file says (unchanged ones kept); those to start. */
    async function create(
      s: string,
      svc: Obj,
      existing: Listed,
      imageId: string | undefined,
    ): Promise<ToStart[]> {
      run.throwIfAborted();
      const say = (what: string) => doing.set(s, what);
      const out: ToStart[] = [];
      const n = replicas(svc, s);
      for (let i = 1; i <= n; i++) {
        const spec = serviceSpec(p, s, i);
        const mine = existing.find((c) => c.Labels[L.service] === s && c.Labels[L.number] === String(i));
        // Unchanged: same config hash and the same image (a rebuilt or re-pulled tag recreates, as Compose v2).
        if (mine && mine.Labels[L.hash] === spec.labels?.[L.hash] && (!imageId || mine.ImageID === imageId)) {
          if (mine.State === 'running') {
            const st: Step = { service: s, object: `container ${spec.name}`, action: 'unchanged' };
            step(st);
            kept.set(s, [...(kept.get(s) ?? []), { id: mine.Id, name: String(spec.name), step: st }]);
          } else {
            changed.add(s);
            out.push({ id: mine.Id, name: String(spec.name), action: 'started' });
          }
          continue;
        }
        changed.add(s);
        updated.add(s);
        // Its anonymous volumes (kept by a remove without `v`) go to the new container, as in Compose.
        const made = mine ? await inheritVolumes(docker, mine.Mounts, spec, run) : spec;
        if (mine) {
          say(`removing container ${spec.name} to recreate it (it may still exist)`);
          await docker.getContainer(mine.Id).remove({ force: true, abortSignal: run });
        }
        const { query, body } = createRequest(made);
        say(`creating container ${spec.name} (it may exist, not started)`);
        run.throwIfAborted();
        // Only the caller's cancel cuts a create short: another service's failure lets it finish, so
        // the answer can say the container exists rather than that it may.
        const created = await docker.createContainer({ ...body, ...query, abortSignal: signal } as never);
        idle.add(String(spec.name));
        say(`preparing container ${spec.name}`);
        for (const key of Object.keys(serviceNetworks(svc)).slice(1))
          await docker.getNetwork(resourceName(p.name, key, p.networks[key])).connect({
            Container: created.id,
            // The whole endpoint (aliases, ipv4_address, ipv6_address), as the first network's at create.
            EndpointConfig: endpointConfig(endpoint(s, serviceNetworks(svc)[key])),
            abortSignal: run,
          } as never);
        await copyContents(created, p, svc, run);
        doing.delete(s);
        step({ service: s, object: `container ${spec.name}`, action: mine ? 'recreated' : 'created' });
        out.push({ id: created.id, name: String(spec.name) });
      }
      // Replicas beyond the count go.
      for (const c of existing.filter((c) => c.Labels[L.service] === s && Number(c.Labels[L.number]) > n)) {
        changed.add(s);
        updated.add(s);
        say(`removing container ${name(c)} (it may still exist)`);
        await docker.getContainer(c.Id).remove({ force: true, abortSignal: run });
        doing.delete(s);
        step({ service: s, object: `container ${name(c)}`, action: 'removed' });
      }
      done++;
      return out;
    }

    /** Starts the service's containers once what it depends on is up. */
    async function start(s: string, mine: ToStart[], existing: Listed) {
      run.throwIfAborted();
      await waitForDependencies(
        p,
        s,
        { signal: run, waitTimeout: o.waitTimeout },
        poll,
        (dep, cond) => doing.set(s, `waiting for "${dep}" (${cond}) before "${s}"`),
        { containers: existing, changed },
      );
      for (const c of mine) {
        doing.set(s, `starting container ${c.name} (it exists, perhaps not started)`);
        await docker.getContainer(c.id).start({ abortSignal: run });
        idle.delete(c.name);
        if (c.action) step({ service: s, object: `container ${c.name}`, action: c.action });
        else o.progress(done, total, `container ${c.name} started`);
      }
      // As Compose v2: a dependency with `restart: true` that was updated restarts the containers kept.
      const deps = Object.entries((p.services[s]?.depends_on as Record<string, Obj> | undefined) ?? {});
      if (deps.some(([d, opt]) => opt.restart === true && updated.has(d)))
        for (const c of kept.get(s) ?? []) {
          doing.set(s, `restarting container ${c.name}`);
          await docker.getContainer(c.id).restart({ abortSignal: run });
          c.step.action = RESTARTED;
          o.progress(done, total, `container ${c.name} restarted`);
        }
      doing.delete(s);
      done++;
    }
  }
}

type Listed = Awaited<ReturnType<typeof projectContainers>>;
/** A container `up` made or found stopped, to start; `action` when starting it is its step. */
type ToStart = { id: string; name: string; action?: 'started' };

/** The dependencies a service waits for to be healthy. */
const healthyDependencies = (svc: Obj): string[] =>
  Object.entries((svc.depends_on as Record<string, Obj> | undefined) ?? {})
    .filter(([, d]) => d.condition === 'service_healthy')
    .map(([d]) => d);

/** The services whose containers a service's creation names: network_mode, pid or ipc service:, links, volumes_from. */
function creationNeeds(svc: Obj): string[] {
  return [...sharedServices(svc), ...linkedServices(svc)].map(([, d]) => d);
}

const name = (c: { Names?: string[] }) => (c.Names?.[0] ?? '').replace(/^\//, '');
