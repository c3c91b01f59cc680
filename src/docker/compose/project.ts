/**
 * A Compose project on the engine: up (networks, volumes, containers in dependency order, recreated
 * only when their config hash changed), down, and finding a project's containers by label. Every
 * container's create body passes the engine's policy before anything is made, so a project that
 * asks for something the policy refuses leaves nothing behind. Knows nothing of MCP.
 */
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { EngineFacts } from '../../core/engine.ts';
import { ToolError } from '../../core/errors.ts';
import type { ProgressFn } from '../../core/progress.ts';
import { createRequest } from '../container-spec.ts';
import { engineError } from '../errors.ts';
import { readProgressStream } from '../json-stream.ts';
import type { Project } from './load.ts';
import type { Obj } from './normalise.ts';
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
    const mode = p.services[n]?.network_mode;
    const shared =
      typeof mode === 'string' && mode.startsWith('service:') ? [mode.slice('service:'.length)] : [];
    for (const d of [...Object.keys((p.services[n]?.depends_on as Obj | undefined) ?? {}), ...shared])
      if (p.services[d]) visit(d, [...path, n]);
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
      for (const ref of (p.services[s]?.[kind] as Obj[] | undefined) ?? [])
        if (typeof p[kind][String(ref.source)]?.file !== 'string')
          throw new ToolError(
            'invalid_argument',
            `service "${s}": ${kind} "${String(ref.source)}" is not backed by a file`,
            {
              hint: `Only file: ${kind} are supported by up yet; give it a file.`,
            },
          );
  await checkProject(docker, facts, p, services);

  const steps: Step[] = [];
  const total = services.length + 2;
  let done = 0;
  const step = (s: Step) => {
    steps.push(s);
    o.progress(done, total, `${s.object} ${s.action}`);
  };
  const { signal } = o;
  try {
    await apply();
  } catch (e) {
    throw partial(e, steps, signal);
  }
  o.progress(total, total, 'up');
  return steps;

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
    for (const s of services) {
      signal.throwIfAborted();
      const svc = p.services[s] as Obj;
      await waitForDependencies(docker, p, s, o);
      const image = serviceImage(p, s);
      if (svc.build && o.build) {
        const have = await (
          docker.getImage(image).inspect({ abortSignal: signal } as never) as unknown as Promise<unknown>
        ).then(
          () => true,
          () => false,
        );
        if (!have) {
          await o.build(s, image, svc.build as Obj, (m) => o.progress(done, total, m));
          step({ service: s, object: `image ${image}`, action: 'built' });
        }
      }
      await ensureImage(docker, image, pullPolicy(svc, o.pull), signal, step, s, (m) =>
        o.progress(done, total, m),
      );
      const n = replicas(svc);
      for (let i = 1; i <= n; i++) {
        const spec = serviceSpec(p, s, i);
        const mine = existing.find((c) => c.Labels[L.service] === s && c.Labels[L.number] === String(i));
        if (mine && mine.Labels[L.hash] === spec.labels?.[L.hash]) {
          if (mine.State === 'running')
            step({ service: s, object: `container ${spec.name}`, action: 'unchanged' });
          else {
            await docker.getContainer(mine.Id).start({ abortSignal: signal });
            step({ service: s, object: `container ${spec.name}`, action: 'started' });
          }
          continue;
        }
        if (mine) await docker.getContainer(mine.Id).remove({ force: true, abortSignal: signal });
        const { query, body } = createRequest(spec);
        const created = await docker.createContainer({ ...body, ...query, abortSignal: signal } as never);
        for (const key of Object.keys(serviceNetworks(svc)).slice(1))
          await docker.getNetwork(resourceName(p.name, key, p.networks[key])).connect({
            Container: created.id,
            EndpointConfig: { Aliases: endpoint(s, serviceNetworks(svc)[key]).aliases },
            abortSignal: signal,
          } as never);
        await created.start({ abortSignal: signal });
        step({ service: s, object: `container ${spec.name}`, action: mine ? 'recreated' : 'created' });
      }
      // Replicas beyond the count go.
      for (const c of existing.filter((c) => c.Labels[L.service] === s && Number(c.Labels[L.number]) > n)) {
        await docker.getContainer(c.Id).remove({ force: true, abortSignal: signal });
        step({ service: s, object: `container ${name(c)}`, action: 'removed' });
      }
      done++;
    }
    if (o.removeOrphans)
      for (const c of existing.filter((c) => !p.services[c.Labels[L.service] ?? ''])) {
        await docker.getContainer(c.Id).remove({ force: true, abortSignal: signal });
        step({ service: c.Labels[L.service], object: `container ${name(c)}`, action: 'removed' });
      }
  }
}

/** A service's pull_policy (Compose spells `if_not_present` and `build` too) over the call's. */
function pullPolicy(svc: Obj, call: UpOptions['pull']): 'missing' | 'always' | 'never' {
  const own = svc.pull_policy === 'if_not_present' ? 'missing' : svc.pull_policy;
  return own === 'always' || own === 'never' || own === 'missing' ? own : (call ?? 'missing');
}

/**
 * A failure (or cancel, or timeout) after some steps: the error it was, saying what exists now, so
 * nothing is left half-made without the caller knowing. Before any step, the error as it is.
 */
function partial(e: unknown, steps: Step[], signal: AbortSignal): unknown {
  if (steps.length === 0) return e;
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  const base = reason instanceof ToolError ? reason : e instanceof ToolError ? e : engineError(e);
  if (!base) return e;
  const made = steps.map((s) => `${s.object} ${s.action}`).join(', ');
  return new ToolError(base.kind, `${base.message}; done before it stopped: ${made}`, {
    hint: `${base.hint ? `${base.hint} ` : ''}Run docker_compose_up again to finish, or docker_compose_down to remove it.`,
    retryable: base.retryable,
  });
}

const name = (c: { Names?: string[] }) => (c.Names?.[0] ?? '').replace(/^\//, '');

async function ensureImage(
  docker: Dockerode,
  image: string,
  pull: 'missing' | 'always' | 'never',
  signal: AbortSignal,
  step: (s: Step) => void,
  service: string,
  progress: (message: string) => void,
): Promise<void> {
  const have = await (
    docker.getImage(image).inspect({ abortSignal: signal } as never) as unknown as Promise<unknown>
  ).then(
    () => true,
    () => false,
  );
  if (have && pull !== 'always') return;
  if (!have && pull === 'never')
    throw new ToolError(
      'not_found',
      `service "${service}": image ${image} is not on the engine and pull is never`,
      {
        hint: 'Pull it (docker_pull_image) or set pull: missing.',
      },
    );
  // Without a tag the engine would pull every tag of the repository: name latest, as Compose does.
  const named = image.includes('@') || /:[^/]+$/.test(image) ? image : `${image}:latest`;
  let last = '';
  try {
    const stream = await docker.createImage({ fromImage: named, abortSignal: signal });
    await readProgressStream(
      stream as Readable,
      (m) => {
        if (m.status && m.status !== last) {
          last = m.status;
          progress(`${service}: ${m.status}`);
        }
      },
      signal,
    );
  } catch (e) {
    throw new ToolError(
      'not_found',
      `service "${service}": pulling ${named} failed: ${(e as Error).message}`,
      {
        hint: 'Check the image name, pull it with docker_pull_image (which takes credentials), or set pull: never.',
        retryable: true,
      },
    );
  }
  step({ service, object: `image ${image}`, action: 'pulled' });
}

/** Waits for each dependency's condition (started, healthy, completed successfully). */
async function waitForDependencies(docker: Dockerode, p: Project, s: string, o: UpOptions): Promise<void> {
  const deps = (p.services[s]?.depends_on as Record<string, Obj> | undefined) ?? {};
  const deadline = Date.now() + (o.waitTimeout ?? 120) * 1000;
  for (const [dep, d] of Object.entries(deps)) {
    const cond = String(d.condition ?? 'service_started');
    if (cond === 'service_started' || !p.services[dep]) continue;
    for (;;) {
      o.signal.throwIfAborted();
      const cs = await projectContainers(docker, p.name, [dep], o.signal);
      const infos = await Promise.all(
        cs.map((c) => docker.getContainer(c.Id).inspect({ abortSignal: o.signal })),
      );
      const ok =
        infos.length > 0 &&
        infos.every((i) =>
          cond === 'service_healthy'
            ? i.State.Health?.Status === 'healthy'
            : !i.State.Running && i.State.ExitCode === 0 && i.State.Status === 'exited',
        );
      if (ok) break;
      const failed = infos.find((i) =>
        cond === 'service_healthy'
          ? i.State.Health?.Status === 'unhealthy'
          : !i.State.Running && i.State.ExitCode !== 0,
      );
      if (failed || Date.now() > deadline)
        throw new ToolError(
          failed ? 'conflict' : 'timeout',
          `service "${s}" waits for "${dep}" (${cond}), which ${failed ? 'failed' : 'did not get there in time'}`,
          { hint: `Read its logs (docker_compose_logs with services: ["${dep}"]).` },
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
