/** Waiting in `up` for a dependency's condition (started, healthy, completed), stopping when the call is aborted. */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import type { Project } from './load.ts';
import type { Obj } from './normalise.ts';
import { projectContainers } from './running.ts';
import { L } from './spec.ts';

/** A container's state for a condition, from the list's State and Status ("Up 2 s (healthy)", "Exited (0) …"). */
function verdict(c: { State: string; Status: string }, cond: string): 'ok' | 'failed' | 'pending' {
  if (cond === 'service_healthy') {
    if (/\(healthy\)/.test(c.Status)) return 'ok';
    return /\(unhealthy\)/.test(c.Status) || c.State === 'exited' || c.State === 'dead'
      ? 'failed'
      : 'pending';
  }
  if (c.State !== 'exited' && c.State !== 'dead') return 'pending';
  return /^Exited \(0\)/.test(c.Status) ? 'ok' : 'failed';
}

type Listed = Awaited<ReturnType<typeof projectContainers>>;

/**
 * The project's containers for every service waiting on a condition: one list per tick (every
 * `everyMs`), shared by all waiters, however many services wait on however many dependencies.
 */
export class ProjectPoll {
  private next?: { at: number; list: Promise<Listed> };
  private last = 0;
  constructor(
    private readonly docker: Dockerode,
    private readonly project: string,
    private readonly signal: AbortSignal,
    private readonly everyMs = 100,
  ) {}

  /** A list whose request began at or after `since` (a waiter never judges by a list older than its question). */
  list(since: number): Promise<Listed> {
    const cur = this.next;
    if (cur && cur.at >= since) return cur.list;
    if (cur) return cur.list.then(() => this.list(since));
    const at = Math.max(Date.now(), since, this.last + this.everyMs);
    const list = (async () => {
      const wait = at - Date.now();
      if (wait > 0) await sleep(wait, this.signal);
      this.last = Date.now();
      try {
        return await projectContainers(this.docker, this.project, undefined, this.signal);
      } finally {
        this.next = undefined;
      }
    })();
    this.next = { at, list };
    return list;
  }
}

/**
 * Waits for each dependency's condition (healthy, completed successfully; started is the caller's
 * order), judging by the shared poll's lists.
 */
export async function waitForDependencies(
  p: Project,
  s: string,
  o: { signal: AbortSignal; waitTimeout?: number },
  poll: ProjectPoll,
  waiting: (dep: string, condition: string) => void,
  /** The project's containers as listed at the start, good for dependencies this call left unchanged. */
  known?: { containers: Listed; changed: ReadonlySet<string> },
): Promise<void> {
  const deps = (p.services[s]?.depends_on as Record<string, Obj> | undefined) ?? {};
  const deadline = Date.now() + (o.waitTimeout ?? 120) * 1000;
  const pending = new Map(
    Object.entries(deps)
      .map(([dep, d]) => [dep, String(d.condition ?? 'service_started')] as const)
      .filter(([dep, cond]) => cond !== 'service_started' && p.services[dep]),
  );
  // A second up: dependencies left as they were, and already there, need no poll.
  let cs = known && [...pending.keys()].every((d) => !known.changed.has(d)) ? known.containers : undefined;
  const asked = Date.now();
  while (pending.size > 0) {
    o.signal.throwIfAborted();
    const [first, cond] = [...pending][0] as [string, string];
    waiting(first, cond);
    cs ??= await poll.list(asked);
    for (const [dep, condition] of [...pending]) {
      const mine = cs.filter((c) => c.Labels[L.service] === dep);
      const states = mine.map((c) => verdict(c, condition));
      if (states.length > 0 && states.every((v) => v === 'ok')) {
        pending.delete(dep);
        continue;
      }
      const failed = states.includes('failed');
      if (failed || Date.now() > deadline)
        throw new ToolError(
          failed ? 'conflict' : 'timeout',
          `service "${s}" waits for "${dep}" (${condition}), which ${failed ? 'failed' : 'did not get there in time'}`,
          { hint: `Read its logs (docker_compose_logs with services: ["${dep}"]).` },
        );
    }
    cs = undefined;
  }
}

/** Waits `ms`, or less when the signal aborts (then throws its reason). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', done);
      resolve();
    }, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
