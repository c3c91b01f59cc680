/**
 * Container names the engine could take for an ID our results show (12 to 64 lowercase hex digits),
 * refused wherever a name is set; and the copy destinations the container never sees.
 */
import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import { loadProject } from '../../src/docker/compose/load.ts';
import { nameRefusals } from '../../src/docker/compose/names.ts';
import { requireRunning } from '../../src/docker/containers.ts';
import { checkContainerName, ID_FORM } from '../../src/docker/names.ts';
import { refuseHidden } from '../../src/tools/containers/files.ts';

const refusal = (name: string) => {
  try {
    checkContainerName(name, 'new_name');
    return undefined;
  } catch (e) {
    return e as Error & { kind: string; hint?: string };
  }
};

describe('a container name of an ID form', () => {
  it('is refused from 12 to 64 lowercase hex digits, naming the field and a way out', () => {
    for (const name of ['afe413ac02cc', '0123456789ab', 'a'.repeat(40), `${'f'.repeat(63)}0`]) {
      const err = refusal(name);
      expect(err?.kind).toBe('invalid_argument');
      expect(err?.message).toStartWith(
        `invalid argument 'new_name': '${name}' has the form of a container ID`,
      );
      expect(err?.hint).toContain("e.g. 'app-");
    }
  });

  it('is allowed when nothing we show could be taken for it: shorter, longer, upper case or not hex', () => {
    for (const name of [
      'db',
      'cafe',
      'deadbeef',
      'afe413ac02c',
      'a'.repeat(65),
      'AFE413AC02CC',
      'afe413ac02cg',
      'afe413ac-02cc',
    ])
      expect(refusal(name)).toBeUndefined();
    expect(ID_FORM.test('afe413ac02cc')).toBe(true);
  });

  it('is refused as a Compose container_name, naming the service', async () => {
    const p = await loadProject(
      {
        content:
          'services:\n  a:\n    image: busybox\n    container_name: afe413ac02cc\n  b:\n    image: busybox\n    container_name: web-1\n',
        project_name: 'p',
      },
      { home: '/root', read: async () => undefined },
    );
    const refused = nameRefusals(p, Object.keys(p.services));
    expect(Object.keys(refused)).toEqual(['a']);
    expect(refused.a?.[0]?.message).toStartWith(
      'service "a": container_name "afe413ac02cc" has the form of a container ID',
    );
  });
});

const info = (over: { Mounts?: object[]; HostConfig?: object; State?: object }) =>
  ({
    Name: '/c',
    Mounts: [],
    HostConfig: {},
    State: { Status: 'running', Running: true },
    ...over,
  }) as unknown as Dockerode.ContainerInspectInfo;

describe('a copy destination', () => {
  const refused = (path: string, i = info({})) => {
    try {
      refuseHidden(path, i);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };

  it('under /proc, /sys, /dev or a tmpfs mount is refused, naming the mount', () => {
    expect(refused('/proc/x')).toContain("'/proc/x' is under /proc");
    expect(refused('/sys/fs/x')).toContain('under /sys');
    expect(refused('/dev/shm/x')).toContain('under /dev');
    const tmpfs = info({
      HostConfig: { Tmpfs: { '/run/t': 'size=1m' }, Mounts: [{ Type: 'tmpfs', Target: '/cache' }] },
    });
    expect(refused('/run/t/x', tmpfs)).toContain('under /run/t');
    expect(refused('/cache/a/b', tmpfs)).toContain('under /cache');
    expect(refused('/run/tx', tmpfs)).toBe('');
  });

  it('elsewhere, or in a bind or volume mounted beneath one of those, is written', () => {
    expect(refused('/tmp/x')).toBe('');
    expect(refused('/procfile')).toBe('');
    expect(refused('/dev/data/x', info({ Mounts: [{ Type: 'volume', Destination: '/dev/data' }] }))).toBe('');
  });
});

describe('stats and processes of a container', () => {
  const state = (s: object) => info({ State: s });
  it('are read when it is paused (Docker reports it running, Podman only paused)', () => {
    expect(() =>
      requireRunning(state({ Status: 'paused', Running: true, Paused: true }), 'stats'),
    ).not.toThrow();
    expect(() =>
      requireRunning(state({ Status: 'paused', Running: false, Paused: true }), 'stats'),
    ).not.toThrow();
  });
  it('are refused when it is not running, with the way to start it', () => {
    expect(() => requireRunning(state({ Status: 'exited', Running: false }), 'stats')).toThrow(
      "container 'c' is exited: stats need it running",
    );
  });
});
