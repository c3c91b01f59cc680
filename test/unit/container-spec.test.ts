import { describe, expect, it } from 'bun:test';
import { type ContainerSpec, createBody, createRequest } from '../../src/docker/container-spec.ts';
import { bytes, parseDuration, shellSplit } from '../../src/docker/spec-values.ts';
import { validateArgs } from '../../src/pipeline/validate.ts';
import { createContainer, runContainer } from '../../src/tools/containers/create.ts';
import { laterNetworks, specFromArgs, createBody as toolBody } from '../../src/tools/containers/spec.ts';

describe('ContainerSpec → create body', () => {
  it('sends only the image when nothing else is set (no empty HostConfig)', () => {
    expect(createBody({ image: 'busybox' })).toEqual({ Image: 'busybox' });
  });

  it('puts the name and platform in the query, not the body', () => {
    expect(createRequest({ image: 'busybox', name: 'web', platform: 'linux/arm64' })).toEqual({
      query: { name: 'web', platform: 'linux/arm64' },
      body: { Image: 'busybox' },
    });
  });

  it('maps a Compose-sized service onto the Engine API fields', () => {
    const spec: ContainerSpec = {
      image: 'nginx:1.27',
      command: ['nginx', '-g', 'daemon off;'],
      entrypoint: ['/docker-entrypoint.sh'],
      env: ['A=1', 'B'],
      labels: { tier: 'web' },
      expose: ['9000', '53/udp'],
      ports: [
        { container: '80', hostIp: '127.0.0.1', hostPort: '8080' },
        { container: '80', hostIp: '::1', hostPort: '8080' },
        { container: '443', protocol: 'tcp' },
      ],
      binds: ['/srv:/usr/share/nginx/html:ro'],
      volumes: ['/cache'],
      mounts: [
        { type: 'volume', source: 'data', target: '/data', volume: { noCopy: true, subpath: 'x' } },
        { type: 'bind', source: '/etc', target: '/h', bind: { propagation: 'rslave' } },
        { type: 'tmpfs', target: '/run', tmpfs: { sizeBytes: 65_536, mode: 0o1777 } },
      ],
      tmpfs: { '/tmp': 'size=64m' },
      networkMode: 'front',
      networks: { front: { aliases: ['web'], ipv4Address: '172.30.0.5', priority: 10 } },
      hostname: 'web',
      domainname: 'example.test',
      dns: ['10.0.0.2'],
      dnsSearch: ['example.test'],
      dnsOptions: ['ndots:2'],
      extraHosts: ['db:10.0.0.3'],
      restart: { policy: 'on-failure', maxRetries: 3 },
      resources: {
        memory: 268_435_456,
        memoryReservation: 134_217_728,
        nanoCpus: 500_000_000,
        pidsLimit: 100,
        shmSize: 67_108_864,
      },
      healthcheck: { test: ['CMD', 'true'], interval: 1e9, timeout: 5e8, retries: 3, startPeriod: 2e9 },
      user: '101:101',
      groupAdd: ['audio'],
      workingDir: '/srv',
      tty: true,
      stdinOpen: true,
      readOnly: true,
      capAdd: ['NET_BIND_SERVICE'],
      capDrop: ['ALL'],
      securityOpt: ['no-new-privileges:true'],
      devices: [{ pathOnHost: '/dev/fuse' }],
      pidMode: 'private',
      ipcMode: 'private',
      init: true,
      stopSignal: 'SIGQUIT',
      stopTimeout: 20,
      logging: { driver: 'json-file', options: { 'max-size': '10m' } },
      ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
      sysctls: { 'net.core.somaxconn': '1024' },
    };
    expect(createBody(spec)).toEqual({
      Image: 'nginx:1.27',
      Cmd: ['nginx', '-g', 'daemon off;'],
      Entrypoint: ['/docker-entrypoint.sh'],
      Env: ['A=1', 'B'],
      Labels: { tier: 'web' },
      WorkingDir: '/srv',
      User: '101:101',
      Hostname: 'web',
      Domainname: 'example.test',
      Tty: true,
      OpenStdin: true,
      ExposedPorts: { '9000/tcp': {}, '53/udp': {}, '80/tcp': {}, '443/tcp': {} },
      Volumes: { '/cache': {} },
      StopSignal: 'SIGQUIT',
      StopTimeout: 20,
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Timeout: 5e8, Retries: 3, StartPeriod: 2e9 },
      HostConfig: {
        Binds: ['/srv:/usr/share/nginx/html:ro'],
        PortBindings: {
          '80/tcp': [
            { HostIp: '127.0.0.1', HostPort: '8080' },
            { HostIp: '::1', HostPort: '8080' },
          ],
          '443/tcp': [{ HostIp: '', HostPort: '' }],
        },
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
        Memory: 268_435_456,
        MemoryReservation: 134_217_728,
        NanoCpus: 500_000_000,
        PidsLimit: 100,
        ShmSize: 67_108_864,
        NetworkMode: 'front',
        ReadonlyRootfs: true,
        CapAdd: ['NET_BIND_SERVICE'],
        CapDrop: ['ALL'],
        Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
        SecurityOpt: ['no-new-privileges:true'],
        PidMode: 'private',
        IpcMode: 'private',
        Mounts: [
          { Type: 'volume', Source: 'data', Target: '/data', VolumeOptions: { NoCopy: true, Subpath: 'x' } },
          { Type: 'bind', Source: '/etc', Target: '/h', BindOptions: { Propagation: 'rslave' } },
          { Type: 'tmpfs', Target: '/run', TmpfsOptions: { SizeBytes: 65_536, Mode: 0o1777 } },
        ],
        Tmpfs: { '/tmp': 'size=64m' },
        Dns: ['10.0.0.2'],
        DnsSearch: ['example.test'],
        DnsOptions: ['ndots:2'],
        ExtraHosts: ['db:10.0.0.3'],
        GroupAdd: ['audio'],
        Init: true,
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } },
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
        Sysctls: { 'net.core.somaxconn': '1024' },
      },
      NetworkingConfig: {
        EndpointsConfig: {
          front: { Aliases: ['web'], GwPriority: 10, IPAMConfig: { IPv4Address: '172.30.0.5' } },
        },
      },
    });
  });
});

describe('tool arguments → ContainerSpec (the tools front-end)', () => {
  it('publishes on 127.0.0.1 unless an address is named, tcp unless a protocol is', () => {
    // Integer-like keys come first in a JS object, in ascending order.
    const ports = { '9': '[::1]:9', '80': 8080, '443': null, '8080/udp': '0.0.0.0:53' };
    expect(specFromArgs({ image: 'a', ports }).ports).toEqual([
      { container: '9', hostIp: '::1', hostPort: '9' },
      { container: '80', hostIp: '127.0.0.1', hostPort: '8080' },
      { container: '443', hostIp: '127.0.0.1', hostPort: '' },
      { container: '8080', protocol: 'udp', hostIp: '0.0.0.0', hostPort: '53' },
    ]);
  });

  it('builds the same create body the tools always sent', () => {
    expect(
      toolBody({
        image: 'a',
        command: 'sh -c "echo hi"',
        environment: { A: '1' },
        ports: { '80': 8080 },
        volumes: ['/data', 'v:/x:ro'],
        restart_policy: 'always',
        mem_limit: '512m',
        cpus: 1.5,
        devices: ['/dev/a:/dev/b'],
        network_mode: 'none',
      }),
    ).toEqual({
      Image: 'a',
      Cmd: ['sh', '-c', 'echo hi'],
      Env: ['A=1'],
      ExposedPorts: { '80/tcp': {} },
      Volumes: { '/data': {} },
      HostConfig: {
        Binds: ['v:/x:ro'],
        PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
        RestartPolicy: { Name: 'always' },
        Memory: 536_870_912,
        NanoCpus: 1_500_000_000,
        NetworkMode: 'none',
        Devices: [{ PathOnHost: '/dev/a', PathInContainer: '/dev/b', CgroupPermissions: 'rwm' }],
      },
    });
  });

  it('turns the volume map form into binds', () => {
    expect(toolBody({ image: 'a', volumes: { v: '/x', '/h': { bind: '/c', mode: 'ro' } } })).toEqual({
      Image: 'a',
      HostConfig: { Binds: ['v:/x', '/h:/c:ro'] },
    });
  });
});

describe("Compose's options on create and run", () => {
  const args = {
    image: 'a',
    healthcheck: {
      test: 'wget -q -O- localhost',
      interval: '1m30s',
      timeout: '500ms',
      retries: 3,
      start_period: '2s',
    },
    read_only: true,
    tmpfs: ['/run:size=64m,mode=1777', '/tmp'],
    shm_size: '64m',
    ulimits: { nofile: { soft: 1024, hard: 4096 }, nproc: 512 },
    init: true,
    dns: ['10.0.0.2'],
    extra_hosts: ['db:10.0.0.3', 'cache=10.0.0.4'],
    networks: { front: { aliases: ['web'], ipv4_address: '10.5.0.9' }, back: null },
    stop_signal: 'SIGINT',
    stop_grace_period: '1m30s',
  };

  it('maps each to the Engine API field Compose maps it to', () => {
    expect(toolBody(args)).toEqual({
      Image: 'a',
      StopSignal: 'SIGINT',
      StopTimeout: 90,
      Healthcheck: {
        Test: ['CMD-SHELL', 'wget -q -O- localhost'],
        Interval: 90e9,
        Timeout: 5e8,
        Retries: 3,
        StartPeriod: 2e9,
      },
      HostConfig: {
        ShmSize: 67_108_864,
        NetworkMode: 'front',
        ReadonlyRootfs: true,
        Tmpfs: { '/run': 'size=64m,mode=1777', '/tmp': '' },
        Dns: ['10.0.0.2'],
        ExtraHosts: ['db:10.0.0.3', 'cache:10.0.0.4'],
        Init: true,
        Ulimits: [
          { Name: 'nofile', Soft: 1024, Hard: 4096 },
          { Name: 'nproc', Soft: 512, Hard: 512 },
        ],
      },
      NetworkingConfig: {
        EndpointsConfig: { front: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.5.0.9' } } },
      },
    });
    // The first network is joined at create; the others by a connect call after it.
    expect(laterNetworks(args)).toEqual([['back', {}]]);
    expect(laterNetworks({ image: 'a', networks: ['x', 'y'] })).toEqual([['y', {}]]);
  });

  it('reads a healthcheck as Compose does: argv, disable, seconds or durations', () => {
    expect(specFromArgs({ image: 'a', healthcheck: { test: ['CMD', 'true'] } }).healthcheck).toEqual({
      test: ['CMD', 'true'],
    });
    expect(specFromArgs({ image: 'a', healthcheck: { disable: true, test: 'x' } }).healthcheck).toEqual({
      test: ['NONE'],
    });
    expect(() => specFromArgs({ image: 'a', healthcheck: { test: ['true'] } })).toThrow(
      "invalid argument 'healthcheck.test': a list must start with CMD, CMD-SHELL or NONE",
    );
  });

  it('refuses what it cannot read, naming the field and the fix', async () => {
    const schema = createContainer.input;
    const refused = async (a: Record<string, unknown>) => {
      try {
        await validateArgs(schema, { image: 'a', ...a });
        specFromArgs({ image: 'a', ...a } as never);
      } catch (e) {
        return `${(e as Error).message} ${(e as { hint?: string }).hint ?? ''}`;
      }
      return 'accepted';
    };
    expect(await refused({ stop_grace_period: '90' })).toBe(
      `invalid argument 'stop_grace_period': cannot read duration "90" Write e.g. 30s, 1m30s or 500ms.`,
    );
    expect(await refused({ healthcheck: { interval: '1 minute' } })).toContain(
      `'healthcheck.interval': cannot read duration "1 minute"`,
    );
    expect(await refused({ healthcheck: { intervl: '1s' } })).toContain('intervl');
    expect(await refused({ tmpfs: ['run'] })).toMatch(
      /'tmpfs': "run" is not an absolute container path .*\/run:size=64m/,
    );
    expect(await refused({ ulimits: { nofile: { soft: 10, hard: 5 } } })).toContain(
      "'ulimits.nofile': soft 10 is above hard 5",
    );
    expect(await refused({ ulimits: { nofile: { soft: 10 } } })).toContain('ulimits');
    expect(await refused({ shm_size: '64q' })).toContain(
      `'shm_size': has characters or a shape not allowed here (expected: bytes or "64m")`,
    );
    expect(await refused({ extra_hosts: ['nohost'] })).toContain(
      `'extra_hosts': "nohost" is not host:address Write e.g. "db:10.0.0.3".`,
    );
    expect(await refused({ networks: ['a'], network_mode: 'bridge' })).toContain(
      "'networks': network_mode is set too Pass one of them",
    );
    expect(await refused({ networks: { a: { alias: ['x'] } } })).toContain('alias');
    expect(await refused({ stop_grace_period: '10s', healthcheck: { interval: '250ms' } })).toBe('accepted');
  });

  it('offers the same options on run as on create', () => {
    const compose =
      'healthcheck read_only tmpfs shm_size ulimits init dns extra_hosts networks stop_signal stop_grace_period';
    for (const k of compose.split(' ')) {
      expect(Object.keys(createContainer.input.properties)).toContain(k);
      expect(Object.keys(runContainer.input.properties)).toContain(k);
    }
  });
});

describe('spec values', () => {
  it('reads Go-style durations, and nothing else', () => {
    expect([
      parseDuration('1m30s'),
      parseDuration('500ms'),
      parseDuration('1.5h'),
      parseDuration('2us'),
    ]).toEqual([90e9, 5e8, 5400e9, 2000]);
    for (const bad of ['', '90', '1 m', 'm', '1d']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('reads sizes with binary units', () => {
    const b = (v: string | number | undefined) => bytes(v, 'size');
    expect([b('512m'), b('1g'), b('10k'), b('100'), b(7), b(undefined)]).toEqual([
      536_870_912,
      1_073_741_824,
      10_240,
      100,
      7,
      undefined,
    ]);
  });

  it('splits a command as a POSIX shell would, without expansion', () => {
    expect(shellSplit(`echo "a b" 'c $d' e\\ f ""`)).toEqual(['echo', 'a b', 'c $d', 'e f', '']);
    expect(() => shellSplit('echo "open')).toThrow("invalid argument 'command': unclosed \" quote");
  });
});
