/**
 * What the dashboard shows, read from the engine in one pass: every container as a row (state, health,
 * ports, and CPU and memory from one stats sample each, taken in parallel), the Compose projects they
 * belong to, and the actions on them the caller may take. Plain data; the tool and its view shape nothing.
 */
import type Dockerode from 'dockerode';
import { containerRow } from '../../docker/containers.ts';
import { statsSample, summariseStats } from '../../docker/stats.ts';

const PROJECT = 'com.docker.compose.project';
const SERVICE = 'com.docker.compose.service';

/** The tools the view can call, in the order it shows them; the result keeps those the gate allows. */
export const DASHBOARD_ACTIONS = [
  'docker_start_container',
  'docker_stop_container',
  'docker_restart_container',
  'docker_remove_container',
  'docker_prune_containers',
  'docker_container_logs',
] as const;

/** Grouping by project is offered when the compose toolset is on for the caller. */
export const COMPOSE_PROBE = 'docker_compose_ps';

/**
 * The tools whose data the dashboard shows: a caller they are refused to sees no rows, or no CPU and
 * memory, as those tools would show them nothing.
 */
export const LIST_TOOL = 'docker_list_containers';
export const STATS_TOOL = 'docker_container_stats';

/** Why parts are left out: the gate's reason for refusing the tool that shows them. */
export interface Hidden {
  containers?: string;
  stats?: string;
}

/** The same, as the result lists it. */
export const hiddenList = (h: Hidden): string[] => [
  ...(h.containers ? [`containers: ${h.containers}`] : []),
  ...(h.stats ? [`CPU and memory: ${h.stats}`] : []),
];

export interface DashboardRow {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  health?: string;
  ports?: string[];
  project?: string;
  service?: string;
  cpu_percent?: number;
  memory?: { used: number; limit: number; percent: number };
}

export interface ProjectRow {
  name: string;
  containers: number;
  running: number;
}

/** `Up 3 minutes (healthy)` → healthy; `(health: starting)` → starting. */
export function healthOf(status: string): string | undefined {
  const m = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  if (!m) return undefined;
  return m[1] === 'health: starting' ? 'starting' : m[1];
}

type Listed = Dockerode.ContainerInfo;

/** One row per container; `sampled` holds the stats of those sampled (running ones). */
export function rowOf(c: Listed, sampled?: ReturnType<typeof summariseStats>, grouped = false): DashboardRow {
  const base = containerRow(c);
  const health = healthOf(c.Status);
  const project = grouped ? c.Labels?.[PROJECT] : undefined;
  const service = grouped ? c.Labels?.[SERVICE] : undefined;
  return {
    ...base,
    ...(health && { health }),
    ...(project && { project }),
    ...(project && service && { service }),
    ...(sampled && { cpu_percent: sampled.cpu_percent, memory: sampled.memory }),
  };
}

/** The projects the rows belong to, by name, with how many of their containers run. */
export function projectsOf(rows: readonly DashboardRow[]): ProjectRow[] {
  const by = new Map<string, ProjectRow>();
  for (const r of rows) {
    if (!r.project) continue;
    const p = by.get(r.project) ?? { name: r.project, containers: 0, running: 0 };
    p.containers += 1;
    if (r.state === 'running') p.running += 1;
    by.set(r.project, p);
  }
  return [...by.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * One stats sample of each of `ids`, in parallel (a sample takes about a second: the engine reads the
 * counters twice to compute CPU %). A container that stopped meanwhile simply has none.
 */
export async function sampleAll(
  docker: Dockerode,
  ids: readonly string[],
  signal: AbortSignal,
): Promise<Map<string, ReturnType<typeof summariseStats>>> {
  const out = new Map<string, ReturnType<typeof summariseStats>>();
  await Promise.all(
    ids.map(async (id) => {
      try {
        out.set(id, summariseStats(await statsSample(docker, id, signal)));
      } catch (e) {
        if (signal.aborted) throw e;
      }
    }),
  );
  return out;
}

/** One line for clients that only read text; it says when the engine has more than the rows shown. */
export function summaryOf(
  rows: readonly DashboardRow[],
  projects: readonly ProjectRow[],
  total = rows.length,
  hidden: Hidden = {},
): string {
  if (hidden.containers) return `Containers not shown: ${hidden.containers}`;
  const running = rows.filter((r) => r.state === 'running').length;
  const unhealthy = rows.filter((r) => r.health === 'unhealthy').length;
  const parts = [`${running} of ${rows.length} containers running`];
  if (unhealthy > 0) parts.push(`${unhealthy} unhealthy`);
  if (projects.length > 0)
    parts.push(`${projects.length} Compose project${projects.length === 1 ? '' : 's'}`);
  if (total > rows.length) parts.push(`showing ${rows.length} of ${total} (--max-list-results)`);
  if (hidden.stats) parts.push(`CPU and memory not shown: ${hidden.stats}`);
  return parts.join('; ');
}
