/**
 * A network's addresses against its host's networks, through the compiled binary. The refusals are
 * made against a recording stand-in for the engine that creates nothing, so the test sees that no
 * request left the server, and a regression could never put a route over this machine's own
 * network. An ordinary private subnet is then made on the real engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { found, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';
import { type RecordingEngine, recordingEngine } from '../helpers/recording-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-subnet-'));
/** This machine's first interface network other than loopback (eth0 192.0.2.2/24 here), if any. */
const lan = Object.entries(networkInterfaces())
  .flatMap(([dev, addrs]) => (addrs ?? []).map((a) => ({ dev, ...a })))
  .find((a) => !a.internal && a.family === 'IPv4' && a.cidr);

/**
 * A route to a bridge another engine made on this machine (docker0 172.17.0.0/16 here, beside the
 * dev engine's own bridge), if any: from the routing table, which lists a bridge without carrier too.
 */
const foreign = (() => {
  let table = '';
  try {
    table = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n').slice(1)) {
    const [dev = '', dest = ''] = line.trim().split(/\s+/);
    if (!/^(?:docker0|br-[0-9a-f]{12})$/.test(dev) || !/^[0-9A-F]{8}$/i.test(dest)) continue;
    const bytes = [6, 4, 2, 0].map((i) => Number.parseInt(dest.slice(i, i + 2), 16));
    if (
      bytes[0] === 10 ||
      bytes[0] === 192 ||
      (bytes[0] === 172 && (bytes[1] ?? 0) >= 16 && (bytes[1] ?? 0) < 32)
    )
      return { dev, cidr: bytes.join('.') };
  }
  return undefined;
})();

let rec: RecordingEngine;
let server: RunningServer;
beforeAll(async () => {
  rec = await recordingEngine(join(dir, 'engine.sock'));
  // The stand-in's socket is served by this test, not by a daemon the server can see: where the
  // server runs in a container, it would judge that engine to be on another host. Say it is this one.
  server = await startServer({ env: { DOCKER_HOST: rec.host, MCP_DOCKER_SHARES_FILESYSTEM: 'true' } });
});
afterAll(async () => {
  await server?.close();
  await rec?.close();
  rmSync(dir, { recursive: true, force: true });
});

const creates = () => rec.calls().filter((r) => r.method === 'POST' && r.path.startsWith('/networks/create'));

describe("a network over the engine host's own networks", () => {
  it('refuses a subnet over loopback, naming the field, the host network and the fix, before any request', async () => {
    rec.clear();
    const e = errorOf(
      await server.client.callTool('docker_create_network', {
        name: uniqueName('mcpt-subnet'),
        subnet: '127.0.0.0/24',
        gateway: '127.0.0.1',
        internal: true,
      }),
    );
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain(
      "subnet: '127.0.0.0/24' is refused: it overlaps this host's network 127.0.0.1/8 (lo)",
    );
    expect(e.hint).toContain('Pick another private range');
    expect(e.hint).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS');
    expect(creates()).toEqual([]);
  });

  it.skipIf(!lan)(
    "refuses a subnet on this machine's own interface network (the audit's case), before any request",
    async () => {
      const { dev, cidr } = lan as { dev: string; cidr: string };
      const [addr = '', bits = ''] = cidr.split('/');
      // The audit's shape: a /30 with its gateway, inside the host's LAN.
      const base = addr.split('.').slice(0, 3).join('.');
      rec.clear();
      const e = errorOf(
        await server.client.callTool('docker_create_network', {
          name: uniqueName('mcpt-subnet'),
          subnet: Number(bits) >= 24 ? `${base}.200/30` : `${addr}/32`,
          gateway: Number(bits) >= 24 ? `${base}.201` : undefined,
          internal: true,
        }),
      );
      expect(e.kind).toBe('policy_denied');
      expect(e.message).toContain(`overlaps this host's network ${cidr} (${dev})`);
      expect(creates()).toEqual([]);
    },
  );

  it.skipIf(!foreign)(
    "refuses a subnet over another engine's bridge (br-… or docker0) before any request, and leaves the engine's own bridge to it",
    async () => {
      const { dev, cidr: addr } = foreign as { dev: string; cidr: string };
      // A /30 inside that bridge's (private) network: a more specific route that would take its containers' traffic.
      const subnet = `${addr.split('.').slice(0, 3).join('.')}.200/30`;
      const id = `${dev === 'docker0' ? 'abcdef012345' : dev.slice(3)}${'0'.repeat(52)}`;
      // The stand-in owns only its own bridge (as the dev engine, mcpdev0): this one is another engine's.
      const other = await recordingEngine(join(dir, 'other.sock'), {
        networks: [
          {
            Name: 'bridge',
            Driver: 'bridge',
            Id: 'f'.repeat(64),
            Options: { 'com.docker.network.bridge.name': 'fx0' },
          },
        ],
      });
      // The same stand-in owning that bridge: its route is the engine's to judge, and the request goes.
      const owner = await recordingEngine(join(dir, 'owner.sock'), {
        networks: [
          dev === 'docker0'
            ? {
                Name: 'bridge',
                Driver: 'bridge',
                Id: id,
                Options: { 'com.docker.network.bridge.name': 'docker0' },
              }
            : { Name: 'app', Driver: 'bridge', Id: id, Options: {} },
        ],
      });
      const env = { MCP_DOCKER_SHARES_FILESYSTEM: 'true' };
      const a = await startServer({ env: { ...env, DOCKER_HOST: other.host } });
      const b = await startServer({ env: { ...env, DOCKER_HOST: owner.host } });
      const make = (s: RunningServer) =>
        s.client.callTool('docker_create_network', {
          name: uniqueName('mcpt-subnet'),
          subnet,
          internal: true,
        });
      const created = (r: RecordingEngine) =>
        r.calls().filter((c) => c.method === 'POST' && c.path.startsWith('/networks/create'));
      try {
        const e = errorOf(await make(a));
        expect(e.kind).toBe('policy_denied');
        // Refused at the engine boundary, which knows the engine's bridges: named by the request's field.
        expect(e.message).toContain(
          `IPAM.Config[0].Subnet: '${subnet}' is refused: it overlaps this host's network`,
        );
        expect(e.message).toContain(`(route via ${dev})`);
        expect(created(other)).toEqual([]);
        // A Compose network's ipam subnet over it: refused before up makes anything.
        other.clear();
        const content = `services:\n  app:\n    image: mcp-test/busybox:latest\n    networks: [front]\nnetworks:\n  front:\n    ipam:\n      config:\n        - subnet: ${subnet}\n`;
        const c = errorOf(
          await a.client.callTool('docker_compose_up', { content, project_name: uniqueName('mcpt-subnet') }),
        );
        expect(c.kind).toBe('policy_denied');
        expect(c.message).toContain(`network "front" ipam.config[0].subnet: '${subnet}' is refused`);
        expect(other.calls().filter((r) => r.method !== 'GET')).toEqual([]);
        await make(b);
        expect(created(owner)).toHaveLength(1);
      } finally {
        await a.close();
        await b.close();
        await other.close();
        await owner.close();
      }
    },
  );

  it("refuses a Compose network's ipam subnet before up makes anything", async () => {
    rec.clear();
    const content = [
      'services:',
      '  app:',
      '    image: mcp-test/busybox:latest',
      '    networks: [front]',
      'networks:',
      '  front:',
      '    ipam:',
      '      config:',
      '        - subnet: 127.0.5.0/24',
    ].join('\n');
    const e = errorOf(
      await server.client.callTool('docker_compose_up', { content, project_name: uniqueName('mcpt-subnet') }),
    );
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain('network "front" ipam.config[0].subnet');
    expect(rec.calls().filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('lets SAFETY_ALLOW_PRIVILEGED_CONTAINERS lift it, as the bridge options (the stand-in makes nothing)', async () => {
    const lifted = await startServer({
      env: { DOCKER_HOST: rec.host, SAFETY_ALLOW_PRIVILEGED_CONTAINERS: 'true' },
    });
    try {
      rec.clear();
      await lifted.client.callTool('docker_create_network', {
        name: uniqueName('mcpt-subnet'),
        subnet: '127.0.0.0/24',
        internal: true,
      });
      expect(creates()).toHaveLength(1);
      expect(lifted.stderr()).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS lifts the policy');
    } finally {
      await lifted.close();
    }
  });
});

describe('a network on a private subnet clear of the host', () => {
  it('is made as asked', async () => {
    const real = await startServer();
    const name = uniqueName('mcpt-subnet');
    try {
      // Another run, or a route of this host, may hold a subnet already: another is tried.
      for (let attempt = 0; ; attempt++) {
        const third = 100 + Math.floor(Math.random() * 150);
        const subnet = `10.${third}.${Math.floor(Math.random() * 250)}.0/24`;
        const gateway = subnet.replace(/0\/24$/, '1');
        const r = await real.client.callTool('docker_create_network', {
          name,
          subnet,
          gateway,
          internal: true,
          labels: testLabels(),
        });
        if (r.isError && attempt < 4) continue;
        const out = structured<{ name: string; ipam: { subnet: string; gateway?: string }[] }>(r);
        expect(out.name).toBe(name);
        expect(out.ipam).toEqual([{ subnet, gateway }]);
        break;
      }
    } finally {
      await real.close();
      await testDocker()
        .getNetwork(name)
        .remove()
        .catch(() => undefined);
    }
    expect(await found(testDocker().getNetwork(name).inspect())).toBe(false);
  });
});
