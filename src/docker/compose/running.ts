/**
 * A Compose project as it runs on the engine, found by its labels: its containers, taking it down,
 * and the projects there are (ours and Docker Compose's). Needs no files. Knows nothing of MCP.
 */
import type Dockerode from 'dockerode';
import type { ProgressFn } from '../../core/progress.ts';
import type { Step } from './project.ts';
import { L } from './spec.ts';

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

/** What a confirmed down may take: the ids of the containers and networks, and the volume names, it showed. */
export interface DownPlan {
  containers: string[];
  networks: string[];
  volumes: string[];
}

const NOT_ASKED = 'left: not in the question the user accepted';

/**
 * Stops and removes the project's containers and networks; its named volumes only when asked. Never
 * images. With `only` (a confirmed down), what the question did not show is left and reported.
 */
export async function down(
  docker: Dockerode,
  project: string,
  o: { volumes?: boolean; timeout?: number; signal: AbortSignal; progress: ProgressFn; only?: DownPlan },
): Promise<Step[]> {
  const steps: Step[] = [];
  const { signal, only } = o;
  const asked = (list: string[] | undefined, key: string) => !list || list.includes(key);
  const cs = await docker.listContainers({ all: true, filters: projectFilter(project), abortSignal: signal });
  let left = false;
  for (const c of cs) {
    if (!asked(only?.containers, c.Id)) {
      left = true;
      steps.push({ service: c.Labels[L.service], object: `container ${name(c)}`, action: NOT_ASKED });
      continue;
    }
    const ctr = docker.getContainer(c.Id);
    if (c.State === 'running')
      await ctr
        .stop({ ...(o.timeout !== undefined && { t: o.timeout }), abortSignal: signal })
        .catch(() => undefined);
    await ctr.remove({ force: true, v: false, abortSignal: signal });
    steps.push({ service: c.Labels[L.service], object: `container ${name(c)}`, action: 'removed' });
    o.progress(steps.length, undefined, `container ${name(c)} removed`);
  }
  // A container left in place may still use a network or volume: that one stays too, and says why.
  const removeOr = async (object: string, remove: () => Promise<unknown>) => {
    try {
      await remove();
      steps.push({ object, action: 'removed' });
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (!left || (status !== 403 && status !== 409)) throw e;
      steps.push({ object, action: 'left: in use by a container not in the question' });
    }
  };
  for (const n of (await docker.listNetworks({ filters: projectFilter(project), abortSignal: signal })) ??
    []) {
    if (!asked(only?.networks, n.Id)) steps.push({ object: `network ${n.Name}`, action: NOT_ASKED });
    else await removeOr(`network ${n.Name}`, () => docker.getNetwork(n.Id).remove({ abortSignal: signal }));
  }
  if (o.volumes)
    for (const v of (await docker.listVolumes({ filters: projectFilter(project), abortSignal: signal }))
      .Volumes ?? []) {
      if (!asked(only?.volumes, v.Name)) steps.push({ object: `volume ${v.Name}`, action: NOT_ASKED });
      else await removeOr(`volume ${v.Name}`, () => docker.getVolume(v.Name).remove({ abortSignal: signal }));
    }
  return steps;
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
