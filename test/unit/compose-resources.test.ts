/**
 * What `up` makes of a project's networks and volumes when the engine's answers are not the plain ones:
 * only a 404 means missing, a stopped call makes nothing, and a network made meanwhile is not made twice.
 * The engine is a stub here (the engine's own refusal of a duplicate name is in the integration suite).
 */
import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import { loadProject } from '../../src/docker/compose/load.ts';
import type { Step } from '../../src/docker/compose/project.ts';
import { ensureResources, networkAddressing } from '../../src/docker/compose/resources.ts';

const project = () =>
  loadProject(
    {
      content: 'services:\n  app:\n    image: x\n    volumes: ["data:/d"]\nvolumes:\n  data: {}\n',
      project_name: 'p',
    },
    { home: '/root', read: async () => undefined },
  );

const failure = (statusCode: number, message = 'no') => Object.assign(new Error(message), { statusCode });

function engine(inspect: () => Promise<unknown>, create: (kind: 'network' | 'volume') => Promise<unknown>) {
  const made: string[] = [];
  const docker = {
    getNetwork: () => ({ inspect }),
    getVolume: () => ({ inspect }),
    createNetwork: (o: { Name: string; CheckDuplicate?: boolean }) => {
      made.push(`network ${o.Name}${o.CheckDuplicate ? ' (checked)' : ''}`);
      return create('network');
    },
    createVolume: (o: { Name: string }) => {
      made.push(`volume ${o.Name}`);
      return create('volume');
    },
  } as unknown as Dockerode;
  return { docker, made };
}

const call = (signal = new AbortController().signal, stop = signal) => {
  const steps: Step[] = [];
  return { steps, c: { signal, stop, step: (s: Step) => steps.push(s), doing: () => {} } };
};

describe('a project’s networks and volumes', () => {
  it('are made when the engine says they are missing (404), the network refused if its name exists', async () => {
    const { docker, made } = engine(
      () => Promise.reject(failure(404)),
      async () => ({}),
    );
    const { steps, c } = call();
    await ensureResources(docker, await project(), ['app'], c);
    expect(made.sort()).toEqual(['network p_default (checked)', 'volume p_data']);
    expect(steps.map((s) => s.object).sort()).toEqual(['network p_default', 'volume p_data']);
  });

  it('are not made when the inspect fails otherwise: the failure is the call’s', async () => {
    const { docker, made } = engine(
      () => Promise.reject(failure(500, 'engine hiccup')),
      async () => ({}),
    );
    const { steps, c } = call();
    expect(ensureResources(docker, await project(), ['app'], c)).rejects.toThrow('engine hiccup');
    await Bun.sleep(1);
    expect(made).toEqual([]);
    expect(steps).toEqual([]);
  });

  it('are not made once the call has stopped, even when the inspect says missing', async () => {
    const stop = new AbortController();
    const { docker, made } = engine(
      () => {
        stop.abort(new Error('stopped'));
        return Promise.reject(failure(404));
      },
      async () => ({}),
    );
    const { c } = call(stop.signal);
    expect(ensureResources(docker, await project(), ['app'], c)).rejects.toThrow('stopped');
    await Bun.sleep(1);
    expect(made).toEqual([]);
  });

  it('let a create already sent finish when another step of the call fails, and start none after', async () => {
    const stop = new AbortController();
    let finish = () => {};
    const sentWith: AbortSignal[] = [];
    const made: string[] = [];
    const docker = {
      getNetwork: () => ({ inspect: () => Promise.reject(failure(404)) }),
      // The volume's inspect answers only after the failure.
      getVolume: () => ({ inspect: () => Bun.sleep(10).then(() => Promise.reject(failure(404))) }),
      createNetwork: (o: { Name: string; abortSignal: AbortSignal }) => {
        made.push(`network ${o.Name}`);
        sentWith.push(o.abortSignal);
        return new Promise((resolve) => {
          finish = () => resolve({});
        });
      },
      createVolume: (o: { Name: string }) => {
        made.push(`volume ${o.Name}`);
        return Promise.resolve({});
      },
    } as unknown as Dockerode;
    const { steps, c } = call(new AbortController().signal, stop.signal);
    const done = ensureResources(docker, await project(), ['app'], c).catch((e: Error) => e);
    await Bun.sleep(1);
    expect(made).toEqual(['network p_default']);
    stop.abort(new Error('a pull failed'));
    await Bun.sleep(20);
    expect(sentWith[0]?.aborted).toBe(false);
    finish();
    expect(((await done) as Error).message).toBe('a pull failed');
    expect(made).toEqual(['network p_default']);
    expect(steps.map((s) => `${s.object} ${s.action}`)).toEqual(['network p_default created']);
  });

  it('take a network made meanwhile (409 on create) as there, not as made', async () => {
    const { docker } = engine(
      () => Promise.reject(failure(404)),
      async (kind) => {
        if (kind === 'network') throw failure(409, 'network with name p_default already exists');
        return {};
      },
    );
    const { steps, c } = call();
    await ensureResources(docker, await project(), ['app'], c);
    expect(steps.map((s) => s.object)).toEqual(['volume p_data']);
  });
});

describe("a network's ipam and enable_ipv6", () => {
  it('map to the Engine API fields as Docker Compose maps them, and add nothing when absent', () => {
    expect(
      networkAddressing({
        enable_ipv6: true,
        ipam: {
          config: [
            {
              subnet: '10.9.0.0/24',
              ip_range: '10.9.0.128/25',
              gateway: '10.9.0.1',
              aux_addresses: { h: '10.9.0.5' },
            },
            { subnet: 'fd12::/64' },
          ],
          options: { o: 'v' },
        },
      }),
    ).toEqual({
      IPAM: {
        Driver: 'default',
        Config: [
          {
            Subnet: '10.9.0.0/24',
            IPRange: '10.9.0.128/25',
            Gateway: '10.9.0.1',
            AuxiliaryAddresses: { h: '10.9.0.5' },
          },
          { Subnet: 'fd12::/64' },
        ],
        Options: { o: 'v' },
      },
      EnableIPv6: true,
    });
    expect(networkAddressing({ internal: true })).toEqual({});
  });
});
