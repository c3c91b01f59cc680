/**
 * Swarm jobs without an engine: the mode names and the REPLICAS text of `docker service ls` (jobs
 * with their completions), the modes a create or update may set, and a Compose deploy.mode as
 * `docker stack deploy` converts it.
 */
import { describe, expect, it } from 'bun:test';
import type { ToolError } from '../../src/core/errors.ts';
import { loadProject } from '../../src/docker/compose/load.ts';
import {
  modeOf,
  replicasText,
  type ServiceDoc,
  type ServiceSpec,
  serviceRow,
  serviceSpec,
} from '../../src/docker/swarm/service-spec.ts';
import { convertService } from '../../src/docker/swarm/stack-spec.ts';

const TEMPLATE = { ContainerSpec: { Image: 'busybox', Args: ['sleep', '60'] } };
const svc = (Mode: ServiceSpec['Mode'], extra: Partial<ServiceDoc> = {}): ServiceDoc => ({
  ID: 'svc1',
  Spec: { Name: 'web', TaskTemplate: structuredClone(TEMPLATE), Mode },
  ...extra,
});
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
