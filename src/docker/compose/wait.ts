/** Waiting in `up` for a dependency's condition (started, healthy, completed), stopping when the call is aborted. */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import { consume, engineStream } from '../streams.ts';
import { NO_HEALTHCHECK_HINT } from './keys.ts';
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
 * A running dependency whose list row shows no health (`Up 3 seconds`, not `(health: starting)`) is
 * inspected, once: without a healthcheck (none in the file or its image) it never gets healthy, and
 * the wait fails at once, as Compose's does ("has no healthcheck configured").
 */
async function refuseUnchecked(
  poll: ProjectPoll,
  mine: Listed,
  s: string,
  dep: string,
  signal: AbortSignal,
): Promise<void> {
  for (const c of mine) {
    if (c.State !== 'running' || /health/.test(c.Status) || poll.inspected.has(c.Id)) continue;
    poll.inspected.add(c.Id);
    const info = (await poll.docker
      .getContainer(c.Id)
      .inspect({ abortSignal: signal } as never)) as unknown as {
      State?: { Health?: { Status?: string } };
    };
    if (!info.State?.Health?.Status)
      throw new ToolError(
        'conflict',
        `service "${s}" waits for "${dep}" to be healthy (service_healthy), but its container ${(c.Names?.[0] ?? c.Id).replace(/^\//, '')} has no healthcheck configured`,
        { hint: NO_HEALTHCHECK_HINT(dep) },
      );
  }
}

/**
 * The project's containers for every service waiting on a condition: one list per tick (every
 * `everyMs`), shared by all waiters, however many services wait on however many dependencies. The
 * project's engine events (a healthcheck's verdict, a container's exit) wake it before its tick;
 * without them (an engine that streams none) it still polls.
 */
export class ProjectPoll {
  private next?: { at: number; list: Promise<Listed> };
  private last = 0;
  /** An event came since the last list: the next list need not wait for its tick. */
  private woken = false;
  private wake?: () => void;
  private readonly stop = new AbortController();
  private watching = false;
  private readonly signal: AbortSignal;
  /** Containers already inspected for a healthcheck (refuseUnchecked). */
  readonly inspected = new Set<string>();
  constructor(
    readonly docker: Dockerode,
    private readonly project: string,
    signal: AbortSignal,
    private readonly everyMs = 100,
  ) {
    this.signal = AbortSignal.any([signal, this.stop.signal]);
  }

  /** Ends the event stream and any wait. */
  close(): void {
    this.stop.abort();
  }

  /** A list whose request began at or after `since` (a waiter never judges by a list older than its question). */
  list(since: number): Promise<Listed> {
    this.watch();
    const cur = this.next;
    if (cur && cur.at >= since) return cur.list;
    if (cur) return cur.list.then(() => this.list(since));
    const at = Math.max(Date.now(), since, this.woken ? 0 : this.last + this.everyMs);
    const list = (async () => {
      if (at > Date.now() && !this.woken) await this.pause(at - Date.now());
      this.woken = false;
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

  /** Opens the project's event stream once; an event missed before it opens is seen by the next tick. */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    const filters = JSON.stringify({
      type: ['container'],
      label: [`${L.project}=${this.project}`],
      event: ['health_status', 'die'],
    });
    const woke = () => {
      this.woken = true;
      this.wake?.();
      return undefined;
    };
    engineStream(this.docker, '/events', { filters }, this.signal)
      .then((stream) => consume(stream, woke, this.signal))
      .catch(() => undefined);
  }

  /** Waits `ms`, or until an event wakes it; throws the signal's reason when aborted. */
  private pause(ms: number): Promise<void> {
    const { signal } = this;
    return new Promise((resolve, reject) => {
      const clear = () => {
        clearTimeout(t);
        this.wake = undefined;
        signal.removeEventListener('abort', aborted);
      };
      const done = () => {
        clear();
        resolve();
      };
      const aborted = () => {
        clear();
        reject(signal.reason);
      };
      const t = setTimeout(done, ms);
      this.wake = done;
      if (signal.aborted) return aborted();
      signal.addEventListener('abort', aborted, { once: true });
    });
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
      if (condition === 'service_healthy') await refuseUnchecked(poll, mine, s, dep, o.signal);
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
