/**
 * What a Compose file asks for reaches the engine, or is refused by config and up naming the key,
 * through the compiled binary on the real engine: port ranges published port by port (127.0.0.1 when no
 * host IP), bind propagation, and the keys inside a service's keys this server does not map (a GPU
 * request, build options, a volume subpath on an engine older than API 1.45) refused before anything is made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, testDocker, uniqueName } from '../helpers/engine.ts';

const docker = testDocker();
let server: RunningServer;
const projects: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'mcpt-compose-map-'));

beforeAll(async () => {
  server = await startServer({ args: ['--allow-destructive'] }); // for down
});

afterAll(async () => {
  for (const name of projects)
    await server?.client.callTool('docker_compose_down', { project_name: name }).catch(() => undefined);
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const newProject = () => {
  const name = uniqueName('mcptm').replace(/[^a-z0-9-]/g, '');
  projects.push(name);
  return name;
};

/** One service `app` with `extra` (YAML lines at the service's indent). */
const app = (extra: string) => `services:
  app:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    labels: { ${TEST_LABEL}: "${RUN_ID}" }
${extra}`;

const call = (tool: string, args: Record<string, unknown>) => server.client.callTool(tool, args);

/** What the engine holds of the project: its containers and networks. */
const made = async (name: string) => {
  const filters = { label: [`com.docker.compose.project=${name}`] };
  const [cs, ns] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  return [...cs.map((c) => c.Names[0]), ...ns.map((n) => n.Name)];
};

describe('compose port ranges', () => {
  it('publishes a host range on a container range port by port, on 127.0.0.1 unless named', async () => {
    const name = newProject();
    // Free ports in a range the engine does not hand out on its own.
    const base = 20000 + Math.floor(Math.random() * 20000);
    const content = app(
      `    ports: ["${base}-${base + 1}:81-82", "127.0.0.1:${base + 2}-${base + 3}:81-82/udp", "83-84"]\n`,
    );
    const cfg = structured<{ services: { app: { ports: string[] } } }>(
      await call('docker_compose_config', { content, project_name: name }),
    );
    expect(cfg.services.app.ports).toEqual([
      `127.0.0.1:${base}-${base + 1}:81-82/tcp`,
      `127.0.0.1:${base + 2}-${base + 3}:81-82/udp`,
      '127.0.0.1::83-84/tcp',
    ]);
    structured(await call('docker_compose_up', { content, project_name: name }));
    const info = await docker.getContainer(`${name}-app-1`).inspect();
    const bound = info.HostConfig.PortBindings as Record<string, { HostIp: string; HostPort: string }[]>;
    expect(bound).toEqual({
      '81/tcp': [{ HostIp: '127.0.0.1', HostPort: String(base) }],
      '82/tcp': [{ HostIp: '127.0.0.1', HostPort: String(base + 1) }],
      '81/udp': [{ HostIp: '127.0.0.1', HostPort: String(base + 2) }],
      '82/udp': [{ HostIp: '127.0.0.1', HostPort: String(base + 3) }],
      '83/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      '84/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
    expect(info.State.Running).toBe(true);
  });

  it('refuses one host port for a container range in config, and up makes nothing', async () => {
    const name = newProject();
    const content = app('    ports: ["18950:81-82"]\n');
    for (const tool of ['docker_compose_config', 'docker_compose_up']) {
      const err = errorOf(await call(tool, { content, project_name: name }));
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain(
        'service "app": ports: one host port "18950" cannot publish the container ports "81-82"',
      );
    }
    expect(await made(name)).toEqual([]);
  });
});

describe('compose keys inside a service key', () => {
  it('mounts a bind with the propagation the file names', async () => {
    const name = newProject();
    const content = app(
      `    network_mode: none\n    volumes: [{ type: bind, source: ${dir}, target: /data, bind: { propagation: private } }]\n`,
    );
    structured(await call('docker_compose_up', { content, project_name: name }));
    const info = await docker.getContainer(`${name}-app-1`).inspect();
    expect(info.HostConfig.Mounts?.[0]?.BindOptions).toMatchObject({ Propagation: 'private' });
    expect(info.Mounts.find((m) => m.Destination === '/data')?.Propagation).toBe('private');
  });

  it('refuses a GPU request under the policy, naming the key, instead of dropping it', async () => {
    const name = newProject();
    const content = app(
      '    network_mode: none\n    deploy: { resources: { reservations: { devices: [{ driver: nvidia, count: 1, capabilities: [gpu] }] } } }\n',
    );
    const cfg = structured<{ refused?: Record<string, string[]> }>(
      await call('docker_compose_config', { content, project_name: name }),
    );
    expect(cfg.refused?.app?.join('\n')).toContain('deploy.resources.reservations.devices');
    const err = errorOf(await call('docker_compose_up', { content, project_name: name }));
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toContain('deploy.resources.reservations.devices');
    expect(await made(name)).toEqual([]);
  });

  for (const [key, yaml, why] of [
    ['build.network', '    build: { context: ., network: host }\n', 'is not supported by this server'],
    ['build.privileged', '    build: { context: ., privileged: true }\n', 'is not supported by this server'],
    ['build.ssh', '    build: { context: ., ssh: [default] }\n', 'is not supported by this server'],
    [
      'build.extra_hosts',
      '    build: { context: ., extra_hosts: ["h:127.0.0.1"] }\n',
      'is not supported by this server',
    ],
    [
      'networks.default.mac_address',
      '    networks: { default: { mac_address: "02:42:ac:11:00:09" } }\n',
      'is not supported by this server',
    ],
    [
      'volumes[0].bind.recursive',
      `    volumes: [{ type: bind, source: ${dir}, target: /d, bind: { recursive: disabled } }]\n`,
      'is not supported by this server',
    ],
  ] as const)
    it(`refuses ${key} in config and in up, before anything is made`, async () => {
      const name = newProject();
      const content = app(yaml);
      for (const tool of ['docker_compose_config', 'docker_compose_up']) {
        const err = errorOf(await call(tool, { content, project_dir: dir, project_name: name }));
        expect(err.kind).toBe('invalid_argument');
        expect(err.message).toContain(`service "app": key "${key}" ${why}`);
      }
      expect(await made(name)).toEqual([]);
    });

  it('refuses a volume subpath on an engine older than API 1.45, naming both versions', async () => {
    const name = newProject();
    const content = `${app('    volumes: [{ type: volume, source: data, target: /d, volume: { subpath: sub } }]\n')}volumes:\n  data: {}\n`;
    const version = (await docker.version()).ApiVersion;
    const old = Number(version.split('.')[1]) < 45;
    for (const tool of ['docker_compose_config', 'docker_compose_up']) {
      const result = await call(tool, { content, project_name: name });
      if (!old) continue;
      const err = errorOf(result);
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain(
        `service "app": volumes[0].volume.subpath: needs Engine API 1.45 (Docker 26), and this engine speaks ${version}`,
      );
    }
    if (old) expect(await made(name)).toEqual([]);
  });
});

describe('docker_compose_config with content', () => {
  it('reports the content as what was read, not a compose.yaml in project_dir', async () => {
    const cfg = structured<{ config_files: string[]; working_dir: string }>(
      await call('docker_compose_config', { content: app(''), project_dir: dir, project_name: newProject() }),
    );
    expect(cfg).toMatchObject({ config_files: ['<content>'], working_dir: dir });
  });
});

describe('compose network addresses', () => {
  it('makes a network with its ipam subnet and gives each network its ipv4_address, the second too', async () => {
    const name = newProject();
    const x = Math.floor(Math.random() * 250);
    const content = `${app(`    networks:
      front: { ipv4_address: 10.250.${x}.10 }
      back: { ipv4_address: 10.251.${x}.20 }
`)}networks:
  front: { ipam: { config: [{ subnet: 10.250.${x}.0/24 }] } }
  back: { ipam: { config: [{ subnet: 10.251.${x}.0/24, gateway: 10.251.${x}.1 }] } }
`;
    structured(await call('docker_compose_up', { content, project_name: name }));
    const net = await docker.getNetwork(`${name}_back`).inspect();
    expect(net.IPAM?.Config).toEqual([{ Subnet: `10.251.${x}.0/24`, Gateway: `10.251.${x}.1` }]);
    const nets = (await docker.getContainer(`${name}-app-1`).inspect()).NetworkSettings.Networks;
    expect(nets[`${name}_front`]?.IPAddress).toBe(`10.250.${x}.10`);
    expect(nets[`${name}_back`]?.IPAddress).toBe(`10.251.${x}.20`);
  });
});
