import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { ToolError } from '../../src/core/errors.ts';
import { sentDockerfiles } from '../../src/docker/dockerfile.ts';
import {
  type ContainerInfo,
  checkContainerNow,
  checkCreateBody,
  type EngineLookup,
} from '../../src/docker/policy/container.ts';
import { policyGuard } from '../../src/docker/policy/guard.ts';
import type { PathResolver } from '../../src/docker/policy/paths.ts';
import {
  currentPolicy,
  pathPolicyOf,
  ruleContextOf,
  setPolicyDefaults,
  withPolicy,
} from '../../src/docker/policy/scope.ts';
import { checkArgumentPolicy, type PolicySettings } from '../../src/pipeline/policy.ts';

const host = { home: '/root', tmpDir: '/tmp', platform: 'linux' };
const defaults: PolicySettings = { allowPrivileged: false, mountAllowlist: [], mountBlocklist: [] };
const facts = { sharesFilesystem: true, socketPaths: ['/work/dev/docker.sock'], dataRoot: '/var/lib/docker' };
// Nothing but / exists: only lexical rules apply, whatever the machine running the tests has on disk.
const noFs: PathResolver = { realpath: (p) => (p === '/' ? '/' : undefined) };
/** The guard's requests other than GETs: none expected where the engine shares the filesystem. */
const notSent = async () => {
  throw new Error('the guard sent a request');
};

function refusal(fn: () => void): ToolError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
}
const check = (
  args: Record<string, unknown>,
  settings: Partial<PolicySettings> = {},
  hostPaths: string[] = [],
  reads = false,
) =>
  refusal(() =>
    withPolicy(
      { ...defaults, ...settings },
      host,
      () => checkArgumentPolicy(args, facts, hostPaths, reads),
      noFs,
    ),
  );

describe('argument policy (the early, friendly refusal)', () => {
  it('refuses privileged containers and names the argument and the setting', () => {
    const e = check({ privileged: true });
    expect(e?.kind).toBe('policy_denied');
    expect(e?.message).toContain('privileged');
    expect(e?.hint).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS');
    expect(check({ privileged: false })).toBeUndefined();
  });

  it('reads an argument named like an Object.prototype property as an ordinary one', () => {
    expect(check({ settings: { constructor: 'host', toString: 'host' } })).toBeUndefined();
    expect(check({ settings: { constructor: 'x', pid_mode: 'host' } })?.message).toContain(
      "settings.pid_mode: 'host' is refused: it shares the host's pid namespace",
    );
  });

  it('adds capabilities only from the default set, in any spelling', () => {
    for (const cap of ['NET_BIND_SERVICE', 'cap_chown', ' kill ', 'Net_Raw', 'AUDIT_WRITE'])
      expect([cap, check({ cap_add: [cap] })?.kind]).toEqual([cap, undefined]);
    for (const cap of [
      'SYS_ADMIN',
      'ALL',
      'NET_ADMIN',
      'CAP_SYS_PTRACE',
      'sys_module',
      'DAC_READ_SEARCH',
      'BPF',
      'SYSLOG',
      'LINUX_IMMUTABLE',
      'IPC_LOCK',
      'WAKE_ALARM',
    ])
      expect([cap, check({ cap_add: ['CHOWN', cap] })?.kind]).toEqual([cap, 'policy_denied']);
    expect(check({ cap_add: ['SYS_TIME'] })?.message).toContain('cap_add[0]');
  });

  it('says a name that is no capability is not one, not a policy refusal, even with privileges allowed', () => {
    for (const allowPrivileged of [false, true]) {
      const e = check({ cap_add: ['CHOWN', 'aud-inp-nope'] }, { allowPrivileged });
      expect([e?.kind, e?.message]).toEqual([
        'invalid_argument',
        'cap_add[1]: "AUD-INP-NOPE" is not a Linux capability',
      ]);
      expect(e?.hint).toContain('man 7 capabilities');
      expect(e?.hint).not.toContain('allow-privileged');
    }
  });

  it('says an option the engine does not know is invalid, not a policy refusal', () => {
    const e = check({ security_opt: ['no-new-privileges', 'bogus=1'] });
    expect([e?.kind, e?.message]).toEqual([
      'invalid_argument',
      'security_opt[1]: "bogus=1" is not a security option the engine knows',
    ]);
  });

  it('allows only security options that tighten', () => {
    for (const o of [
      'no-new-privileges',
      'no-new-privileges=true',
      'no-new-privileges:true',
      'apparmor=docker-default',
      'label=level:s0:c100,c200',
    ])
      expect([o, check({ security_opt: [o] })?.kind]).toEqual([o, undefined]);
    for (const o of [
      'seccomp=unconfined',
      'seccomp=/tmp/profile.json',
      'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}',
      'apparmor=unconfined',
      'apparmor=my-profile',
      'label=disable',
      'label=type:spc_t',
      'label=user:root',
      'systempaths=unconfined',
      'no-new-privileges=false',
      'SECCOMP = UNCONFINED',
      'writable-cgroups=true',
    ])
      expect([o, check({ security_opt: [o] })?.kind]).toEqual([o, 'policy_denied']);
  });

  it('refuses host namespaces and devices', () => {
    for (const k of [
      'network_mode',
      'pid_mode',
      'ipc_mode',
      'uts_mode',
      'userns_mode',
      'cgroupns_mode',
      'NetworkMode',
    ])
      expect([k, check({ [k]: ' HOST ' })?.kind]).toEqual([k, 'policy_denied']);
    expect(check({ network_mode: 'none' })).toBeUndefined();
    expect(check({ network_mode: 'container:web' })).toBeUndefined(); // the guard checks web as it is now
    expect(check({ devices: ['/dev/sda'] })?.kind).toBe('policy_denied');
    expect(check({ devices: [] })).toBeUndefined();
  });

  it("refuses the host's network among create/run's networks, list or map, naming it", () => {
    expect(check({ networks: ['front', 'host'] })?.message).toContain("networks.host: 'host' is refused");
    expect(check({ networks: { front: {}, HOST: { aliases: ['x'] } } })?.kind).toBe('policy_denied');
    expect(check({ networks: ['front', 'back'] })).toBeUndefined();
  });

  it('checks bind sources by the host-path rule, naming the argument', () => {
    expect(check({ volumes: ['/root/project:/src', 'data:/data', '/anon'] })).toBeUndefined();
    const e = check({ volumes: ['/root/project:/src', '/root/.ssh:/k:ro'] });
    expect(e?.kind).toBe('policy_denied');
    expect(e?.message).toContain('volumes[1]');
    expect(check({ volumes: { '/etc': { bind: '/h' } } })?.kind).toBe('policy_denied');
    expect(
      check({ mounts: [{ type: 'bind', source: '/var/run/docker.sock', target: '/s' }] })?.message,
    ).toContain('mounts[0].source');
    expect(check({ mounts: [{ type: 'volume', source: 'data', target: '/d' }] })).toBeUndefined();
  });

  it("refuses a network's host-bridge option and host-interface driver early, naming the argument", () => {
    const e = check({ name: 'n', options: { 'com.docker.network.bridge.name': 'br0' } });
    expect(e?.kind).toBe('policy_denied');
    expect(e?.message).toContain("options: 'com.docker.network.bridge.name' is refused");
    // A key that could be no option at all is a mistake, not a policy matter (--allow-privileged would not help).
    expect(check({ name: 'n', options: { '': '' } })?.kind).toBe('invalid_argument');
    expect(check({ name: 'n', options: { 'a b\n': 'x' } })?.message).toBe(
      'options: "a b\\n" is not a network driver option',
    );
    expect(check({ name: 'n', driver: 'macvlan' })?.message).toContain("driver: network driver 'macvlan'");
    expect(check({ name: 'n', options: { 'com.docker.network.driver.mtu': '1400' } })).toBeUndefined();
    expect(check({ name: 'n', driver: 'overlay', options: { encrypted: '' } })).toBeUndefined();
    // A container's logging options and a volume's driver are not a network's.
    expect(
      check({ image: 'x', logging: { driver: 'json-file', options: { 'max-size': '10m' } } }),
    ).toBeUndefined();
    expect(
      check({ name: 'v', driver: 'local', driver_opts: { type: 'tmpfs', device: 'tmpfs' } }),
    ).toBeUndefined();
  });

  it('allows tmpfs, network and bind volumes under the rule; refuses other local volume types', () => {
    const vol = (driver_opts: Record<string, string | undefined>, driver?: string) =>
      check({ name: 'v', driver, driver_opts });
    expect(vol({ type: 'tmpfs', device: 'tmpfs', o: 'size=64m,uid=1000' })).toBeUndefined();
    expect(vol({ type: 'nfs', device: ':/export', o: 'addr=127.0.0.1,ro' })).toBeUndefined();
    expect(vol({ type: 'cifs', device: '//127.0.0.1/share', o: 'username=x' })).toBeUndefined();
    expect(vol({ type: 'none', o: 'bind', device: '/root/project/data' })).toBeUndefined();
    for (const opts of [
      { type: 'proc', device: 'proc' },
      { type: 'sysfs', device: 'sysfs' },
      { type: 'devtmpfs', device: 'devtmpfs' },
      { type: 'overlay', device: 'overlay', o: 'lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w' },
      { type: 'ext4', device: '/dev/sda1' },
      { device: '/dev/sda1' },
      { type: 'none', o: 'bind', device: '/etc' },
      { type: 'tmpfs', o: 'rbind', device: '/etc' },
      { type: 'tmpfs', o: 'remount' },
    ])
      expect([opts, vol(opts)?.kind]).toEqual([opts, 'policy_denied']);
    // Not an option of the local driver at all (it takes type, o, device, size): invalid, whatever the settings.
    for (const opts of [{ type: 'tmpfs', Device: '/etc' }, { 'aud inp\n': 'x' }])
      expect([opts, vol(opts)?.kind]).toEqual([opts, 'invalid_argument']);
    expect(vol({ 'aud inp\n': 'x' })?.message).toBe(
      'driver_opts: "aud inp\\n" is not an option of the local volume driver',
    );
    expect(vol({ type: 'none', o: 'bind', device: '/etc' })?.message).toContain('driver_opts.device');
    // A plugin driver's options are the plugin's own.
    expect(vol({ type: 'proc' }, 'some-plugin')).toBeUndefined();
  });

  it('checks the tool-named host paths (build context, tar) on this server', () => {
    expect(check({ path: '/root/project' }, {}, ['path'])).toBeUndefined();
    expect(check({ path: '/root/.docker/config.json' }, {}, ['path'])?.message).toContain('path');
    expect(check({ path: '/etc/passwd' }, {}, ['path'])?.kind).toBe('policy_denied');
    expect(check({ path: '/etc/passwd' }, {}, [])).toBeUndefined();
  });

  it('checks only the host paths of a call at the safe tier: a read widens nothing', () => {
    const escapes = { privileged: true, volumes: ['/etc:/h'], filters: { pid_mode: 'host' } };
    expect(check(escapes)?.kind).toBe('policy_denied');
    expect(check(escapes, {}, [], true)).toBeUndefined();
    expect(check({ ...escapes, path: '/etc/passwd' }, {}, ['path'], true)?.message).toContain(
      "path: host path '/etc/passwd' is refused",
    );
    expect(check({ path: '/root/project' }, {}, ['path'], true)).toBeUndefined();
  });

  it('ignores the same names inside labels and environment', () => {
    expect(
      check({ labels: { privileged: 'true', cap_add: 'ALL' }, env: { network_mode: 'host' } }),
    ).toBeUndefined();
  });

  it('SAFETY_ALLOW_PRIVILEGED_CONTAINERS lifts the container rules, not the host-path rule', () => {
    const lifted = {
      privileged: true,
      cap_add: ['SYS_ADMIN'],
      security_opt: ['seccomp=unconfined'],
      pid_mode: 'host',
      devices: ['/dev/kvm'],
      driver_opts: { type: 'proc', device: 'proc' },
    };
    expect(check(lifted, { allowPrivileged: true })).toBeUndefined();
    expect(check({ volumes: ['/etc:/h'] }, { allowPrivileged: true })?.kind).toBe('policy_denied');
  });

  it('throws only ToolError for arguments of the wrong type', () => {
    for (const args of [
      { cap_add: 5 },
      { security_opt: [{}] },
      { volumes: [3] },
      { driver_opts: 'x' },
      { mounts: 'x' },
    ])
      expect([undefined, 'policy_denied', 'invalid_argument']).toContain(
        check(args as Record<string, unknown>)?.kind,
      );
  });
});

/** A fake engine: containers and volumes by name. */
function lookup(
  containers: Record<string, ContainerInfo>,
  volumes: Record<string, { Driver?: string; Options?: Record<string, string> }> = {},
): EngineLookup {
  return {
    container: async (r) => containers[r],
    volume: async (n) => volumes[n],
    idsStarting: async (p) =>
      Object.values(containers).flatMap((c) =>
        c.Id?.startsWith(p) ? [{ Id: c.Id, Names: [c.Name ?? ''] }] : [],
      ),
  };
}
async function asyncRefusal(
  fn: (ctx: ReturnType<typeof ruleContextOf>) => Promise<void>,
  settings: Partial<PolicySettings> = {},
) {
  return withPolicy(
    { ...defaults, ...settings },
    host,
    async () => {
      const scope = currentPolicy();
      const ctx = ruleContextOf(scope, pathPolicyOf(scope, facts));
      try {
        await fn(ctx);
        return undefined;
      } catch (e) {
        if (e instanceof ToolError) return e;
        throw e;
      }
    },
    noFs,
  );
}

describe('the policy on what the engine receives and holds', () => {
  const hostile: Record<string, ContainerInfo> = {
    priv: { Id: 'p1', Name: '/priv', HostConfig: { Privileged: true } },
    hostnet: { Id: 'h1', Name: '/hostnet', HostConfig: { NetworkMode: 'host' } },
    sock: {
      Id: 's1',
      Name: '/sock',
      HostConfig: {},
      Mounts: [{ Type: 'bind', Source: '/var/run/docker.sock' }],
    },
    chain: { Id: 'c1', Name: '/chain', HostConfig: { PidMode: 'container:priv' } },
    plain: {
      Id: 'ok',
      Name: '/plain',
      HostConfig: { NetworkMode: 'none', CgroupnsMode: 'host' },
      Mounts: [{ Type: 'bind', Source: '/tmp/p' }],
    },
    bindvol: {
      Id: 'bv',
      Name: '/bindvol',
      HostConfig: {},
      Mounts: [{ Type: 'volume', Name: 'etcvol', Driver: 'local' }],
    },
  };
  const volumes = {
    etcvol: { Driver: 'local', Options: { type: 'none', o: 'bind', device: '/etc' } },
    plainvol: { Driver: 'local' },
  };
  const L = lookup(hostile, volumes);

  it('refuses a container as it is now: privileged, host namespaces, the engine socket, a bind volume to /etc', async () => {
    for (const name of ['priv', 'hostnet', 'sock', 'chain', 'bindvol']) {
      const e = await asyncRefusal((ctx) => checkContainerNow(hostile[name] as ContainerInfo, ctx, L));
      expect([name, e?.kind]).toEqual([name, 'policy_denied']);
      expect(e?.message).toContain(`container '${name}'`);
    }
    expect(
      await asyncRefusal((ctx) => checkContainerNow(hostile.plain as ContainerInfo, ctx, L)),
    ).toBeUndefined();
  });

  it('allows joining a container that passes, refuses one that does not', async () => {
    const create = (HostConfig: Record<string, unknown>) =>
      asyncRefusal((ctx) => checkCreateBody({ HostConfig }, ctx, L));
    expect(await create({ NetworkMode: 'container:plain' })).toBeUndefined();
    expect(await create({ VolumesFrom: ['plain:ro'] })).toBeUndefined();
    for (const hc of [
      { NetworkMode: 'container:priv' },
      { PidMode: 'container:hostnet' },
      { IpcMode: 'container:sock' },
      { VolumesFrom: ['sock'] },
      { NetworkMode: 'container:chain' },
    ]) {
      const e = await create(hc);
      expect([hc, e?.kind]).toEqual([hc, 'policy_denied']);
      expect(e?.message).toContain('joining');
    }
  });

  it('refuses a joined container or named volume that is no name, before looking it up', async () => {
    const asked: string[] = [];
    const spy: EngineLookup = {
      container: async (r) => {
        asked.push(r);
        return hostile[r];
      },
      volume: async (n) => {
        asked.push(n);
        return volumes[n as keyof typeof volumes];
      },
      idsStarting: async () => [],
    };
    const create = (HostConfig: Record<string, unknown>) =>
      asyncRefusal((ctx) => checkCreateBody({ HostConfig }, ctx, spy));
    for (const [hc, says] of [
      [
        { VolumesFrom: ['a/../../containers/priv:ro'] },
        "HostConfig.VolumesFrom[0]: 'a/../../containers/priv'",
      ],
      [{ NetworkMode: 'container:x#' }, "HostConfig.NetworkMode: 'x#'"],
      [
        { Mounts: [{ Type: 'volume', Source: '../etcvol', Target: '/d' }] },
        "'../etcvol' is not a volume name",
      ],
    ] as const) {
      const e = await create(hc);
      expect([says, e?.kind]).toEqual([says, 'invalid_argument']);
      expect(e?.message).toContain(says);
    }
    expect(asked).toEqual([]);
    expect(await create({ VolumesFrom: ['/plain:ro'] })).toBeUndefined();
  });

  it("refuses the host network in a create body's EndpointsConfig, as in NetworkMode", async () => {
    const create = (EndpointsConfig: Record<string, unknown>) =>
      asyncRefusal((ctx) => checkCreateBody({ NetworkingConfig: { EndpointsConfig } }, ctx, L));
    expect((await create({ bridge: {}, host: {} }))?.message).toContain(
      "NetworkingConfig.EndpointsConfig.host: 'host' is refused",
    );
    expect(await create({ front: { Aliases: ['web'] } })).toBeUndefined();
  });

  it('refuses a short ID that names one container and starts another ID, wherever the engine resolves it', async () => {
    const short = 'ab12cd34ef56';
    const owner = { Id: `${short}${'0'.repeat(52)}`, Name: '/real', HostConfig: {} };
    const impostor = { Id: 'f'.repeat(64), Name: `/${short}`, HostConfig: {} };
    const two = lookup({ [short]: impostor, real: owner, [owner.Id]: owner });
    const create = (body: Record<string, unknown>) => asyncRefusal((ctx) => checkCreateBody(body, ctx, two));
    for (const [body, arg] of [
      [{ HostConfig: { NetworkMode: `container:${short}` } }, 'HostConfig.NetworkMode'],
      [{ HostConfig: { IpcMode: `container:${short}` } }, 'HostConfig.IpcMode'],
      [{ HostConfig: { VolumesFrom: [`${short}:ro`] } }, 'HostConfig.VolumesFrom[0]'],
      [{ HostConfig: { Links: [`${short}:db`] } }, 'HostConfig.Links[0]'],
      [
        { NetworkingConfig: { EndpointsConfig: { front: { Links: [`${short}:db`] } } } },
        'NetworkingConfig.EndpointsConfig.front.Links[0]',
      ],
    ] as const) {
      const e = await create(body);
      expect(e?.message).toBe(
        `${arg}: container reference '${short}' is ambiguous: it is the name of container ffffffffffff and the start of the ID of container 'real'`,
      );
      expect(e?.hint).toContain(owner.Id);
      expect(e?.hint).toContain(impostor.Id);
      expect(e?.hint).toContain(`'/${short}'`);
    }
    // The full ID and '/name' say which one is meant.
    expect(await create({ HostConfig: { NetworkMode: `container:${owner.Id}` } })).toBeUndefined();
    expect(await create({ HostConfig: { NetworkMode: `container:/${short}` } })).toBeUndefined();
  });

  it('checks named volumes, Mounts driver options, unmasked paths and a create asking for host cgroupns', async () => {
    const create = (HostConfig: Record<string, unknown>) =>
      asyncRefusal((ctx) => checkCreateBody({ HostConfig }, ctx, L));
    expect(await create({ Binds: ['plainvol:/d', '/root/project:/p'] })).toBeUndefined();
    expect((await create({ Binds: ['etcvol:/d'] }))?.kind).toBe('policy_denied');
    expect(
      (
        await create({
          Mounts: [
            {
              Type: 'volume',
              Target: '/x',
              VolumeOptions: { DriverConfig: { Options: { type: 'none', o: 'bind', device: '/etc' } } },
            },
          ],
        })
      )?.kind,
    ).toBe('policy_denied');
    expect((await create({ MaskedPaths: [] }))?.kind).toBe('policy_denied');
    expect((await create({ CgroupnsMode: 'host' }))?.kind).toBe('policy_denied');
    expect((await create({ Capabilities: ['CAP_SYS_ADMIN'] }))?.kind).toBe('policy_denied');
    expect((await create({ DeviceRequests: [{ Count: -1 }] }))?.kind).toBe('policy_denied');
  });

  it('allowPrivileged lifts the container rules at the boundary too', async () => {
    const e = await asyncRefusal((ctx) => checkContainerNow(hostile.priv as ContainerInfo, ctx, L), {
      allowPrivileged: true,
    });
    expect(e).toBeUndefined();
    const s = await asyncRefusal((ctx) => checkContainerNow(hostile.sock as ContainerInfo, ctx, L), {
      allowPrivileged: true,
    });
    expect(s?.kind).toBe('policy_denied');
  });
});

describe('the engine guard routes', () => {
  const containers: Record<string, unknown> = {
    '/containers/priv/json': { Id: 'p', Name: '/priv', HostConfig: { Privileged: true } },
    '/containers/ok/json': { Id: 'o', Name: '/ok', HostConfig: { NetworkMode: 'none' } },
    '/containers/o/json': { Id: 'o', Name: '/ok', HostConfig: { NetworkMode: 'none' } },
    '/exec/e1/json': { ContainerID: 'ok', ProcessConfig: { privileged: true } },
    '/exec/e2/json': { ContainerID: 'priv', ProcessConfig: { privileged: false } },
    '/exec/e3/json': { ContainerID: 'ok', ProcessConfig: { privileged: false } },
    '/networks/f00d': { Name: 'host', Driver: 'host' },
    '/networks/overlay1': { Name: 'overlay1', Driver: 'overlay' },
    '/networks/cfg-hostbr': { Name: 'cfg-hostbr', Options: { 'com.docker.network.bridge.name': 'br0' } },
    '/networks/cfg-mtu': { Name: 'cfg-mtu', Options: { 'com.docker.network.driver.mtu': '1400' } },
    '/volumes/etcvol': { Driver: 'local', Options: { type: 'none', o: 'bind', device: '/etc' } },
    '/volumes/tmpvol': { Driver: 'local', Options: { type: 'none', o: 'bind', device: '/tmp/data' } },
    '/networks/mv1': { Id: 'beef', Name: 'mv1', Driver: 'macvlan' },
    '/networks/beef': { Id: 'beef', Name: 'mv1', Driver: 'macvlan' },
    '/networks/ipv1': { Id: 'cafe', Name: 'ipv1', Driver: 'ipvlan' },
    '/services/back': {
      PreviousSpec: { TaskTemplate: { ContainerSpec: { Image: 'x', CapabilityAdd: ['SYS_ADMIN'] } } },
    },
    '/services/fine': { PreviousSpec: { TaskTemplate: { ContainerSpec: { Image: 'x' } } } },
  };
  const asked: string[] = [];
  const io = {
    send: notSent,
    get: async <T>(path: string) => {
      asked.push(path);
      return containers[path] as T | undefined;
    },
  };
  const guard = policyGuard(
    async () => facts,
    () => facts,
  );
  const send = (
    method: string,
    path: string,
    o: { body?: unknown; query?: Record<string, unknown>; file?: unknown; settings?: PolicySettings } = {},
  ) =>
    withPolicy(
      o.settings ?? defaults,
      host,
      async () => {
        try {
          const upload = o.file !== undefined;
          await guard(
            { method, path, query: o.query ?? {}, body: o.body, upload, stream: false, file: o.file },
            io,
          );
          return 'sent';
        } catch (e) {
          return e instanceof ToolError ? e.kind : String(e);
        }
      },
      noFs,
    );

  /** A stand-in for a context stream build-context.ts packed, carrying this Dockerfile. */
  const packed = (text: string, name = 'Dockerfile') => {
    const stream = {};
    sentDockerfiles.set(stream, { name, text });
    return stream;
  };

  it('refuses a build the engine would fetch from the host network: ADD <url>, a remote context', async () => {
    const add = packed('FROM x\nADD http://127.0.0.1:2375/info /i\n');
    const onbuild = packed('FROM x\nONBUILD ADD http://169.254.169.254/ /m\n');
    const local = packed('FROM x\nCOPY a /a\n', 'docker/Dockerfile');

    expect(await send('POST', '/build', { file: add })).toBe('policy_denied');
    expect(await send('POST', '/build', { file: onbuild })).toBe('policy_denied');
    expect(await send('POST', '/build', { query: { remote: 'http://127.0.0.1/ctx.tar' } })).toBe(
      'policy_denied',
    );
    // An upload this server did not pack cannot be checked; nor a Dockerfile other than the one checked.
    expect(await send('POST', '/build', { file: Buffer.from('tar') })).toBe('policy_denied');
    expect(await send('POST', '/build', { file: local })).toBe('policy_denied');
    expect(await send('POST', '/build', { file: local, query: { dockerfile: './docker/Dockerfile' } })).toBe(
      'sent',
    );
    // The privileged setting lifts it, as it lifts a host-network build.
    const lifted = { ...defaults, allowPrivileged: true };
    expect(await send('POST', '/build', { file: add, settings: lifted })).toBe('sent');
  });

  it('refuses a bind source, mount source or bind volume device the engine would read with its whitespace', async () => {
    // /tmp/t/.. with a trailing blank is /tmp to a trimming reader, but the engine follows t.
    for (const src of ['/tmp/t/.. ', '/tmp/t/..\u00a0', '/tmp/t/..\t']) {
      expect(
        await send('POST', '/containers/create', { body: { HostConfig: { Binds: [`${src}:/m:ro`] } } }),
      ).toBe('invalid_argument');
      expect(
        await send('POST', '/containers/create', {
          body: { HostConfig: { Mounts: [{ Type: 'bind', Source: src, Target: '/m' }] } },
        }),
      ).toBe('invalid_argument');
      expect(
        await send('POST', '/volumes/create', {
          body: { Name: 'v', DriverOpts: { type: 'none', o: 'bind', device: src } },
        }),
      ).toBe('invalid_argument');
    }
    expect(
      await send('POST', '/containers/create', { body: { HostConfig: { Binds: ['/tmp/t/..:/m'] } } }),
    ).toBe('sent');
  });

  it('lets reads through without asking the engine anything', async () => {
    asked.length = 0;
    expect(await send('GET', '/containers/priv/json')).toBe('sent');
    expect(await send('POST', '/containers/priv/stop')).toBe('sent');
    expect(asked).toEqual([]);
  });

  it('checks exec start, attach with stdin, update devices and a host-network build', async () => {
    expect(await send('POST', '/exec/e1/start')).toBe('policy_denied');
    expect(await send('POST', '/exec/e2/start')).toBe('policy_denied');
    expect(await send('POST', '/exec/e3/start')).toBe('sent');
    expect(await send('POST', '/containers/priv/attach', { query: { stdin: true, stream: true } })).toBe(
      'policy_denied',
    );
    expect(await send('POST', '/containers/priv/attach', { query: { stdout: true } })).toBe('sent');
    expect(
      await send('POST', '/containers/ok/update', { body: { Devices: [{ PathOnHost: '/dev/sda' }] } }),
    ).toBe('policy_denied');
    expect(await send('POST', '/containers/ok/update', { body: { Memory: 1 << 26 } })).toBe('sent');
    const context = packed('FROM x\nADD app.tar /app\n');
    expect(await send('POST', '/build', { query: { networkmode: 'host' }, file: context })).toBe(
      'policy_denied',
    );
    expect(await send('POST', '/build', { query: { t: 'x' }, file: context })).toBe('sent');
    expect(await send('POST', '/networks/create', { body: { Name: 'n', Driver: 'macvlan' } })).toBe(
      'policy_denied',
    );
    expect(await send('POST', '/networks/create', { body: { Name: 'n', driver: 'IPVLAN' } })).toBe(
      'policy_denied',
    );
    expect(await send('POST', '/networks/create', { body: { Name: 'n', Driver: 'bridge' } })).toBe('sent');
    // A bridge named by the caller takes over a host bridge of that name.
    const net = (body: Record<string, unknown>) =>
      send('POST', '/networks/create', { body: { Name: 'n', ...body } });
    expect(await net({ Options: { 'com.docker.network.bridge.name': 'br0' } })).toBe('policy_denied');
    expect(
      await net({ Driver: 'bridge', Options: { 'com.docker.network.bridge.default_bridge': 'true' } }),
    ).toBe('policy_denied');
    expect(await net({ Driver: 'overlay', Options: { 'com.docker.network.bridge.name': 'br0' } })).toBe(
      'policy_denied',
    );
    expect(await net({ Options: { 'com.docker.network.driver.mtu': '1400' } })).toBe('sent');
    expect(await net({ Driver: 'overlay', Options: { encrypted: '' } })).toBe('sent');
    expect(await net({ Driver: 'vendor/plugin', Options: { anything: 'x' } })).toBe('sent');
    expect(await net({ ConfigFrom: { Network: 'cfg-hostbr' } })).toBe('policy_denied');
    expect(await net({ configfrom: { network: 'cfg-mtu' } })).toBe('sent');
    const create = (HostConfig: Record<string, unknown>) =>
      send('POST', '/containers/create', { body: { Image: 'x', HostConfig } });
    expect(await create({ Runtime: 'nvidia' })).toBe('policy_denied');
    expect(await create({ Runtime: 'runsc' })).toBe('sent');
    expect(await create({ CgroupParent: '/' })).toBe('policy_denied');
    expect(
      await send('POST', '/volumes/create', { body: { Name: 'v', DriverOpts: { type: 'sysfs' } } }),
    ).toBe('policy_denied');
    expect(await send('PUT', '/containers/priv/archive')).toBe('policy_denied');
    // A stopped container's binds are mounted to read its files, resolved as they are then.
    expect(await send('GET', '/containers/priv/archive', { query: { path: '/etc/shadow' } })).toBe(
      'policy_denied',
    );
    expect(await send('HEAD', '/containers/priv/archive', { query: { path: '/' } })).toBe('policy_denied');
    expect(await send('GET', '/containers/ok/archive', { query: { path: '/' } })).toBe('sent');
    // A restart policy lets the engine start it later without asking.
    const restart = (Name: string) => ({ body: { RestartPolicy: { Name } } });
    expect(await send('POST', '/containers/priv/update', restart('always'))).toBe('policy_denied');
    expect(await send('POST', '/containers/priv/update', restart('no'))).toBe('sent');
    expect(await send('POST', '/containers/ok/update', restart('unless-stopped'))).toBe('sent');
    // A name that finds nothing is the engine's 404, answered here: one made after the look is not judged.
    expect(await send('POST', '/containers/missing/start')).toBe('Error: No such container: missing');
  });

  it('sends a judged request to the container it judged, by ID, whatever is renamed meanwhile', async () => {
    const verdict = (path: string, query: Record<string, unknown> = {}) =>
      withPolicy(
        defaults,
        host,
        async () =>
          await guard({ method: 'POST', path, query, body: undefined, upload: false, stream: false }, io),
        noFs,
      );
    expect(await verdict('/containers/ok/start')).toEqual({ path: '/containers/o/start' });
    expect(await verdict('/containers/ok/attach', { stdin: true })).toEqual({ path: '/containers/o/attach' });
    expect(await verdict('/containers/o/start')).toBeUndefined();
    expect(await verdict('/containers/ok/stop')).toBeUndefined();
  });

  it('checks Swarm service specs as containers, and refuses plugin installs', async () => {
    const service = (ContainerSpec: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      send('POST', '/services/create', { body: { TaskTemplate: { ContainerSpec, ...extra } } });
    expect(await service({ Image: 'x', Mounts: [{ Type: 'volume', Source: 'data', Target: '/d' }] })).toBe(
      'sent',
    );
    expect(await service({ Image: 'x', CapabilityAdd: ['CAP_SYS_ADMIN'] })).toBe('policy_denied');
    expect(await service({ Image: 'x', Mounts: [{ Type: 'bind', Source: '/etc', Target: '/e' }] })).toBe(
      'policy_denied',
    );
    expect(await service({ Image: 'x', Privileges: { Seccomp: { Mode: 'unconfined' } } })).toBe(
      'policy_denied',
    );
    expect(await service({ Image: 'x' }, { Networks: [{ Target: 'host' }] })).toBe('policy_denied');
    expect(
      await send('POST', '/services/abc/update', {
        body: { TaskTemplate: { ContainerSpec: { CapabilityAdd: ['ALL'] } } },
      }),
    ).toBe('policy_denied');
    expect(await send('POST', '/plugins/pull', { query: { remote: 'x' } })).toBe('policy_denied');
    expect(await send('POST', '/plugins/x/enable')).toBe('policy_denied');
  });

  it('checks service specs as the engine reads them: any case, unknown keys, networks by ID, rollbacks', async () => {
    const service = (body: Record<string, unknown>, path = '/services/create', query = {}) =>
      send('POST', path, { body, query });
    const spec = (ContainerSpec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      TaskTemplate: { ContainerSpec, ...extra },
    });
    // Go's JSON decoder matches keys without regard to case.
    expect(await service({ taskTemplate: { containerSpec: { capabilityAdd: ['NET_ADMIN'] } } })).toBe(
      'policy_denied',
    );
    expect(await service(spec({ Image: 'x', Devices: ['/dev/sda'] }))).toBe('policy_denied');
    expect(await service(spec({ Image: 'x', Privileges: { Unknown: true } }))).toBe('policy_denied');
    expect(await service(spec({ Image: 'x', Privileges: { SELinuxContext: { Type: 'spc_t' } } }))).toBe(
      'policy_denied',
    );
    expect(await service(spec({ Image: 'x', Privileges: { NoNewPrivileges: true } }))).toBe('sent');
    expect(await service(spec({ Image: 'x', CapabilityAdd: ['NET_BIND_SERVICE'] }))).toBe('sent');
    expect(await service(spec({ Image: 'x' }, { Networks: [{ Target: 'f00d' }] }))).toBe('policy_denied');
    expect(await service(spec({ Image: 'x' }, { Networks: [{ Target: 'overlay1' }] }))).toBe('sent');
    expect(await service({ ...spec({ Image: 'x' }), Networks: [{ Target: 'host' }] })).toBe('policy_denied');
    expect(
      await service(spec({ Image: 'x', Mounts: [{ Type: 'volume', Source: 'etcvol', Target: '/e' }] })),
    ).toBe('policy_denied');
    expect(
      await service(spec({ Image: 'x', Mounts: [{ Type: 'npipe', Source: '/run', Target: '/r' }] })),
    ).toBe('policy_denied');
    expect(await service(spec({ Image: 'x', Mounts: [{ Type: 'weird', Target: '/r' }] }))).toBe(
      'policy_denied',
    );
    expect(await service(spec({ Image: 'x', Mounts: [{ Type: 'tmpfs', Target: '/t' }] }))).toBe('sent');
    // Published ports, host mode too, are allowed (Swarm publishes on every node).
    const ports = { EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] } };
    expect(await service({ ...spec({ Image: 'x' }), ...ports })).toBe('sent');
    // A rollback runs the previous spec: that is the one checked.
    expect(await service(spec({ Image: 'x' }), '/services/back/update', { rollback: 'previous' })).toBe(
      'policy_denied',
    );
    expect(await service(spec({ Image: 'x' }), '/services/back/update')).toBe('sent');
    expect(await service(spec({ Image: 'x' }), '/services/fine/update', { rollback: 'previous' })).toBe(
      'sent',
    );
  });

  it("judges a service's host paths as on the nodes that run its tasks: lexical, allowlisted only", async () => {
    // The manager here shares this filesystem, or (remote) does not.
    const remote = { ...facts, sharesFilesystem: false };
    const elsewhere = policyGuard(
      async () => remote,
      () => remote,
    );
    const told = (path: string, body: unknown, settings = defaults, g = guard) =>
      withPolicy(
        settings,
        host,
        async () => {
          try {
            await g({ method: 'POST', path, query: {}, body, upload: false, stream: false }, io);
            return 'sent';
          } catch (e) {
            if (e instanceof ToolError) return `${e.message} | ${e.hint}`;
            throw e;
          }
        },
        // Every path exists here; /tmp/link leads to /etc, /tmp/in to /data.
        {
          realpath: (p) =>
            p.startsWith('/tmp/link')
              ? `/etc${p.slice(9)}`
              : p.startsWith('/tmp/in')
                ? `/data${p.slice(7)}`
                : p,
        },
      );
    const bind = (Source: string) => ({
      TaskTemplate: { ContainerSpec: { Image: 'x', Mounts: [{ Type: 'bind', Source, Target: '/m' }] } },
    });
    const allow = { ...defaults, mountAllowlist: ['/tmp'] };
    // The default roots (~, the temp dir) are this host's: a node's /tmp is not.
    for (const path of ['/services/create', '/services/abc/update']) {
      const said = await told(path, bind('/tmp/work'));
      expect(said).toContain(
        "TaskTemplate.ContainerSpec.Mounts[0].Source: host path '/tmp/work' is refused: a service's mounts are on the nodes that run its tasks, so only SAFETY_VOLUME_MOUNT_ALLOWLIST (--mount-allowlist) entries are allowed",
      );
      expect(said).toContain('Add the directory, as it is on every node');
      expect(await told(path, bind('/tmp/work'), allow)).toBe('sent');
    }
    // Written under an entry: allowed on a remote manager, whose nodes' symlinks no one here sees; a
    // task may run on a manager that shares this filesystem, so there the path as it resolves counts too.
    expect(await told('/services/create', bind('/tmp/link/x'), allow, elsewhere)).toBe('sent');
    expect(await told('/services/create', bind('/tmp/link/x'), allow)).toContain(
      "host path '/tmp/link/x' (resolving to '/etc/x') is refused: it is not under any allowlist entry",
    );
    // Resolving under an entry here is not enough: a node mounts the path as written.
    const data = { ...defaults, mountAllowlist: ['/data'] };
    expect(await told('/services/create', bind('/tmp/in/x'), data)).toContain(
      "a service's mounts are on the nodes",
    );
    expect(
      await told('/containers/create', { Image: 'x', HostConfig: { Binds: ['/tmp/in/x:/m'] } }, data),
    ).toBe('sent');
    expect(await told('/services/create', bind('/tmp/work'), defaults, elsewhere)).toContain(
      "a service's mounts are on the nodes",
    );
    // This engine's own socket, and the home's dot-directories, stay refused under an allowlist entry above them.
    expect(
      await told('/services/create', bind('/work/dev/docker.sock'), {
        ...defaults,
        mountAllowlist: ['/work'],
      }),
    ).toContain('it exposes /work/dev/docker.sock');
    expect(
      await told('/services/create', bind('/root/.ssh'), { ...defaults, mountAllowlist: ['/root'] }),
    ).toContain('where credentials live');
    // A volume's bind device, the one the manager holds and one the mount makes on its node.
    const vol = (m: Record<string, unknown>) => ({
      TaskTemplate: { ContainerSpec: { Image: 'x', Mounts: [{ Type: 'volume', Target: '/m', ...m }] } },
    });
    expect(await told('/services/create', vol({ Source: 'tmpvol' }))).toContain(
      "a service's mounts are on the nodes",
    );
    expect(await told('/services/create', vol({ Source: 'tmpvol' }), allow)).toBe('sent');
    const opts = { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/tmp/d' } } };
    expect(await told('/services/create', vol({ VolumeOptions: opts }))).toContain(
      "a service's mounts are on the nodes",
    );
    // A container on this engine keeps the default roots.
    const container = { Image: 'x', HostConfig: { Binds: ['/tmp/work:/m'] } };
    expect(await told('/containers/create', container)).toBe('sent');
  });

  it('refuses a service on a network on a host interface (macvlan, ipvlan), by name or ID', async () => {
    const net = (Target: string, where = 'task') =>
      send('POST', '/services/create', {
        body:
          where === 'task'
            ? { TaskTemplate: { ContainerSpec: { Image: 'x' }, Networks: [{ Target }] } }
            : { TaskTemplate: { ContainerSpec: { Image: 'x' } }, Networks: [{ Target }] },
      });
    for (const ref of ['mv1', 'beef', 'ipv1']) expect([ref, await net(ref)]).toEqual([ref, 'policy_denied']);
    expect(await net('mv1', 'service')).toBe('policy_denied');
    expect(
      await send('POST', '/services/abc/update', {
        body: { TaskTemplate: { ContainerSpec: { Image: 'x' }, Networks: [{ Target: 'beef' }] } },
      }),
    ).toBe('policy_denied');
    expect(await net('overlay1')).toBe('sent');
    expect(
      await send('POST', '/services/create', {
        body: { TaskTemplate: { ContainerSpec: { Image: 'x' }, Networks: [{ Target: 'mv1' }] } },
        settings: { ...defaults, allowPrivileged: true },
      }),
    ).toBe('sent');
  });

  it('reads every body as the engine does: any case, ſ and K, and a field spelled twice refused', async () => {
    const create = (body: Record<string, unknown>) => send('POST', '/containers/create', { body });
    // Each was shown on dockerd to make what it spells: a privileged container, a bind of /etc.
    expect(await create({ Image: 'x', hostconfig: { privileged: true } })).toBe('policy_denied');
    expect(await create({ Image: 'x', HostConfig: { Privileged: false, privileged: true } })).toBe(
      'invalid_argument',
    );
    expect(await create({ Image: 'x', HostConfig: { 'Bind\u017f': ['/etc:/h'] } })).toBe('policy_denied');
    expect(await create({ Image: 'x', HostConfig: { 'Ma\u017f\u212AedPaths': [] } })).toBe('policy_denied');
    expect(
      await create({ Image: 'x', HostConfig: { mounts: [{ type: 'BIND', source: '/etc', target: '/e' }] } }),
    ).toBe('policy_denied');
    expect(
      await create({
        Image: 'x',
        HostConfig: {
          Mounts: [
            {
              Type: 'volume',
              Target: '/x',
              volumeoptions: { driverconfig: { options: { type: 'none', o: 'bind', device: '/etc' } } },
            },
          ],
        },
      }),
    ).toBe('policy_denied');
    expect(await create({ Image: 'x', networkingconfig: { endpointsconfig: { host: {} } } })).toBe(
      'policy_denied',
    );
    expect(await create({ Image: 'x', HostConfig: { Privileged: false, Binds: ['/tmp/p:/p'] } })).toBe(
      'sent',
    );
    expect(await send('POST', '/containers/ok/exec', { body: { Cmd: ['sh'], privileged: true } })).toBe(
      'policy_denied',
    );
    expect(
      await send('POST', '/containers/ok/update', { body: { devices: [{ PathOnHost: '/dev/sda' }] } }),
    ).toBe('policy_denied');
    expect(
      await send('POST', '/volumes/create', {
        body: { Name: 'v', driveropts: { type: 'none', o: 'bind', device: '/etc' } },
      }),
    ).toBe('policy_denied');
    expect(
      await send('POST', '/volumes/create', {
        body: { Name: 'v', Driver: 'local', driver: 'other', DriverOpts: { type: 'sysfs' } },
      }),
    ).toBe('invalid_argument');
    const twice = {
      TaskTemplate: {
        ContainerSpec: { Image: 'x', Privileges: {}, privileges: { Seccomp: { Mode: 'unconfined' } } },
      },
    };
    expect(await send('POST', '/services/create', { body: twice })).toBe('invalid_argument');
  });

  it('refuses a refused create body however its keys are spelled', async () => {
    const refused = [
      { HostConfig: { Privileged: true } },
      { HostConfig: { CapAdd: ['SYS_ADMIN'] } },
      { HostConfig: { PidMode: 'host' } },
      { HostConfig: { SecurityOpt: ['seccomp=unconfined'] } },
      { HostConfig: { Devices: [{ PathOnHost: '/dev/sda' }] } },
      { HostConfig: { MaskedPaths: [] } },
      { HostConfig: { Binds: ['/etc:/e'] } },
      { HostConfig: { Mounts: [{ Type: 'bind', Source: '/etc', Target: '/e' }] } },
      { NetworkingConfig: { EndpointsConfig: { host: {} } } },
    ];
    // A key as Go would still match it: letters in the other case, s as ſ, k as the Kelvin sign.
    const respell = (key: string, flips: boolean[]) =>
      [...key]
        .map((c, i) => {
          if (!flips[i % flips.length]) return c;
          if (c === 's') return '\u017f';
          if (c === 'k') return '\u212a';
          return c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
        })
        .join('');
    // Network names in EndpointsConfig are a map's keys, not fields: kept as they are.
    const respelled = (v: unknown, flips: boolean[], map = false): unknown =>
      Array.isArray(v)
        ? v.map((x) => respelled(x, flips))
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(
              Object.entries(v).map(([k, x]) => [
                map ? k : respell(k, flips),
                respelled(x, flips, k === 'EndpointsConfig'),
              ]),
            )
          : v;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...refused),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        async (body, flips) =>
          (await send('POST', '/containers/create', { body: respelled({ Image: 'x', ...body }, flips) })) ===
          'policy_denied',
      ),
    );
  });
});

describe('logging what the settings allow', () => {
  it('logs a lifted refusal once per call, and each admitted sensitive path', () => {
    const told: string[] = [];
    setPolicyDefaults(defaults, host, (m) => told.push(m));
    try {
      check({ privileged: true, cap_add: ['SYS_ADMIN', 'ALL'], pid_mode: 'host' }, { allowPrivileged: true });
      expect(told).toHaveLength(1);
      expect(told[0]).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS');
      check({ privileged: true }, { allowPrivileged: true });
      expect(told).toHaveLength(2);
      check({ volumes: ['/etc/myapp:/c'] }, { mountAllowlist: ['/etc/myapp'] });
      expect(told[2]).toContain('/etc/myapp');
    } finally {
      setPolicyDefaults(defaults, host, (m) => void process.stderr.write(`${m}\n`));
    }
  });
});

describe('host paths inside what a container can write', () => {
  const answers: Record<string, unknown> = {
    '/containers/json': [
      { Id: 'w1', Names: ['/writer'], Mounts: [{ Type: 'bind', Source: '/tmp/ws', RW: true }] },
      { Id: 'r1', Names: ['/reader'], Mounts: [{ Type: 'bind', Source: '/tmp/data/d', RW: false }] },
      {
        Id: 'v1',
        Names: ['/volw'],
        Mounts: [{ Type: 'volume', Name: 'bindvol', Driver: 'local', RW: true }],
      },
    ],
    '/volumes': {
      Volumes: [
        { Name: 'bindvol', Driver: 'local', Options: { type: 'none', o: 'bind', device: '/tmp/vol' } },
        { Name: 'plain', Driver: 'local', Options: null },
      ],
    },
    '/containers/nested/json': {
      Id: 'n1',
      Name: '/nested',
      HostConfig: {},
      Mounts: [{ Type: 'bind', Source: '/tmp/ws/x', RW: false }],
    },
    '/containers/writer/json': {
      Id: 'w1',
      Name: '/writer',
      HostConfig: {},
      Mounts: [{ Type: 'bind', Source: '/tmp/ws', RW: true }],
    },
  };
  const io = { send: notSent, get: async <T>(path: string) => answers[path] as T | undefined };
  const guard = policyGuard(
    async () => facts,
    () => facts,
  );
  const send = (method: string, path: string, body?: unknown) =>
    withPolicy(
      defaults,
      host,
      async () => {
        try {
          await guard({ method, path, query: {}, body, upload: false, stream: false }, io);
          return 'sent';
        } catch (e) {
          return e instanceof ToolError ? `${e.kind}: ${e.message}` : String(e);
        }
      },
      noFs,
    );
  const create = (HostConfig: Record<string, unknown>) =>
    send('POST', '/containers/create', { Image: 'x', HostConfig });
  const kind = async (p: Promise<string>) => (await p).split(':')[0];

  it('refuses a source inside a directory another container can write, naming both', async () => {
    expect(await create({ Binds: ['/tmp/ws/d:/mnt:ro'] })).toBe(
      "policy_denied: HostConfig.Binds[0]: host path '/tmp/ws/d' is inside '/tmp/ws', which container 'writer' can write: a symlink put there would be followed each time the engine mounts the path",
    );
    expect(
      await kind(create({ Mounts: [{ Type: 'bind', Source: '/tmp/ws/e', Target: '/e', ReadOnly: true }] })),
    ).toBe('policy_denied');
    // A bind volume's device is a host path the same way.
    expect(await kind(create({ Binds: ['/tmp/vol/x:/x:ro'] }))).toBe('policy_denied');
  });

  it('refuses a writable directory holding another container source, and nesting within one container', async () => {
    expect(await create({ Binds: ['/tmp/data:/data'] })).toContain(
      "host path '/tmp/data' holds '/tmp/data/d', which container 'reader' mounts",
    );
    expect(await create({ Binds: ['/tmp/own:/a', '/tmp/own/sub:/b:ro'] })).toContain(
      "HostConfig.Binds[1]: host path '/tmp/own/sub' is inside '/tmp/own', which this container (HostConfig.Binds[0]) can write",
    );
  });

  it('allows the same path twice, read-only parents, and paths beside each other', async () => {
    expect(await create({ Binds: ['/tmp/ws:/w:ro'] })).toBe('sent');
    expect(await create({ Binds: ['/tmp/data:/data:ro'] })).toBe('sent');
    expect(await create({ Binds: ['/tmp/other:/o', 'plain:/p'] })).toBe('sent');
    expect(await create({ Binds: ['/tmp/own:/a:ro', '/tmp/own/sub:/b:ro'] })).toBe('sent');
  });

  it('checks a container as it is now at the moment of use', async () => {
    expect(await kind(send('POST', '/containers/nested/start'))).toBe('policy_denied');
    expect(await kind(send('GET', '/containers/nested/archive'))).toBe('policy_denied');
    expect(await send('POST', '/containers/writer/start')).toBe('sent');
  });
});
