/**
 * Whether a service has converged, by the rules of the docker CLI's convergence monitor (what
 * `docker service create/update` wait for): a service when every task it wants runs its current spec
 * and has kept running for the monitor window; a job when every task of its current run completed.
 * Pure: one look at the service and its tasks in, the verdict out; the waiting is the caller's.
 */
import { completionsOf, modeOf, replicasOf, type ServiceDoc } from './service-spec.ts';
import type { TaskDoc } from './tasks.ts';

/** A value with empty objects, lists and nulls left out, at every depth. */
function pruned(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pruned);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) {
    const p = pruned(x);
    if (p === null || p === undefined) continue;
    if (typeof p === 'object' && Object.keys(p).length === 0) continue;
    out[k] = p;
  }
  return out;
}

/**
 * A task template as a comparable string: a task's copy of its spec leaves out `Runtime` and empty
 * parts the service's spec may hold, so those are left out of both.
 */
export const specKey = (template: unknown): string => {
  const { Runtime: _runtime, ...rest } = (pruned(template) ?? {}) as Record<string, unknown>;
  return JSON.stringify(rest);
};

/** Task states in the order a task passes through them, as the docker CLI ranks them; others are skipped. */
const RANK: Record<string, number> = {
  new: 1,
  allocated: 2,
  pending: 3,
  assigned: 4,
  accepted: 5,
  preparing: 6,
  ready: 7,
  starting: 8,
  running: 9,
  complete: 10,
  shutdown: 11,
  failed: 12,
  rejected: 13,
};
const rank = (state: string | undefined) => RANK[state ?? ''] ?? 0;

/** How long a converged service must stay so before it counts: the CLI's default monitor period. */
export const DEFAULT_WINDOW_MS = 5000;

const SETTLED = new Set(['completed', 'rollback_completed']);
/** Update states that wait for someone to act: waiting longer changes nothing. */
export const STUCK = new Set(['paused', 'rollback_paused']);

export interface Convergence {
  /** Converged at this look (a service must then stay so for windowMs; a job is done). */
  converged: boolean;
  job: boolean;
  /** A service: tasks of the current spec running / tasks it wants. A job: running / completions of this run. */
  running: number;
  desired: number;
  /** A job: tasks of its current run that completed. */
  completed?: number;
  /** The tasks seen running; a different set means one restarted, and the window starts again. */
  watched: string;
  /**
   * A service: since when (ms) the engine says all of `watched` have run, and its last update settled:
   * the newest of their running times and the update's end. Absent when a time is missing.
   */
  runningSince?: number;
  /** The update's monitor period (update_config.monitor), else the CLI's 5 s. */
  windowMs: number;
  update?: string;
  message?: string;
  /** Why a task that should be running or completing is not: its own error or its predecessor's in the slot. */
  error?: string;
}

/** RFC 3339 times with their fraction padded to nanoseconds, so that they sort as text. */
const timeKey = (t: string | undefined) =>
  (t ?? '').replace(/(?:\.(\d+))?Z$/, (_, f: string | undefined) => `.${(f ?? '').padEnd(9, '0')}Z`);
const newestFirst = (a: TaskDoc, b: TaskDoc) => timeKey(b.CreatedAt).localeCompare(timeKey(a.CreatedAt));

function groups(tasks: TaskDoc[], key: (t: TaskDoc) => string): TaskDoc[][] {
  const by = new Map<string, TaskDoc[]>();
  for (const t of tasks) {
    const k = key(t);
    by.set(k, [...(by.get(k) ?? []), t]);
  }
  return [...by.values()].map((g) => g.sort(newestFirst));
}

/** The newest of the errors `pick` finds in each slot (tasks newest first). */
function newestError(slots: TaskDoc[][], pick: (slot: TaskDoc[]) => TaskDoc | undefined): string | undefined {
  const found = slots
    .map(pick)
    .filter((t): t is TaskDoc => !!t?.Status?.Err)
    .sort((a, b) => timeKey(b.Status?.Timestamp).localeCompare(timeKey(a.Status?.Timestamp)));
  return found[0]?.Status?.Err;
}

/**
 * A replicated or global service: every task it wants (replicas, or the engine's count of eligible
 * nodes for a global one) is meant to run, is of the current spec and is running, and the last
 * update settled. The error comes only from a slot (a node, for a global service) that is not
 * running: the error of its current task, or else of the task just before it (a task that exited
 * and is being restarted). Retired slots and old history are left out.
 */
function serviceConvergence(svc: ServiceDoc, tasks: TaskDoc[], desiredTasks: number | undefined) {
  const global = !!svc.Spec.Mode?.Global;
  const current = specKey(svc.Spec.TaskTemplate);
  const mine = tasks.filter((t) => t.DesiredState === 'running');
  const up = (t: TaskDoc) => t.Status?.State === 'running' && specKey(t.Spec) === current;
  const running = mine.filter(up);
  const desired = global ? (desiredTasks ?? mine.length) : (replicasOf(svc.Spec) ?? 0);
  const update = svc.UpdateStatus?.State;
  const converged = (!update || SETTLED.has(update)) && running.length === desired && mine.length === desired;
  const slots = groups(tasks, (t) => (global ? (t.NodeID ?? '') : String(t.Slot ?? '')));
  const error = converged
    ? undefined
    : newestError(slots, (slot) => {
        const i = slot.findIndex((t) => rank(t.DesiredState) > 0 && rank(t.DesiredState) <= rank('running'));
        const now = slot[i];
        if (!now || up(now)) return undefined;
        return now.Status?.Err ? now : slot[i + 1];
      });
  const since = converged
    ? newestTime([...running.map((t) => t.Status?.Timestamp), svc.UpdateStatus?.CompletedAt], !update)
    : undefined;
  return {
    converged,
    running: running.length,
    desired,
    watched: running
      .map((t) => t.ID)
      .sort()
      .join(','),
    ...(since !== undefined && { runningSince: since }),
    ...(error && { error }),
  };
}

/**
 * The newest of these engine times (ms), or undefined when one is missing or unreadable; the last may
 * be absent when `lastOptional` (a service never updated has no update end).
 */
function newestTime(times: (string | undefined)[], lastOptional: boolean): number | undefined {
  let newest = 0;
  for (const [i, t] of times.entries()) {
    if (t === undefined && lastOptional && i === times.length - 1) continue;
    const ms = t === undefined ? Number.NaN : Date.parse(t);
    if (Number.isNaN(ms)) return undefined;
    newest = Math.max(newest, ms);
  }
  return newest;
}

/**
 * A job: the tasks of its current run (a change of spec starts a new one), the least advanced per
 * slot (per node for a global job), as the CLI counts them. Done when as many completed as the run
 * needs: TotalCompletions, or for a global job one per node it started on.
 */
function jobConvergence(svc: ServiceDoc, tasks: TaskDoc[]) {
  const global = !!svc.Spec.Mode?.GlobalJob;
  const run = svc.JobStatus?.JobIteration?.Index ?? 0;
  const mine = tasks.filter(
    (t) => (t.JobIteration?.Index ?? 0) === run && rank(t.DesiredState) > 0 && rank(t.Status?.State) > 0,
  );
  const slots = groups(mine, (t) => (global ? (t.NodeID ?? '') : String(t.Slot ?? 0)));
  const least = slots.map((slot) =>
    slot.reduce((a, b) => (rank(b.Status?.State) < rank(a.Status?.State) ? b : a)),
  );
  const completed = least.filter((t) => t.Status?.State === 'complete').length;
  const desired = global ? slots.length : (completionsOf(svc.Spec) ?? 0);
  const converged = global ? desired > 0 && completed === desired : completed >= desired;
  const error = converged
    ? undefined
    : newestError(slots, (slot) =>
        slot.some((t) => t.Status?.State === 'complete') ? undefined : slot.find((t) => t.Status?.Err),
      );
  return {
    converged,
    running: least.filter((t) => t.Status?.State === 'running').length,
    desired,
    completed,
    watched: '',
    ...(error && { error }),
  };
}

/** One look at a service: its document, its tasks, and the engine's desired count (ServiceStatus). */
export function assess(svc: ServiceDoc, tasks: TaskDoc[], desiredTasks?: number): Convergence {
  const mode = modeOf(svc.Spec);
  const job = mode === 'replicated-job' || mode === 'global-job';
  const mine = tasks.filter((t) => t.ServiceID === svc.ID);
  const monitor = Number(svc.Spec.UpdateConfig?.Monitor ?? 0);
  const update = svc.UpdateStatus?.State;
  return {
    ...(job ? jobConvergence(svc, mine) : serviceConvergence(svc, mine, desiredTasks)),
    job,
    windowMs: monitor > 0 ? monitor / 1e6 : DEFAULT_WINDOW_MS,
    ...(update && { update }),
    ...(svc.UpdateStatus?.Message && { message: svc.UpdateStatus.Message }),
  };
}

/** Since when a service has been seen converged with the same tasks running. */
export interface Steady {
  since: number;
  watched: string;
}

/**
 * The CLI's stability rule: a look that is not converged, or in which other tasks run (one
 * restarted), starts the watch again; converged and watched for windowMs is met. A job is met at
 * once: completed tasks stay completed. A watch starts from when the engine says those tasks have
 * run (never later than now), so a service that has long been stable is met at the first look rather
 * than after a window of its own.
 */
export function watch(prev: Steady | undefined, c: Convergence, now: number): Steady | undefined {
  if (!c.converged) return undefined;
  if (prev && prev.watched === c.watched) return prev;
  return { since: Math.min(now, c.runningSince ?? now), watched: c.watched };
}

export const isMet = (c: Convergence, steady: Steady | undefined, now: number): boolean =>
  c.converged && (c.job || (!!steady && now - steady.since >= c.windowMs));
