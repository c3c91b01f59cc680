/**
 * The swarm toolset through the compiled binary, on the test Swarm (test/helpers/swarm-cluster.ts),
 * with both client generations: off by default and within its byte budget when switched on; a service
 * made, awaited and listed in compact rows; a join token returned to the caller and never logged; a
 * worker joined through manager_engine named in the config file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_KINDS, errorOf, startServer, structured } from '../helpers/client.ts';
import { withSwarm } from '../helpers/swarm.ts';

const swarm = withSwarm();
const IMAGE = process.env.MCP_DOCKER_TEST_IMAGE ?? 'mcp-test/busybox:latest';
const dir = mkdtempSync(join(tmpdir(), 'mcpt-swarm-e2e-'));
let config = '';

beforeAll(() => {
  config = join(dir, 'engines.json');
  writeFileSync(
    config,
    JSON.stringify({
      engines: { manager: { url: swarm().manager.host }, worker: { url: swarm().worker.host } },
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SWARM_TOOLS = 19;

describe.each(CLIENT_KINDS)('the swarm toolset through the binary (%s client)', (kind) => {
  it('is off by default, and lists its tools within its share of the 12 KB budget when switched on', async () => {
    const off = await startServer({ client: kind, env: { DOCKER_HOST: swarm().manager.host } });
    try {
      const tools = await off.client.listTools();
      expect(tools.some((t) => t.name.startsWith('docker_swarm_'))).toBe(false);
    } finally {
      await off.close();
    }
    const on = await startServer({
      client: kind,
      args: ['--toolsets', 'swarm', '--allow-destructive'],
      env: { DOCKER_HOST: swarm().manager.host },
    });
    try {
      const tools = await on.client.listTools();
      const size = (ts: typeof tools) =>
        ts.reduce(
          (n, t) =>
            n +
            Buffer.byteLength(
              JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema }),
            ),
          0,
        );
      // The cluster, node, service and task tools (secrets, configs and stacks share the toolset).
      const mine = tools.filter((t) => /^docker_(swarm|node|service|task)_/.test(t.name));
      expect(mine).toHaveLength(SWARM_TOOLS);
      expect(size(mine)).toBeLessThanOrEqual(7.5 * 1024);
      expect(size(tools)).toBeLessThanOrEqual(12 * 1024);
    } finally {
      await on.close();
    }
  });

  it('creates a service, waits for it, lists it compact, and removes it', async () => {
    const s = await startServer({
      client: kind,
      args: ['--toolsets', 'default,swarm', '--allow-destructive'],
      env: { DOCKER_HOST: swarm().manager.host },
    });
    const name = `mcpt-e2e-${kind}-${process.pid}`;
    try {
      const made = await s.client.callTool('docker_service_create', {
        name,
        image: IMAGE,
        command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'],
        replicas: 2,
        labels: swarm().labels,
      });
      expect(structured<{ name: string }>(made).name).toBe(name);
      const met = await s.client.callTool(
        'docker_service_wait',
        { service: name, timeout: 60 },
        { timeout: 70_000 },
      );
      expect(structured<{ met: boolean; running: number }>(met)).toMatchObject({ met: true, running: 2 });
      const list = await s.client.callTool('docker_service_list', { filters: { name: [name] } });
      const rows = structured<{ services: Record<string, unknown>[] }>(list).services;
      expect(rows).toEqual([
        expect.objectContaining({ name, image: IMAGE, mode: 'replicated', replicas: '2/2' }),
      ]);
      expect(Object.keys(rows[0] ?? {}).sort()).toEqual(['id', 'image', 'mode', 'name', 'replicas']);
      const gone = await s.client.callTool('docker_service_remove', { service: name });
      expect(gone.isError).toBeFalsy();
    } finally {
      await s.close();
    }
  }, 90_000);

  it('returns a join token to the caller and never logs it', async () => {
    const s = await startServer({
      client: kind,
      args: ['--toolsets', 'swarm', '--log-level', 'debug'],
      env: { DOCKER_HOST: swarm().manager.host },
    });
    try {
      const r = await s.client.callTool('docker_swarm_join_token', {});
      const { token } = structured<{ token: string }>(r);
      expect(token).toStartWith('SWMTKN-');
      const refused = await s.client.callTool('docker_swarm_join_token', { role: 'manager' });
      expect(errorOf(refused).kind).toBe('policy_denied');
      await Bun.sleep(100);
      expect(s.stderr()).not.toContain(token);
      expect(s.stderr()).not.toContain('SWMTKN');
    } finally {
      await s.close();
    }
  });
});

describe('the service policy through the binary', () => {
  it('refuses to scale a hostile service made elsewhere, and leaves it as it was', async () => {
    const c = swarm();
    const name = `mcpt-e2e-hostile-${process.pid}`;
    await c.raw('manager', 'POST', '/services/create', {
      Name: name,
      Labels: c.labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: IMAGE,
          Args: ['sleep', '1'],
          Mounts: [{ Type: 'bind', Source: '/', Target: '/h' }],
        },
      },
      Mode: { Replicated: { Replicas: 0 } },
    });
    const before = await c.raw<{ Version: { Index: number } }>('manager', 'GET', `/services/${name}`);
    const s = await startServer({ args: ['--toolsets', 'swarm'], env: { DOCKER_HOST: c.manager.host } });
    try {
      const r = await s.client.callTool('docker_service_scale', { service: name, replicas: 3 });
      const e = errorOf(r);
      expect(e.kind).toBe('policy_denied');
      expect(r.content?.[0]?.type === 'text' && r.content[0].text).toContain('Mounts[0].Source');
    } finally {
      await s.close();
    }
    const after = await c.raw<{ Version: { Index: number }; Spec: { Mode: unknown } }>(
      'manager',
      'GET',
      `/services/${name}`,
    );
    expect(after.Version.Index).toBe(before.Version.Index);
    expect(after.Spec.Mode).toEqual({ Replicated: { Replicas: 0 } });
  });
});

describe('docker_swarm_join through the binary', () => {
  it('joins a worker to the swarm of the manager engine named in the config file', async () => {
    const c = swarm();
    const s = await startServer({
      args: ['--config', config, '--toolsets', 'swarm', '--allow-destructive', '--log-level', 'debug'],
    });
    try {
      const left = await s.client.callTool('docker_swarm_leave', { engine: 'worker' });
      expect(structured<{ state: string }>(left).state).toBe('inactive');
      const joined = await s.client.callTool(
        'docker_swarm_join',
        { engine: 'worker', manager_engine: 'manager', advertise_addr: c.worker.addr },
        { timeout: 60_000 },
      );
      expect(structured<{ role: string; state: string }>(joined)).toMatchObject({
        role: 'worker',
        state: 'active',
      });
      expect(s.stderr()).not.toContain('SWMTKN');
    } finally {
      await s.close();
      await c.reform();
    }
  }, 90_000);
});
