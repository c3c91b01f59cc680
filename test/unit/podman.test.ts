import { describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/docker/engine.ts';
import { engineError } from '../../src/docker/errors.ts';
import { engineKind, PODMAN_LACKS, podmanRefusal, tailMisjoinsLines } from '../../src/docker/podman.ts';
import { describeDial, engineRequest, withoutUnset } from '../../src/docker/request.ts';
import { PODMAN_DIFFERS } from '../helpers/podman.ts';

// /version answers as recorded from Podman 4.3.1 (`podman system service`) and Docker 26 (dockerd).
const PODMAN_VERSION = {
  Platform: { Name: 'linux/amd64/debian-12' },
  Components: [
    { Name: 'Podman Engine', Version: '4.3.1', Details: { APIVersion: '4.3.1', MinAPIVersion: '4.0.0' } },
    { Name: 'Conmon', Version: 'conmon version 2.1.6, commit: unknown' },
    { Name: 'OCI Runtime (runc)', Version: 'runc version 1.1.5+ds1' },
  ],
  Version: '4.3.1',
  ApiVersion: '1.41',
  MinAPIVersion: '1.24',
  Os: 'linux',
  Arch: 'amd64',
};
const DOCKER_VERSION = {
  Platform: { Name: 'Docker Engine - Community' },
  Components: [
    { Name: 'Engine', Version: '26.1.5', Details: { ApiVersion: '1.45', MinAPIVersion: '1.24' } },
    { Name: 'containerd', Version: '1.6.20' },
    { Name: 'runc', Version: '1.1.5' },
    { Name: 'docker-init', Version: '0.19.0' },
  ],
  Version: '26.1.5',
  ApiVersion: '1.45',
};

describe('engine kind from the /version probe', () => {
  it('tells Podman by its "Podman Engine" component', () => {
    expect(engineKind(PODMAN_VERSION)).toBe('podman');
  });
  it('says docker for Docker, and for an answer without components (old engines)', () => {
    expect(engineKind(DOCKER_VERSION)).toBe('docker');
    expect(engineKind({})).toBe('docker');
    expect(engineKind({ Components: null })).toBe('docker');
  });
});

describe('what Podman lacks', () => {
  it('refuses Swarm, configs, plugins and distribution naming Podman and the engine', () => {
    for (const [path, missing] of [
      ['/swarm', 'Swarm API'],
      ['/swarm/init', 'Swarm API'],
      ['/services/create', 'Swarm API'],
      ['/nodes', 'Swarm API'],
      ['/tasks', 'Swarm API'],
      ['/configs', 'Swarm configs API'],
      ['/plugins', 'plugin API'],
      ['/distribution/busybox/json', 'registry distribution API'],
    ] as const) {
      const err = podmanRefusal('lab', { path });
      expect(err?.message).toBe(`engine 'lab' is Podman, which has no ${missing}`);
      expect(err?.kind).toBe('invalid_argument');
    }
  });
  it('lets through what Podman answers, secrets and the build cache included', () => {
    for (const path of ['/containers/json', '/secrets', '/build/prune', '/images/json', '/servicesx'])
      expect(podmanRefusal('lab', { path })).toBeUndefined();
  });
});

describe('query parameters left undefined', () => {
  it('are not sent (Podman refuses `filters=`; Docker reads it as no filter)', () => {
    const dial = {
      path: '/networks?',
      method: 'GET',
      options: { filters: undefined, abortSignal: undefined },
      statusCodes: { 200: true },
    };
    expect(describeDial(withoutUnset(dial)).query).toEqual({});
    const ours = {
      ...dial,
      options: { _query: { all: true, filters: undefined }, _body: {} },
    };
    expect(describeDial(withoutUnset(ours)).query).toEqual({ all: true });
  });
  it('leaves set values, falsy ones included, and returns the same object when nothing is unset', () => {
    const dial = {
      path: '/containers/json?',
      method: 'GET',
      options: { all: false, limit: 0, filters: '{"label":["a"]}' },
      statusCodes: { 200: true },
    };
    expect(withoutUnset(dial)).toBe(dial);
  });
});

describe("Podman's refusals (HTTP 500 with a libpod cause) map as Docker's 409 do", () => {
  const podman500 = (message: string) => ({ statusCode: 500, json: { message, cause: '', response: 500 } });
  it('a container in the wrong state, or a name taken, is a conflict with the next step', () => {
    const kill = engineError(
      podman500('can only kill running containers. 2050 is in state created: container state improper'),
    );
    expect(kill?.kind).toBe('conflict');
    expect(kill?.hint).toBe('Start the container first.');
    const pause = engineError(podman500(`"created" is not running, can't pause: container state improper`));
    expect(pause?.kind).toBe('conflict');
    expect(pause?.hint).toBe('Start the container first.');
    const taken = engineError(podman500('network name n1 already used: network already exists'));
    expect(taken?.kind).toBe('conflict');
    expect(taken?.hint).toContain('Pick another name');
  });
  it('other 500s stay internal', () => {
    expect(engineError(podman500('something broke: i/o error'))?.kind).toBe('internal');
  });
});

describe("Podman's volume filters (any condition, where Docker needs all)", () => {
  const filters = (f: Record<string, string[]>) => ({ filters: JSON.stringify(f) });
  it('refuses a volume list or prune with more than one condition', () => {
    for (const path of ['/volumes', '/volumes/prune']) {
      const cases: Record<string, string[]>[] = [{ label: ['a', 'b'] }, { label: ['a'], dangling: ['true'] }];
      for (const f of cases) {
        const err = podmanRefusal('lab', { path, query: filters(f) });
        expect(err?.message).toContain("engine 'lab' is Podman, whose volume filters match any");
        expect(err?.hint).toContain('one filter condition');
      }
    }
  });
  it('lets one condition, none, and other objects through', () => {
    expect(podmanRefusal('lab', { path: '/volumes', query: filters({ label: ['a'] }) })).toBeUndefined();
    expect(podmanRefusal('lab', { path: '/volumes', query: {} })).toBeUndefined();
    expect(podmanRefusal('lab', { path: '/volumes/v1', query: filters({ a: ['1', '2'] }) })).toBeUndefined();
    expect(
      podmanRefusal('lab', { path: '/containers/json', query: filters({ label: ['a', 'b'] }) }),
    ).toBeUndefined();
  });
});

describe('docs/TESTING.md', () => {
  const doc = readFileSync(join(import.meta.dir, '../../docs/TESTING.md'), 'utf8');
  it("names every Podman difference the suites assert, and everything Podman's API lacks", () => {
    for (const name of Object.keys(PODMAN_DIFFERS)) expect(doc).toContain(`| \`${name}\` |`);
    for (const { missing } of PODMAN_LACKS) expect(doc).toContain(`| ${missing} |`);
  });
});

describe('an Engine connected to a Podman-like answer', () => {
  /** A unix-socket stand-in answering /version as Podman 4.3 did (headers and body), recording every path. */
  function podmanStandIn(body: object, headers: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-pd-'));
    const paths: string[] = [];
    const server = Bun.serve({
      unix: join(dir, 'podman.sock'),
      fetch(req) {
        const { pathname, search } = new URL(req.url);
        paths.push(pathname + search);
        if (pathname.endsWith('/version')) return Response.json(body, { headers });
        return Response.json([], { headers });
      },
    });
    return {
      url: `unix://${join(dir, 'podman.sock')}`,
      paths,
      stop: () => {
        server.stop(true);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const input = (dockerHost: string) => ({
    dockerHost,
    dockerConfigDir: '/nonexistent',
    tlsVerify: false,
    home: '/nonexistent',
    platform: 'linux' as const,
  });

  it('is told Podman by the probe alone, refuses its Swarm API unsent, and sends no empty filters', async () => {
    const stand = podmanStandIn(PODMAN_VERSION, {
      'Libpod-Api-Version': '4.3.1',
      Server: 'Libpod/4.3.1 (linux)',
      'Api-Version': '1.41',
    });
    try {
      const engine = new Engine(input(stand.url), { name: 'lab' });
      const docker = await engine.client(AbortSignal.timeout(5000));
      expect(engine.info()?.kind).toBe('podman');
      expect(stand.paths).toEqual(['/version']);

      const swarm = await engineRequest(docker, { path: '/swarm' }, AbortSignal.timeout(5000)).catch(
        (e: Error) => e.message,
      );
      expect(swarm).toBe("engine 'lab' is Podman, which has no Swarm API");
      await docker.listNetworks({ filters: undefined } as object);
      expect(stand.paths).toEqual(['/version', '/v1.41/networks']);
    } finally {
      stand.stop();
    }
  });

  it('is told Docker from a Docker answer, and passes the same Swarm request through', async () => {
    const stand = podmanStandIn(DOCKER_VERSION, { 'Api-Version': '1.45', Server: 'Docker/26.1.5 (linux)' });
    try {
      const engine = new Engine(input(stand.url));
      const docker = await engine.client(AbortSignal.timeout(5000));
      expect(engine.info()?.kind).toBe('docker');
      await engineRequest(docker, { path: '/swarm' }, AbortSignal.timeout(5000));
      expect(stand.paths).toEqual(['/version', '/v1.45/swarm']);
    } finally {
      stand.stop();
    }
  });
});

describe("Podman's image prune of tagged images", () => {
  it('is refused by name (its Docker API refuses dangling=false), dangling-only prunes pass', () => {
    const query = (f: object) => ({ filters: JSON.stringify(f) });
    expect(
      podmanRefusal('lab', { path: '/images/prune', query: query({ dangling: ['false'], label: ['a'] }) })
        ?.message,
    ).toBe("engine 'lab' is Podman, whose Docker API has no prune of unused tagged images (dangling=false)");
    expect(
      podmanRefusal('lab', { path: '/images/prune', query: query({ dangling: ['true'] }) }),
    ).toBeUndefined();
    expect(podmanRefusal('lab', { path: '/images/prune', query: {} })).toBeUndefined();
    expect(
      podmanRefusal('lab', { path: '/images/json', query: query({ dangling: ['false'] }) }),
    ).toBeUndefined();
  });
});

describe("Podman's log tail before 4.7 (podman#19545)", () => {
  const misjoins = (kind: 'docker' | 'podman', serverVersion: string) =>
    tailMisjoinsLines({ kind, serverVersion });

  it('is read around on Podman 4.6 and older, and on a version it cannot read', () => {
    for (const v of ['4.3.1', '4.6.2', '3.4.4', '4.6', 'dev']) expect(misjoins('podman', v)).toBe(true);
  });

  it('is trusted from Podman 4.7 on, on Docker, and when the engine is not known', () => {
    for (const v of ['4.7.0', '4.9.3', '5.0.0', '10.1']) expect(misjoins('podman', v)).toBe(false);
    expect(misjoins('docker', '4.3.1')).toBe(false);
    expect(tailMisjoinsLines(undefined)).toBe(false);
  });
});
