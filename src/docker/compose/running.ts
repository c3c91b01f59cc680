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

/** Stops and removes the project's containers and networks; its named volumes only when asked. Never images. */
export async function down(
  docker: Dockerode,
  project: string,
  o: { volumes?: boolean; timeout?: number; signal: AbortSignal; progress: ProgressFn },
): Promise<Step[]> {
  const steps: Step[] = [];
  const { signal } = o;
  const cs = await docker.listContainers({ all: true, filters: projectFilter(project), abortSignal: signal });
  for (const c of cs) {
    const ctr = docker.getContainer(c.Id);
    if (c.State === 'running')
      await ctr
        .stop({ ...(o.timeout !== undefined && { t: o.timeout }), abortSignal: signal })
        .catch(() => undefined);
    await ctr.remove({ force: true, v: false, abortSignal: signal });
    steps.push({ service: c.Labels[L.service], object: `container ${name(c)}`, action: 'removed' });
    o.progress(steps.length, undefined, `container ${name(c)} removed`);
  }
  for (const n of (await docker.listNetworks({ filters: projectFilter(project), abortSignal: signal })) ??
    []) {
    await docker.getNetwork(n.Id).remove({ abortSignal: signal });
    steps.push({ object: `network ${n.Name}`, action: 'removed' });
  }
  if (o.volumes)
    for (const v of (await docker.listVolumes({ filters: projectFilter(project), abortSignal: signal }))
      .Volumes ?? []) {
      await docker.getVolume(v.Name).remove({ abortSignal: signal });
      steps.push({ object: `volume ${v.Name}`, action: 'removed' });
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
