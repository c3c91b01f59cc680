import { afterAll, describe, expect, it } from 'bun:test';
import { type ContainerSpec, createRequest } from '../../src/docker/container-spec.ts';
import { cleanupContainers, TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';

afterAll(cleanupContainers);

describe('ContainerSpec', () => {
  it('creates a container the engine reports back field for field', async () => {
    const spec: ContainerSpec = {
      image: TEST_IMAGE,
      name: uniqueName('mcpt-spec'),
      command: ['sleep', '3600'],
      env: ['A=1'],
      labels: { ...testLabels(), tier: 'web' },
      expose: ['9000'],
      volumes: ['/cache'],
      mounts: [{ type: 'tmpfs', target: '/run/x', tmpfs: { sizeBytes: 1_048_576 } }],
      tmpfs: { '/tmp': 'size=8m' },
      networkMode: 'none',
      hostname: 'spec-host',
      dns: ['127.0.0.53'],
      extraHosts: ['db.test:127.0.0.1'],
      restart: { policy: 'on-failure', maxRetries: 2 },
      resources: {
        memory: 64 * 1024 * 1024,
        memoryReservation: 32 * 1024 * 1024,
        pidsLimit: 50,
        shmSize: 8_388_608,
      },
      healthcheck: { test: ['CMD', 'true'], interval: 1e9, timeout: 1e9, retries: 2, startPeriod: 1e9 },
      user: '0:0',
      workingDir: '/tmp',
      readOnly: true,
      capDrop: ['NET_RAW'],
      securityOpt: ['no-new-privileges:true'],
      ulimits: [{ name: 'nofile', soft: 512, hard: 1024 }],
      logging: { driver: 'json-file', options: { 'max-size': '1m' } },
      init: true,
      sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
      stopSignal: 'SIGINT',
      stopTimeout: 3,
    };
    const { query, body } = createRequest(spec);
    const docker = testDocker();
    const created = await docker.createContainer({ ...body, name: query.name } as never);
    const info = await docker.getContainer(created.id).inspect();
    const c = info.Config as typeof info.Config & { StopSignal?: string; StopTimeout?: number };
    expect(info.Name).toBe(`/${spec.name}`);
    expect(c.Cmd).toEqual(['sleep', '3600']);
    expect(c.Env).toContain('A=1');
    expect(c.Labels.tier).toBe('web');
    expect(Object.keys(c.ExposedPorts ?? {})).toEqual(['9000/tcp']);
    expect(Object.keys(c.Volumes ?? {})).toEqual(['/cache']);
    expect([c.Hostname, c.User, c.WorkingDir, c.StopSignal, c.StopTimeout]).toEqual([
      'spec-host',
      '0:0',
      '/tmp',
      'SIGINT',
      3,
    ]);
    expect(c.Healthcheck).toEqual({
      Test: ['CMD', 'true'],
      Interval: 1e9,
      Timeout: 1e9,
      StartPeriod: 1e9,
      Retries: 2,
    });
    const hc = info.HostConfig as Record<string, unknown>;
    expect(hc.Mounts).toEqual([{ Type: 'tmpfs', Target: '/run/x', TmpfsOptions: { SizeBytes: 1_048_576 } }]);
    expect(hc.Tmpfs).toEqual({ '/tmp': 'size=8m' });
    expect(hc.NetworkMode).toBe('none');
    expect(hc.Dns).toEqual(['127.0.0.53']);
    expect(hc.ExtraHosts).toEqual(['db.test:127.0.0.1']);
    expect(hc.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
    expect([hc.Memory, hc.MemoryReservation, hc.PidsLimit, hc.ShmSize]).toEqual([
      64 * 1024 * 1024,
      32 * 1024 * 1024,
      50,
      8_388_608,
    ]);
    expect([hc.ReadonlyRootfs, hc.Init]).toEqual([true, true]);
    expect(hc.CapDrop).toEqual(['NET_RAW']);
    expect(hc.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(hc.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '1m' } });
    expect(hc.Ulimits).toEqual([{ Name: 'nofile', Soft: 512, Hard: 1024 }]);
    expect(hc.Sysctls).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '0' });
  });
});
