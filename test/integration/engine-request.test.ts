/**
 * The request hook on the engine boundary: every request a tool makes, dockerode's own calls and
 * our streams alike, is seen (method, path, query, body) before the engine receives it, and a guard
 * that throws stops it there.
 */
import { afterAll, afterEach, describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import { Engine } from '../../src/docker/engine.ts';
import {
  dialEngine,
  dialOptions,
  type EngineCall,
  type EngineRequest,
  engineRequest,
  setRequestGuard,
} from '../../src/docker/request.ts';
import * as fixture from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';

const engine = new Engine({
  dockerHost: process.env.DOCKER_HOST,
  dockerConfigDir: '/nonexistent',
  tlsVerify: false,
  home: '/nonexistent',
  platform: 'linux',
});

afterEach(() => setRequestGuard(undefined));
afterAll(fixture.cleanupContainers);

/** Records every request from now on. */
function record(): EngineCall[] {
  const seen: EngineCall[] = [];
  setRequestGuard((call) => {
    seen.push(structuredClone(call));
  });
  return seen;
}

describe('the request hook', () => {
  it("sees a dockerode call's method, path and query", async () => {
    const docker = await engine.client(AbortSignal.timeout(10_000));
    const seen = record();

    await docker.listContainers({ all: true, filters: { label: ['mcp-docker-test'] } });

    expect(seen).toContainEqual(
      expect.objectContaining({
        method: 'GET',
        path: '/containers/json',
        query: { all: true, filters: { label: ['mcp-docker-test'] } },
        stream: false,
      }),
    );
  });

  it("sees a tool's create request with its query and JSON body", async () => {
    const name = fixture.uniqueName('mcpt-hook');
    const seen = record();

    await callOk('docker_create_container', {
      image: fixture.TEST_IMAGE,
      name,
      labels: fixture.testLabels(),
      network_mode: 'none',
      command: 'sleep 5',
    });

    const create = seen.find((c) => c.path === '/containers/create');
    expect(create).toMatchObject({ method: 'POST', query: { name }, upload: false, stream: false });
    expect(create?.body).toMatchObject({
      Image: fixture.TEST_IMAGE,
      Cmd: ['sleep', '5'],
      Labels: fixture.testLabels(),
    });
    expect(create?.body).toMatchObject({ HostConfig: { NetworkMode: 'none' } });
  });

  it('sees a stream: the logs request a tool reads, with its query', async () => {
    const c = await fixture.makeContainer({ cmd: ['sh', '-c', 'echo one; echo two; sleep 3600'] });
    const seen = record();

    const read = () =>
      callOk<{ lines: string[] }>('docker_container_logs', { container_id: c.name, tail: 5 });
    // The container may not have written both lines yet on a loaded machine: read again until it has.
    let out = await read();
    for (let i = 0; i < 50 && out.lines.length < 2; i++) {
      await Bun.sleep(100);
      out = await read();
    }

    expect(out.lines).toEqual(['one', 'two']);
    const logs = seen.find((x) => x.path.endsWith('/logs'));
    expect(logs).toMatchObject({ method: 'GET', stream: true, body: undefined });
    expect(logs?.path).toMatch(/^\/containers\/[0-9a-f]{64}\/logs$/);
    expect(logs?.query).toMatchObject({ stdout: true, stderr: true, tail: '5' });
  });

  it('refuses a request when the guard throws: the engine never receives it', async () => {
    const name = fixture.uniqueName('mcpt-hook');
    setRequestGuard((call) => {
      if (call.method === 'POST' && call.path === '/containers/create')
        throw new ToolError('policy_denied', 'refused by the test guard');
    });

    const err = await callErr('docker_create_container', {
      image: fixture.TEST_IMAGE,
      name,
      labels: fixture.testLabels(),
      network_mode: 'none',
    });

    expect(err.kind).toBe('policy_denied');
    expect(err.message).toBe('refused by the test guard');
    setRequestGuard(undefined);
    const found = await fixture.testDocker().listContainers({ all: true, filters: { name: [`^/${name}$`] } });
    expect(found).toHaveLength(0);
  });

  it('awaits an async guard before sending, and a rejection refuses the request', async () => {
    const docker = await engine.client(AbortSignal.timeout(10_000));
    setRequestGuard(async (call) => {
      await Bun.sleep(5);
      if (call.path === '/info') throw new Error('no info today');
    });

    expect(await docker.version()).toHaveProperty('ApiVersion');
    await expect(docker.info()).rejects.toThrow('no info today');
  });
});

describe("the request transport (tools declared engine: 'requests')", () => {
  it('serves JSON requests on the unix socket without dockerode, each seen by the guard', async () => {
    const requests = await engine.requests(AbortSignal.timeout(10_000));
    const seen = record();

    const rows = await engineRequest<unknown[]>(
      requests,
      { path: '/containers/json', query: { all: true, filters: { label: ['mcp-docker-test'] } } },
      AbortSignal.timeout(10_000),
    );

    expect(Array.isArray(rows)).toBe(true);
    expect(seen).toContainEqual(
      expect.objectContaining({
        method: 'GET',
        path: '/containers/json',
        query: { all: true, filters: { label: ['mcp-docker-test'] } },
      }),
    );
    // Not a dockerode client: only the transport the one request function needs.
    expect(requests).not.toHaveProperty('listContainers');
  });

  it('refuses a request when the guard throws, as on the full client', async () => {
    const requests = await engine.requests(AbortSignal.timeout(10_000));
    setRequestGuard(() => {
      throw new ToolError('policy_denied', 'refused by the test guard');
    });

    await expect(engineRequest(requests, { path: '/info' }, AbortSignal.timeout(10_000))).rejects.toThrow(
      'refused by the test guard',
    );
  });

  it('refuses a stream: that needs the full client', async () => {
    const requests = await engine.requests(AbortSignal.timeout(10_000));

    await expect(
      dialEngine(requests, {
        path: '/events?',
        method: 'GET',
        isStream: true,
        options: { _query: {} },
        statusCodes: { 200: true },
        abortSignal: AbortSignal.timeout(10_000),
      }),
    ).rejects.toThrow('a stream needs the full engine client');
  });

  it('sends and shows each request as dial would: the same call to the guard, the same answer or error', async () => {
    const requests = await engine.requests(AbortSignal.timeout(10_000));
    const missing = fixture.uniqueName('mcpt-missing');
    const cases: EngineRequest[] = [
      { path: '/containers/json', query: { all: true, filters: undefined, limit: 3 } },
      { path: '/containers/json', query: { filters: { label: ['mcp-docker-test'] } } },
      { path: '/info' },
      { path: `/containers/${missing}/json` },
      { path: `/containers/${missing}/kill`, method: 'POST', query: { signal: 'TERM' }, body: {} },
      { path: `/containers/${missing}/update`, method: 'POST', body: { Memory: 1 << 26 } },
      { path: `/volumes/${missing}`, method: 'DELETE', query: { force: false } },
    ];
    // What the guard saw and what came back: the engine's answer, or the error's status and message.
    const outcome = async (send: () => Promise<unknown>) => {
      const seen = record();
      const answer = await send().then(
        (v) => ({ ok: Array.isArray(v) ? 'rows' : typeof v }),
        (e: { statusCode?: number; message?: string; json?: unknown }) => ({
          status: e.statusCode,
          message: e.message,
          json: e.json,
        }),
      );
      return { seen, answer };
    };
    // The policy reads the engine's facts (a GET of its own) on the first update: read once before.
    for (const req of cases) await engineRequest(requests, req, AbortSignal.timeout(10_000)).catch(() => {});
    for (const req of cases) {
      const direct = await outcome(() => engineRequest(requests, req, AbortSignal.timeout(10_000)));
      const dialed = await outcome(() => dialEngine(requests, dialOptions(req, AbortSignal.timeout(10_000))));
      expect([req.path, direct]).toStrictEqual([req.path, dialed]);
      expect(direct.seen).toHaveLength(1);
    }
  });

  it('speaks the negotiated API version, like the full client', async () => {
    const requests = await engine.requests(AbortSignal.timeout(10_000));
    const docker = await engine.client(AbortSignal.timeout(10_000));

    expect((requests.modem as { version?: string }).version).toBe(`v${engine.info()?.apiVersion}`);
    expect((docker.modem as { version?: string }).version).toBe(`v${engine.info()?.apiVersion}`);
  });
});
