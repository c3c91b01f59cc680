/**
 * A Compose project as it runs on the engine, found by its labels: its containers, taking it down,
 * and the projects there are (ours and Docker Compose's). Needs no files. Knows nothing of MCP.
 */
import type Dockerode from 'dockerode';
import type { ProgressFn } from '../../core/progress.ts';
import { INHERITED_LABEL, isAnonymousVolume } from './inherit.ts';
import type { Project } from './load.ts';
import type { Step } from './project.ts';
import { L } from './spec.ts';
import { partWay } from './stopped.ts';

const name = (c: { Names?: string[] }) => (c.Names?.[0] ?? '').replace(/^\//, '');

export const projectFilter = (name: string, service?: string) => ({
  label: [`${L.project}=${name}`, ...(service ? [`${L.service}=${service}`] : [])],
});

export async function projectContainers(
  docker: Dockerode,
  name: string,
  services?: string[],
  signal?: AbortSignal,
) {
  const all = await docker.listContainers({ all: true, filters: projectFilter(name), abortSignal: signal });
  return all
    .filter((c) => c.Labels[L.oneoff] !== 'True')
    .filter((c) => !services?.length || services.includes(c.Labels[L.service] ?? ''))
    .sort((a, b) =>
      `${a.Labels[L.service]}-${(a.Labels[L.number] ?? '').padStart(4, '0')}`.localeCompare(
        `${b.Labels[L.service]}-${(b.Labels[L.number] ?? '').padStart(4, '0')}`,
      ),
    );
}

/**
 * The project's containers of services its files no longer define. A service left out by profiles
 * is still defined (Compose v2 keeps its containers), as is one `up` was not asked to start.
 */
export function orphansOf<C extends { Labels: Record<string, string> }>(p: Project, containers: C[]): C[] {
  return containers.filter((c) => {
    const s = c.Labels[L.service] ?? '';
    return !p.services[s] && !p.disabled.includes(s);
  });
}

/** What a confirmed down may take: the ids of the containers and networks, and the volume names, it showed. */
export interface DownPlan {
  containers: string[];
  networks: string[];
  volumes: string[];
}

const NOT_ASKED = 'left: not in the question the user accepted';

interface DownOptions {
  volumes?: boolean;
  timeout?: number;
  signal: AbortSignal;
  progress: ProgressFn;
  only?: DownPlan;
  /** Each service's dependencies from the project's files, when the call gave them. */
  dependsOn?: Record<string, string[]>;
}

/**
 * Stops and removes the project's containers and networks; its named volumes and its containers'
 * anonymous volumes only when asked. Never images. With `only` (a confirmed down), what the question
 * did not show is left and reported. Stopped part-way, the answer says what was removed.
 */
export async function down(docker: Dockerode, project: string, o: DownOptions): Promise<Step[]> {
  const steps: Step[] = [];
  const removed: string[] = [];
  const part = partWay(o.signal, removed, 'removed', 'Run docker_compose_down again to remove the rest.');
  const record = (step: Step) => {
    steps.push(step);
    if (step.action === 'removed') removed.push(step.object);
  };
  try {
    await removeAll(docker, project, o, record);
    return steps;
  } catch (e) {
    throw part.failed(e);
  } finally {
    part.dispose();
  }
}

async function removeAll(docker: Dockerode, project: string, o: DownOptions, record: (s: Step) => void) {
  const { signal, only } = o;
  const asked = (list: string[] | undefined, key: string) => !list || list.includes(key);
  const cs = await docker.listContainers({ all: true, filters: projectFilter(project), abortSignal: signal });
  // Told before the containers go: what mounts a volume and how is read from them.
  const anonymous = o.volumes
    ? await anonymousVolumes(
        docker,
        cs.filter((c) => asked(only?.containers, c.Id)),
        signal,
      )
    : [];
  let left = false;
  let removedCount = 0;
  // Dependents before what they depend on, each level at once (as Compose does): a database is not
  // stopped under a web server still using it, and N containers take one stop timeout, not N.
  for (const level of stopLevels(cs, o.dependsOn)) {
    const mine = level.filter((c) => asked(only?.containers, c.Id));
    for (const c of level.filter((c) => !mine.includes(c))) {
      left = true;
      record({ service: c.Labels[L.service], object: `container ${name(c)}`, action: NOT_ASKED });
    }
    const done = await Promise.allSettled(
      mine.map(async (c) => {
        const ctr = docker.getContainer(c.Id);
        if (c.State === 'running')
          await ctr
            .stop({ ...(o.timeout !== undefined && { t: o.timeout }), abortSignal: signal })
            .catch(() => undefined);
        await ctr.remove({ force: true, v: false, abortSignal: signal });
        record({ service: c.Labels[L.service], object: `container ${name(c)}`, action: 'removed' });
        o.progress(++removedCount, undefined, `container ${name(c)} removed`);
      }),
    );
    const failed = done.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  // A container left in place may still use a network or volume: that one stays too, and says why.
  const removeOr = async (object: string, remove: () => Promise<unknown>) => {
    try {
      await remove();
      record({ object, action: 'removed' });
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (!left || (status !== 403 && status !== 409)) throw e;
      record({ object, action: 'left: in use by a container not in the question' });
    }
  };
  for (const n of (await docker.listNetworks({ filters: projectFilter(project), abortSignal: signal })) ??
    []) {
    if (!asked(only?.networks, n.Id)) record({ object: `network ${n.Name}`, action: NOT_ASKED });
    else await removeOr(`network ${n.Name}`, () => docker.getNetwork(n.Id).remove({ abortSignal: signal }));
  }
  if (!o.volumes) return;
  for (const v of (await docker.listVolumes({ filters: projectFilter(project), abortSignal: signal }))
    .Volumes ?? []) {
    if (!asked(only?.volumes, v.Name)) record({ object: `volume ${v.Name}`, action: NOT_ASKED });
    else await removeOr(`volume ${v.Name}`, () => docker.getVolume(v.Name).remove({ abortSignal: signal }));
  }
  // The anonymous volumes of the containers removed, as `docker compose down -v` removes them.
  for (const v of anonymous) {
    if (!asked(only?.volumes, v)) {
      record({ object: `volume ${v}`, action: NOT_ASKED });
      continue;
    }
    try {
      await docker.getVolume(v).remove({ abortSignal: signal });
      record({ object: `volume ${v}`, action: 'removed' });
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status === 404) continue;
      if (status !== 409) throw e;
      record({ object: `volume ${v}`, action: 'left: in use by another container' });
    }
  }
}

/** A container as inspected, as far as telling its anonymous volumes goes. */
interface Inspected {
  Config?: { Labels?: Record<string, string> | null };
  HostConfig?: { Binds?: string[] | null; Mounts?: { Type?: string; Source?: string }[] | null };
  Mounts?: { Type?: string; Name?: string }[];
}

/**
 * The volumes the engine made for `containers` (the project's) with no name given, each once: an
 * image's VOLUME or `volumes: ["/data"]`, kept by name on a recreate (INHERITED_LABEL). A volume the
 * project names (declared, external) is not one, whatever its name looks like; nor is one another
 * container, not in `containers`, also mounts.
 */
export async function anonymousVolumes(
  docker: Dockerode,
  containers: readonly { Id: string }[],
  signal?: AbortSignal,
): Promise<string[]> {
  if (containers.length === 0) return [];
  const found = new Set<string>();
  for (const c of containers) {
    const i = await (
      docker.getContainer(c.Id).inspect({ abortSignal: signal } as never) as unknown as Promise<Inspected>
    ).catch(() => undefined);
    if (!i) continue;
    const inherited = new Set((i.Config?.Labels?.[INHERITED_LABEL] ?? '').split(',').filter(Boolean));
    const named = new Set([
      ...(i.HostConfig?.Binds ?? []).map((b) => b.split(':')[0] ?? ''),
      ...(i.HostConfig?.Mounts ?? []).filter((m) => m.Type === 'volume').map((m) => m.Source ?? ''),
    ]);
    for (const m of i.Mounts ?? [])
      if (m.Type === 'volume' && isAnonymousVolume(m.Name) && (!named.has(m.Name) || inherited.has(m.Name)))
        found.add(m.Name);
  }
  if (found.size === 0) return [];
  const ours = new Set(containers.map((c) => c.Id));
  const others = await docker.listContainers({
    all: true,
    filters: { volume: [...found] },
    abortSignal: signal,
  });
  for (const o of others)
    if (!ours.has(o.Id)) for (const m of o.Mounts ?? []) if (m.Name) found.delete(m.Name);
  return [...found];
}

/**
 * The containers in the order `down` stops them: first those no other container depends on, then what
 * only those depended on, and so on. Dependencies come from the project's files when the call gave
 * them (`dependsOn`, by service), else from the depends_on labels (down needs no files, and Docker
 * Compose v1 writes no such label). A cycle, or a dependency with no container, holds nothing back.
 */
export function stopLevels<T extends { Labels: Record<string, string> }>(
  cs: T[],
  dependsOn: Record<string, string[]> = {},
): T[][] {
  const service = (c: T) => c.Labels[L.service] ?? '';
  const present = new Set(cs.map(service));
  const dependents = new Map<string, Set<string>>();
  for (const c of cs)
    for (const d of dependsOn[service(c)] ??
      (c.Labels[L.dependsOn] ?? '').split(',').map((x) => x.split(':')[0] ?? ''))
      if (d && d !== service(c) && present.has(d))
        dependents.set(d, (dependents.get(d) ?? new Set()).add(service(c)));
  // A service's level: one more than its highest dependent's (0 with none); a cycle counts as none.
  const level = new Map<string, number>();
  const levelOf = (s: string, path: Set<string>): number => {
    const known = level.get(s);
    if (known !== undefined) return known;
    path.add(s);
    let l = 0;
    for (const d of dependents.get(s) ?? []) if (!path.has(d)) l = Math.max(l, levelOf(d, path) + 1);
    path.delete(s);
    level.set(s, l);
    return l;
  };
  const levels: T[][] = [];
  for (const c of cs) {
    const l = levelOf(service(c), new Set());
    levels[l] = [...(levels[l] ?? []), c];
  }
  return levels.filter(Boolean);
}

/** Compose projects on the engine (ours and Docker Compose's), from their containers' labels. */
export async function listProjects(docker: Dockerode, signal: AbortSignal) {
  const cs = await docker.listContainers({ all: true, filters: { label: [L.project] }, abortSignal: signal });
  const byName = new Map<string, { name: string; states: Record<string, number>; config_files: string }>();
  for (const c of cs) {
    const n = c.Labels[L.project] ?? '';
    const row = byName.get(n) ?? { name: n, states: {}, config_files: c.Labels[L.configFiles] ?? '' };
    row.states[c.State] = (row.states[c.State] ?? 0) + 1;
    byName.set(n, row);
  }
  return [...byName.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((r) => ({
      name: r.name,
      status: Object.entries(r.states)
        .map(([s, k]) => `${s}(${k})`)
        .join(', '),
      config_files: r.config_files,
    }));
}
