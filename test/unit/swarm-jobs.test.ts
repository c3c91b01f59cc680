/**
 * Swarm jobs and convergence without an engine: the mode names and the REPLICAS text of `docker
 * service ls` (jobs with their completions), the modes a create or update may set, a Compose
 * deploy.mode as `docker stack deploy` converts it, and the convergence rule of the CLI's monitor
 * (a service stays running for the window, a job completes its run), with errors only from slots
 * that are not running.
 */
import { describe, expect, it } from 'bun:test';
import type { ToolError } from '../../src/core/errors.ts';
import { loadProject } from '../../src/docker/compose/load.ts';
import { assess, isMet, watch } from '../../src/docker/swarm/convergence.ts';
import {
  modeOf,
  replicasText,
  type ServiceDoc,
  type ServiceSpec,
  serviceRow,
  serviceSpec,
} from '../../src/docker/swarm/service-spec.ts';
import { convertService } from '../../src/docker/swarm/stack-spec.ts';
import type { TaskDoc } from '../../src/docker/swarm/tasks.ts';

const TEMPLATE = { ContainerSpec: { Image: 'busybox', Args: ['sleep', '60'] } };
const svc = (Mode: ServiceSpec['Mode'], extra: Partial<ServiceDoc> = {}): ServiceDoc => ({
  ID: 'svc1',
  Spec: { Name: 'web', TaskTemplate: structuredClone(TEMPLATE), Mode },
  ...extra,
});
let n = 0;
const task = (t: Partial<TaskDoc> & { state: string; at?: string; err?: string }): TaskDoc => {
  const { state, at = '2026-01-01T00:00:00Z', err, ...rest } = t;
  return {
    ID: `t${++n}`,
    ServiceID: 'svc1',
    DesiredState: 'running',
    Spec: structuredClone(TEMPLATE),
    CreatedAt: at,
    Status: { State: state, Timestamp: at, ...(err && { Err: err }) },
    ...rest,
  };
};

describe('service modes and the REPLICAS column', () => {
  it('names every mode as docker service create --mode does', () => {
    expect(modeOf({ Mode: { Replicated: { Replicas: 1 } } })).toBe('replicated');
    expect(modeOf({ Mode: { Global: {} } })).toBe('global');
    expect(modeOf({ Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 3 } } })).toBe(
      'replicated-job',
    );
    expect(modeOf({ Mode: { GlobalJob: {} } })).toBe('global-job');
  });

  it('writes the counts as docker service ls: jobs add completed against their completions', () => {
    const status = (RunningTasks: number, DesiredTasks: number, CompletedTasks: number) => ({
      ServiceStatus: { RunningTasks, DesiredTasks, CompletedTasks },
    });
    expect(replicasText(svc({ Replicated: { Replicas: 3 } }, status(2, 3, 0)))).toBe('2/3');
    expect(replicasText(svc({ Global: {} }, status(2, 2, 0)))).toBe('2/2');
    // The audit's stack job: 3 completions, one at a time (MaxConcurrent defaulted to 1).
    expect(
      replicasText(svc({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 3 } }, status(0, 1, 0))),
    ).toBe('0/1 (0/3 completed)');
    expect(
      replicasText(svc({ ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 5 } }, status(1, 2, 4))),
    ).toBe('1/2 (4/5 completed)');
    // A global job: the tasks it still wants plus those completed are the nodes it runs on.
    expect(replicasText(svc({ GlobalJob: {} }, status(0, 2, 0)))).toBe('0/2 (0/2 completed)');
    expect(replicasText(svc({ GlobalJob: {} }, status(0, 0, 2)))).toBe('0/0 (2/2 completed)');
    const row = serviceRow(svc({ GlobalJob: {} }, status(1, 1, 1)));
    expect(row).toMatchObject({ mode: 'global-job', replicas: '1/1 (1/2 completed)' });
  });
});

describe('the mode a create or update sets', () => {
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e as ToolError;
    }
    throw new Error('did not throw');
  };

  it('creates jobs: a replicated job runs `replicas` completions at once, as the CLI sets them', () => {
    expect(serviceSpec({ name: 'j', image: 'b', mode: 'replicated-job', replicas: 3 }).Mode).toEqual({
      ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 3 },
    });
    expect(serviceSpec({ name: 'j', image: 'b', mode: 'replicated-job' }).Mode).toEqual({
      ReplicatedJob: {},
    });
    expect(serviceSpec({ name: 'g', image: 'b', mode: 'global-job' }).Mode).toEqual({ GlobalJob: {} });
    const e = err(() => serviceSpec({ name: 'g', image: 'b', mode: 'global-job', replicas: 2 }));
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toStartWith('replicas:');
    expect(
      err(() => serviceSpec({ name: 'g', image: 'b', mode: 'replicated-job', update_config: {} })).message,
    ).toStartWith('update_config:');
  });

  it('never changes the mode of an existing service, and points a job at scale for its completions', () => {
    const job = svc({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 3 } }).Spec;
    const replicas = err(() => serviceSpec({ replicas: 5 }, job));
    expect(replicas.message).toBe('replicas: this service is a replicated job');
    expect(replicas.hint).toContain('docker_service_scale');
    const mode = err(() => serviceSpec({ mode: 'global' }, svc({ Replicated: { Replicas: 1 } }).Spec));
    expect(mode.message).toStartWith('mode: this service is replicated');
    expect(mode.hint).toContain('docker_service_remove');
    // Other changes keep a job's mode as it is.
    expect(serviceSpec({ env: { A: '1' } }, job).Mode).toEqual(job.Mode);
    expect(
      serviceSpec({ mode: 'replicated', replicas: 4 }, svc({ Replicated: { Replicas: 1 } }).Spec).Mode,
    ).toEqual({
      Replicated: { Replicas: 4 },
    });
  });

  it('converts a Compose deploy.mode as docker stack deploy does', async () => {
    const yaml = (deploy: string) => `services:\n  j:\n    image: busybox\n    deploy: ${deploy}\n`;
    const convert = async (deploy: string) =>
      convertService(
        await loadProject(
          { content: yaml(deploy), project_name: 's' },
          { read: async () => undefined, home: '/' },
        ),
        's',
        'j',
        { secrets: new Map(), configs: new Map() },
      );
    expect((await convert('{ mode: replicated-job, replicas: 3 }')).spec.Mode).toEqual({
      ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 3 },
    });
    expect((await convert('{ mode: global-job }')).spec.Mode).toEqual({ GlobalJob: {} });
    await expect(convert('{ mode: global-job, replicas: 2 }')).rejects.toThrow(/deploy.replicas/);
    await expect(convert('{ mode: global, replicas: 2 }')).rejects.toThrow(/deploy.replicas/);
  });
});

describe('convergence', () => {
  const replicated = (replicas: number) => svc({ Replicated: { Replicas: replicas } });

  it('a service converges when every wanted task runs the current spec', () => {
    const c = assess(replicated(2), [
      task({ Slot: 1, state: 'running' }),
      task({ Slot: 2, state: 'running' }),
    ]);
    expect(c).toMatchObject({ converged: true, job: false, running: 2, desired: 2, windowMs: 5000 });
    expect(c.error).toBeUndefined();
    const old = task({ Slot: 2, state: 'running' });
    old.Spec = { ContainerSpec: { Image: 'busybox:old' } };
    expect(assess(replicated(2), [task({ Slot: 1, state: 'running' }), old])).toMatchObject({
      converged: false,
      running: 1,
    });
  });

  it('a crash loop is not converged, and says why its slot is not running', () => {
    // Slot 1 exited 3 and waits out its restart delay in a new task (desired ready).
    const c = assess(replicated(1), [
      task({
        Slot: 1,
        state: 'failed',
        DesiredState: 'shutdown',
        err: 'task: non-zero exit (3)',
        at: '2026-01-01T00:00:01Z',
      }),
      task({ Slot: 1, state: 'ready', DesiredState: 'ready', at: '2026-01-01T00:00:02Z' }),
    ]);
    expect(c).toMatchObject({ converged: false, running: 0, desired: 1, error: 'task: non-zero exit (3)' });
  });

  it('reports no error from tasks already shut down while the current ones run', () => {
    const c = assess(replicated(1), [
      task({
        Slot: 1,
        state: 'rejected',
        DesiredState: 'shutdown',
        err: 'assigned node no longer meets constraints',
        at: '2026-01-01T00:00:01Z',
      }),
      task({ Slot: 1, state: 'running', at: '2026-01-01T00:00:02Z' }),
      // A slot retired by a scale down keeps its history; it is not the service's state.
      task({
        Slot: 2,
        state: 'failed',
        DesiredState: 'shutdown',
        err: 'task: non-zero exit (1)',
        at: '2026-01-01T00:00:03Z',
      }),
    ]);
    expect(c).toMatchObject({ converged: true, running: 1, desired: 1 });
    expect(c.error).toBeUndefined();
    // Not converged (scaled to 2): still only the slot that is not running speaks.
    const more = assess(replicated(2), [
      task({ Slot: 1, state: 'running', at: '2026-01-01T00:00:02Z' }),
      task({ Slot: 1, state: 'failed', DesiredState: 'shutdown', err: 'old', at: '2026-01-01T00:00:00Z' }),
      task({ Slot: 2, state: 'pending', err: 'no suitable node (insufficient resources on 2 nodes)' }),
    ]);
    expect(more).toMatchObject({
      converged: false,
      error: 'no suitable node (insufficient resources on 2 nodes)',
    });
  });

  it('takes the window from update_config.monitor', () => {
    const s = replicated(1);
    s.Spec.UpdateConfig = { Monitor: 2e9 };
    expect(assess(s, []).windowMs).toBe(2000);
  });

  it('is met only once the same tasks have stayed running for the window (the CLI rule)', () => {
    const up = assess(replicated(1), [task({ ID: 'a', Slot: 1, state: 'running' })]);
    let w = watch(undefined, up, 0);
    expect(isMet(up, w, 0)).toBe(false);
    w = watch(w, up, 4999);
    expect(isMet(up, w, 4999)).toBe(false);
    // A look in between that is not converged starts the watch again.
    const down = assess(replicated(1), [
      task({ ID: 'a', Slot: 1, state: 'failed', DesiredState: 'shutdown' }),
    ]);
    w = watch(w, down, 3000);
    expect(w).toBeUndefined();
    w = watch(w, up, 3500);
    expect(isMet(up, w, 8000)).toBe(false);
    expect(isMet(up, w, 8500)).toBe(true);
    // So does a different task in the slot (it restarted between two looks).
    const other = assess(replicated(1), [task({ ID: 'b', Slot: 1, state: 'running' })]);
    w = watch(w, other, 9000);
    expect(isMet(other, w, 9000)).toBe(false);
    expect(isMet(other, w, 14_000)).toBe(true);
  });

  it('counts the window from when the engine says the tasks ran, so a long-stable service is met at once', () => {
    const at = (s: string) => Date.parse(`2026-01-01T00:00:${s}Z`);
    const up = assess(replicated(1), [
      task({ ID: 'a', Slot: 1, state: 'running', at: '2026-01-01T00:00:00Z' }),
    ]);
    expect(isMet(up, watch(undefined, up, at('10')), at('10'))).toBe(true);
    // A task that reached running 2 s ago still needs the rest of the window.
    const fresh = assess(replicated(1), [
      task({ ID: 'b', Slot: 1, state: 'running', at: '2026-01-01T00:00:08Z' }),
    ]);
    const w = watch(undefined, fresh, at('10'));
    expect(isMet(fresh, w, at('10'))).toBe(false);
    expect(isMet(fresh, w, at('13'))).toBe(true);
    // An update that ended 1 s ago counts as the start, even on tasks that ran before it.
    const updated = replicated(1);
    updated.UpdateStatus = { State: 'completed', CompletedAt: '2026-01-01T00:00:09Z' };
    const after = assess(updated, [task({ ID: 'c', Slot: 1, state: 'running', at: '2026-01-01T00:00:00Z' })]);
    expect(isMet(after, watch(undefined, after, at('10')), at('10'))).toBe(false);
    // An engine clock ahead of ours never moves the start past now.
    const ahead = assess(replicated(1), [
      task({ ID: 'd', Slot: 1, state: 'running', at: '2026-01-01T00:00:30Z' }),
    ]);
    expect(watch(undefined, ahead, at('10'))?.since).toBe(at('10'));
  });

  it('a replicated job is met when its current run completed, counted per slot as the CLI does', () => {
    const job = svc(
      { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 3 } },
      { JobStatus: { JobIteration: { Index: 1 } } },
    );
    const it1 = { JobIteration: { Index: 1 }, DesiredState: 'complete' };
    const previousRun = [0, 1, 2].map((Slot) =>
      task({ Slot, state: 'complete', JobIteration: {}, DesiredState: 'complete' }),
    );
    const pending = assess(job, [
      ...previousRun,
      task({ ...it1, state: 'pending' }),
      task({ ...it1, Slot: 1, state: 'pending' }),
    ]);
    expect(pending).toMatchObject({ converged: false, job: true, running: 0, desired: 3, completed: 0 });
    const partway = assess(job, [
      task({ ...it1, state: 'complete' }), // slot 0 (the engine leaves it out)
      task({ ...it1, Slot: 1, state: 'failed', err: 'task: non-zero exit (1)' }),
      task({ ...it1, Slot: 1, state: 'running' }),
      task({ ...it1, Slot: 2, state: 'running' }),
    ]);
    expect(partway).toMatchObject({
      converged: false,
      running: 2,
      completed: 1,
      error: 'task: non-zero exit (1)',
    });
    const done = assess(
      job,
      [0, 1, 2].map((Slot) => task({ ...it1, Slot, state: 'complete' })),
    );
    expect(done).toMatchObject({ converged: true, completed: 3, desired: 3 });
    expect(isMet(done, watch(undefined, done, 0), 0)).toBe(true); // no window: completed stays completed
  });

  it('a global job is met when the task on each node it started on completed', () => {
    const job = svc({ GlobalJob: {} });
    const on = (NodeID: string, state: string) => task({ NodeID, state, DesiredState: 'complete' });
    expect(assess(job, [])).toMatchObject({ converged: false, desired: 0 });
    expect(assess(job, [on('m', 'complete'), on('w', 'running')])).toMatchObject({
      converged: false,
      running: 1,
      completed: 1,
      desired: 2,
    });
    expect(assess(job, [on('m', 'complete'), on('w', 'complete')])).toMatchObject({
      converged: true,
      completed: 2,
    });
  });
});
