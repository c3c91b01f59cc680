/**
 * Compose's container options on docker_create_container and docker_run_container, through the compiled
 * binary on the real engine: the engine holds each option (inspect), a healthcheck turns healthy, a
 * read-only root refuses writes while its tmpfs takes them, several networks are joined with their
 * aliases, and a refusal or a misspelt value names the field and leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { cleanupContainers, TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';

let server: RunningServer;
const networks: string[] = [];
// Internal networks (no route out) with a subnet of their own, so an address can be asked for.
const octet = 100 + (process.pid % 100);
const front = { name: uniqueName('mcpt-front'), subnet: `10.${octet}.${Date.now() % 200}.0/24` };
const back = uniqueName('mcpt-back');

beforeAll(async () => {
  server = await startServer();
  const docker = testDocker();
  await docker.createNetwork({
    Name: front.name,
    Internal: true,
    Labels: testLabels(),
    IPAM: { Config: [{ Subnet: front.subnet }] },
  });
  networks.push(front.name);
  await docker.createNetwork({ Name: back, Internal: true, Labels: testLabels() });
  networks.push(back);
});

afterAll(async () => {
  await server?.close();
  await cleanupContainers();
  for (const n of networks)
    await testDocker()
      .getNetwork(n)
      .remove()
      .catch(() => undefined);
});

const call = (name: string, args: Record<string, unknown>) => server.client.callTool(name, args);
const inspect = (ref: string) => testDocker().getContainer(ref).inspect();
const exists = async (name: string) =>
  (await testDocker().listContainers({ all: true, filters: { name: [`^/?${name}$`] } })).length > 0;
const base = (over: Record<string, unknown> = {}) => ({
  image: TEST_IMAGE,
  name: uniqueName('mcpt'),
  labels: testLabels(),
  ...over,
});

describe("docker_create_container with Compose's options", () => {
  it('hands each option to the engine as Compose would', async () => {
    const ip = front.subnet.replace(/0\/24$/, '9');
    const args = base({
      command: ['sleep', '3600'],
      healthcheck: {
        test: ['CMD', 'true'],
        interval: '1m30s',
        timeout: '500ms',
        retries: 4,
        start_period: '2s',
      },
      read_only: true,
      tmpfs: ['/run:size=1m,mode=1777', '/cache'],
      shm_size: '16m',
      ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 512 },
      init: true,
      dns: ['10.0.0.2'],
      extra_hosts: ['db:10.0.0.3', 'cache=10.0.0.4'],
      networks: { [front.name]: { aliases: ['web', 'www'], ipv4_address: ip }, [back]: { aliases: ['api'] } },
      stop_signal: 'SIGINT',
      stop_grace_period: '1m30s',
    });

    const out = structured<{ id: string; name: string }>(await call('docker_create_container', args));

    const info = await inspect(out.id);
    expect(info.Config.Healthcheck).toEqual({
      Test: ['CMD', 'true'],
      Interval: 90e9,
      Timeout: 5e8,
      Retries: 4,
      StartPeriod: 2e9,
    });
    const config = info.Config as { StopSignal?: string; StopTimeout?: number };
    expect(config.StopSignal).toBe('SIGINT');
    expect(config.StopTimeout).toBe(90);
    const hc = info.HostConfig as typeof info.HostConfig & Record<string, unknown>;
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.Tmpfs).toEqual({ '/run': 'size=1m,mode=1777', '/cache': '' });
    expect(hc.ShmSize).toBe(16 * 1024 ** 2);
    expect(hc.Ulimits).toEqual([
      { Name: 'nofile', Soft: 1024, Hard: 2048 },
      { Name: 'nproc', Soft: 512, Hard: 512 },
    ]);
    expect(hc.Init).toBe(true);
    expect(hc.Dns).toEqual(['10.0.0.2']);
    expect(hc.ExtraHosts).toEqual(['db:10.0.0.3', 'cache:10.0.0.4']);
    expect(hc.NetworkMode).toBe(front.name);
    const nets = info.NetworkSettings.Networks as Record<
      string,
      { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null }
    >;
    expect(Object.keys(nets).sort()).toEqual([front.name, back].sort());
    expect(nets[front.name]?.Aliases).toEqual(expect.arrayContaining(['web', 'www']));
    expect(nets[front.name]?.IPAMConfig?.IPv4Address).toBe(ip);
    expect(nets[back]?.Aliases).toEqual(expect.arrayContaining(['api']));
  });

  it('names the field and the fix for a value it cannot read, creating nothing', async () => {
    for (const [over, says] of [
      [{ stop_grace_period: '90' }, `'stop_grace_period': cannot read duration "90"`],
      [{ healthcheck: { interval: 'soon' } }, `'healthcheck.interval': cannot read duration "soon"`],
      [{ tmpfs: ['run'] }, `'tmpfs': "run" is not an absolute container path`],
      [{ networks: ['a'], network_mode: 'none' }, `'networks': network_mode is set too`],
    ] as const) {
      const args = base(over);
      const err = errorOf(await call('docker_create_container', args));
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain(says);
      expect(await exists(args.name)).toBe(false);
    }
  });

  it("refuses the host's network among networks, naming it, and creates nothing", async () => {
    for (const networks of [['host'], { [back]: {}, host: {} }]) {
      const args = base({ networks });
      const err = errorOf(await call('docker_create_container', args));
      expect(err.kind).toBe('policy_denied');
      expect(err.message).toContain('networks');
      expect(err.message).toContain("'host' is refused");
      expect(await exists(args.name)).toBe(false);
    }
  });

  it('refuses a network that does not exist before creating anything, on run too', async () => {
    for (const tool of ['docker_create_container', 'docker_run_container']) {
      const args = base({ command: ['true'], networks: [back, uniqueName('mcpt-missing')] });
      const err = errorOf(await call(tool, args));
      expect(err.kind).toBe('not_found');
      expect(err.message).toContain('mcpt-missing');
      expect(await exists(args.name)).toBe(false);
    }
  });
});

describe("docker_run_container with Compose's options", () => {
  it('runs a healthcheck until the container is healthy', async () => {
    const args = base({
      command: ['sleep', '3600'],
      network_mode: 'none',
      healthcheck: { test: 'test -e /bin/sh', interval: '1s', timeout: '1s', retries: 3 },
    });
    const run = structured<{ id: string; state: string }>(await call('docker_run_container', args));
    expect(run.state).toBe('running');

    const waited = structured<{ met: boolean }>(
      await call('docker_wait_container', { container_id: run.id, until: 'healthy', timeout: 30 }),
    );

    expect(waited.met).toBe(true);
    expect((await inspect(run.id)).State.Health?.Status).toBe('healthy');
  });

  it('keeps a read-only root from writes while its tmpfs takes them', async () => {
    const args = base({
      network_mode: 'none',
      read_only: true,
      tmpfs: ['/scratch'],
      init: true,
      command: [
        'sh',
        '-c',
        'echo x > /scratch/f && echo tmpfs-written; echo x > /etc/f 2>/dev/null || echo root-refused; cat /proc/1/comm',
      ],
      wait: true,
      remove: true,
    });

    const out = structured<{ exit_code: number; stdout: string; removed: boolean }>(
      await call('docker_run_container', args),
    );

    expect(out.exit_code).toBe(0);
    expect(out.stdout).toContain('tmpfs-written');
    expect(out.stdout).toContain('root-refused');
    expect(out.stdout).toContain('docker-init'); // init: true puts the engine's init at PID 1
    expect(out.removed).toBe(true);
  });
});
