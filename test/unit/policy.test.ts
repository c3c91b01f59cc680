import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostEnv } from '../../src/config/host.ts';
import { ToolError } from '../../src/core/errors.ts';
import {
  checkArgumentPolicy,
  normaliseHostPath,
  type PathResolver,
  type PolicySettings,
  sensitivePaths,
} from '../../src/pipeline/policy.ts';

const host: HostEnv = { home: '/home/alice', platform: 'linux', xdgRuntimeDir: '/run/user/1000', uid: 1000 };
const defaults: PolicySettings = {
  allowPrivileged: false,
  mountAllowlist: [],
  mountBlocklist: [],
  dockerSocketPaths: ['/tmp/engine-x/docker.sock'],
};
// Nothing exists: only lexical rules apply, whatever the machine running the tests has on disk.
const noFs: PathResolver = { realpath: () => undefined };

function check(
  args: Record<string, unknown>,
  settings: Partial<PolicySettings> = {},
  fs: PathResolver = noFs,
) {
  checkArgumentPolicy(args, { ...defaults, ...settings }, host, fs);
}

/** The ToolError thrown by `fn`, or undefined when it passes. */
function refusal(fn: () => void): ToolError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
}

const bind = (src: string, settings: Partial<PolicySettings> = {}, fs: PathResolver = noFs) =>
  refusal(() => check({ volumes: [`${src}:/mnt`] }, settings, fs));

describe('argument policy', () => {
  describe('privileged and escape arguments', () => {
    it('refuses privileged containers and names the setting that allows them', () => {
      const e = refusal(() => check({ privileged: true }));
      expect(e?.kind).toBe('policy_denied');
      expect(e?.message).toBe('privileged containers are refused');
      expect(e?.hint).toBe('Set SAFETY_ALLOW_PRIVILEGED_CONTAINERS=true to allow them.');
    });

    it('allows privileged: false and absent arguments', () => {
      expect(refusal(() => check({ privileged: false, cap_add: undefined, image: 'nginx' }))).toBeUndefined();
    });

    it.each(['network_mode', 'pid_mode', 'ipc_mode', 'userns_mode', 'uts_mode'])(
      'refuses %s host (case-insensitive, trimmed)',
      (name) => {
        const e = refusal(() => check({ [name]: ' HOST ' }));
        expect(e?.kind).toBe('policy_denied');
        expect(e?.message).toContain(name);
        expect(e?.hint).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS');
      },
    );

    it('allows non-host namespace modes', () => {
      expect(
        refusal(() => check({ network_mode: 'bridge', pid_mode: 'container:abc', ipc_mode: 'private' })),
      ).toBeUndefined();
    });

    it.each([['ALL'], ['cap_sys_admin'], ['SYS_PTRACE'], [' net_admin '], ['CAP_BPF'], ['dac_read_search']])(
      'refuses cap_add %p and names the capability',
      (cap) => {
        const e = refusal(() => check({ cap_add: ['CHOWN', cap] }));
        expect(e?.kind).toBe('policy_denied');
        expect(e?.message).toContain(cap.trim().toUpperCase().replace(/^CAP_/, ''));
      },
    );

    it('allows harmless capabilities, including NET_RAW from the default set', () => {
      expect(refusal(() => check({ cap_add: ['NET_RAW', 'CHOWN', 'NET_BIND_SERVICE'] }))).toBeUndefined();
    });

    it('refuses host devices and device cgroup rules, but not an empty list', () => {
      expect(refusal(() => check({ devices: ['/dev/sda:/dev/sda'] }))?.kind).toBe('policy_denied');
      expect(refusal(() => check({ device_cgroup_rules: ['b *:* rwm'] }))?.kind).toBe('policy_denied');
      expect(refusal(() => check({ devices: [] }))).toBeUndefined();
    });

    it.each([
      'seccomp=unconfined',
      'seccomp:unconfined',
      'apparmor=unconfined',
      'APPARMOR:UNCONFINED',
      'label=disable',
      'label:disable',
      'label=type:spc_t',
      'systempaths=unconfined',
      'no-new-privileges=false',
    ])('refuses security_opt %p', (opt) => {
      const e = refusal(() => check({ security_opt: ['no-new-privileges', opt] }));
      expect(e?.kind).toBe('policy_denied');
      expect(e?.message).toContain(opt);
    });

    it('allows confining security options', () => {
      const opts = [
        'no-new-privileges',
        'no-new-privileges=true',
        'apparmor=docker-default',
        'label=level:s0:c100',
      ];
      expect(refusal(() => check({ security_opt: opts }))).toBeUndefined();
    });

    it('finds the arguments wherever they appear, in any spelling', () => {
      expect(refusal(() => check({ host_config: { Privileged: true } }))?.kind).toBe('policy_denied');
      expect(refusal(() => check({ config: { HostConfig: { CapAdd: ['SYS_ADMIN'] } } }))?.kind).toBe(
        'policy_denied',
      );
      expect(refusal(() => check({ exec: [{ networkMode: 'host' }] }))?.kind).toBe('policy_denied');
    });

    it('ignores the same names inside labels and environment', () => {
      expect(
        refusal(() => check({ labels: { network_mode: 'host' }, environment: { privileged: true } })),
      ).toBeUndefined();
    });

    it('lifts privileged, host namespaces, capabilities, devices and security options when allowPrivileged is set', () => {
      const args = {
        privileged: true,
        network_mode: 'host',
        pid_mode: 'host',
        cap_add: ['ALL'],
        devices: ['/dev/fuse'],
        security_opt: ['seccomp=unconfined'],
      };
      expect(refusal(() => check(args, { allowPrivileged: true }))).toBeUndefined();
    });

    it('throws only ToolError for arguments of the wrong type', () => {
      const odd = [null, 42, 'x', ['x', 1, null], { a: { b: [null] } }];
      for (const v of odd)
        for (const name of [
          'privileged',
          'cap_add',
          'security_opt',
          'devices',
          'volumes',
          'mounts',
          'driver_opts',
        ])
          refusal(() => check({ [name]: v })); // rethrows anything that is not a ToolError
    });
  });

  describe('bind mounts', () => {
    it.each([
      ['/', '/'],
      ['//', '/'],
      ['/..', '/'],
      ['/var/run', '/var/run'],
      ['/run/docker.sock', '/run/docker.sock'],
      ['/var/run/docker.sock', '/var/run/docker.sock'],
      ['/proc', '/proc'],
      ['/sys/fs/cgroup', '/sys/fs/cgroup'],
      ['//etc', '/etc'],
      ['/etc/../etc', '/etc'],
      ['/etc/', '/etc'],
      ['/./etc', '/etc'],
      ['/../etc', '/etc'],
      ['/ETC', '/ETC'],
      ['/root/.bashrc', '/root/.bashrc'],
      ['/var/lib/docker', '/var/lib/docker'],
      ['/home/alice/.ssh', '/home/alice/.ssh'],
      ['/home/alice/.config/gcloud', '/home/alice/.config/gcloud'],
      ['/home/alice', '/home/alice'], // ancestor of ~/.ssh
      ['/home', '/home'],
      ['/var', '/var'], // ancestor of /var/run/docker.sock
      ['/tmp/engine-x/docker.sock', '/tmp/engine-x/docker.sock'], // the engine's own socket
      ['/tmp/engine-x', '/tmp/engine-x'],
      ['/run/user/1000/docker.sock', '/run/user/1000/docker.sock'], // rootless engine
    ])('refuses %p', (src, shown) => {
      const e = bind(src);
      expect(e?.kind).toBe('policy_denied');
      expect(e?.message).toContain(`bind mount of '${shown}'`);
      expect(e?.hint).toContain('SAFETY_VOLUME_MOUNT_ALLOWLIST');
    });

    it('names both the normalised and the given path', () => {
      expect(bind('/etc/../etc')?.message).toBe(
        "bind mount of '/etc' (from '/etc/../etc') is refused: it exposes a sensitive host path",
      );
    });

    it.each(['/tmp/project', '/home/alice/project', '/srv/data/x', 'data', 'my-vol', 'pg_data.1'])(
      'allows %p (a project directory or a named volume)',
      (src) => {
        expect(bind(src)).toBeUndefined();
      },
    );

    it('allows an anonymous volume given as a container path', () => {
      expect(refusal(() => check({ volumes: ['/etc/app'] }))).toBeUndefined();
    });

    it('checks docker-py style volume objects by their host side', () => {
      expect(refusal(() => check({ volumes: { '/etc': { bind: '/x', mode: 'ro' } } }))?.kind).toBe(
        'policy_denied',
      );
      expect(refusal(() => check({ volumes: { '/var/run/docker.sock': '/s' } }))?.kind).toBe('policy_denied');
      expect(
        refusal(() => check({ volumes: { '/tmp/project': { bind: '/app' }, cache: '/cache' } })),
      ).toBeUndefined();
    });

    it('checks bind entries of mounts and skips other types', () => {
      const mounts = (source: string, type = 'bind') =>
        refusal(() => check({ mounts: [{ type, source, target: '/x' }] }));
      expect(mounts('/proc')?.kind).toBe('policy_denied');
      expect(mounts('/tmp/project')).toBeUndefined();
      expect(mounts('/etc', 'tmpfs')).toBeUndefined();
      expect(mounts('my-vol', 'volume')).toBeUndefined();
    });

    it('refuses a named volume that the local driver binds to a sensitive path', () => {
      const e = refusal(() => check({ name: 'v', driver_opts: { type: 'none', o: 'bind', device: '/etc' } }));
      expect(e?.kind).toBe('policy_denied');
    });

    it('refuses a bind volume whose device is relative, which the engine resolves against its own directory', () => {
      for (const driver_opts of [
        { type: 'none', o: 'bind', device: 'etc' },
        { type: 'none', o: 'ro, rbind', device: 'var/run' },
        { type: 'bind', device: 'home' },
        { Type: 'none', O: 'BIND', Device: 'root' },
      ]) {
        const e = refusal(() => check({ name: 'v', driver_opts }));
        expect(e?.kind).toBe('invalid_argument');
        expect(e?.message).toContain('is not absolute');
        expect(e?.hint).toContain('absolute host path');
      }
    });

    it("refuses overlay directories in a volume's mount options that expose a sensitive path", () => {
      const overlay = (o: string) =>
        refusal(() => check({ driver_opts: { type: 'overlay', device: 'overlay', o } }));
      expect(overlay('lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w')?.kind).toBe('policy_denied');
      expect(overlay('lowerdir=/tmp/a:/root,upperdir=/tmp/u,workdir=/tmp/w')?.kind).toBe('policy_denied');
      expect(overlay('lowerdir=etc,upperdir=/tmp/u,workdir=/tmp/w')?.kind).toBe('invalid_argument');
      expect(overlay('lowerdir=/tmp/a:/tmp/b,upperdir=/tmp/u,workdir=/tmp/w')).toBeUndefined();
    });

    it('allows volume driver options that name no host path', () => {
      for (const driver_opts of [
        { type: 'tmpfs', device: 'tmpfs', o: 'size=100m,uid=1000' },
        { type: 'nfs', o: 'addr=10.0.0.1,rw', device: ':/export/data' },
        { type: 'none', o: 'bind', device: '/srv/data' },
      ])
        expect(refusal(() => check({ name: 'v', driver_opts }))).toBeUndefined();
    });

    it('refuses ~ and relative sources as invalid, asking for an absolute path', () => {
      for (const src of ['~/.ssh', '~', './data']) {
        const e = bind(src);
        expect(e?.kind).toBe('invalid_argument');
        expect(e?.hint).toContain('absolute');
      }
    });

    it('refuses Windows drive roots, the Windows directory and named pipes', () => {
      for (const src of ['C:\\', 'c:/', 'C:\\Windows\\System32', 'D:\\Users\\..\\Windows'])
        expect(refusal(() => check({ volumes: { [src]: '/x' } }))?.kind).toBe('policy_denied');
      expect(bind('C:\\Windows')?.kind).toBe('policy_denied');
      const pipe = '\\\\.\\pipe\\docker_engine';
      expect(refusal(() => check({ mounts: [{ type: 'npipe', source: pipe, target: pipe }] }))?.kind).toBe(
        'policy_denied',
      );
      expect(bind('C:\\Users\\alice\\project')).toBeUndefined();
    });

    it('keeps refusing sensitive mounts when allowPrivileged is set', () => {
      expect(bind('/var/run/docker.sock', { allowPrivileged: true })?.kind).toBe('policy_denied');
    });

    it('admits a sensitive path the allowlist names explicitly', () => {
      expect(bind('/var/run/docker.sock', { mountAllowlist: ['/var/run/docker.sock'] })).toBeUndefined();
    });

    it('refuses a path outside a non-empty allowlist and names the setting', () => {
      const e = bind('/srv/other', { mountAllowlist: ['/home/alice/projects'] });
      expect(e?.message).toContain('SAFETY_VOLUME_MOUNT_ALLOWLIST');
      expect(bind('/home/alice/projects/app', { mountAllowlist: ['/home/alice/projects/'] })).toBeUndefined();
      expect(bind('/home/alice/projects-evil', { mountAllowlist: ['/home/alice/projects'] })?.kind).toBe(
        'policy_denied',
      );
    });

    it('lets the configured blocklist win over the allowlist', () => {
      const settings = { mountAllowlist: ['/srv'], mountBlocklist: ['/srv/secrets'] };
      expect(bind('/srv/app', settings)).toBeUndefined();
      const e = bind('/SRV/secrets/db', settings);
      expect(e?.message).toContain('SAFETY_VOLUME_MOUNT_BLOCKLIST');
    });

    it('refuses a configured blocklist path that is otherwise harmless', () => {
      expect(bind('/srv/secrets', { mountBlocklist: ['/srv/secrets'] })?.kind).toBe('policy_denied');
    });

    it('checks where a symlink leads, through a fake resolver', () => {
      const fs: PathResolver = { realpath: (p) => (p === '/tmp/sneaky' ? '/etc' : undefined) };
      expect(bind('/tmp/sneaky', {}, fs)?.message).toContain('through a symlink');
      // A missing path under the link is resolved through its deepest existing ancestor.
      expect(bind('/tmp/sneaky/new-dir', {}, fs)?.kind).toBe('policy_denied');
      // Escaping the allowlist through a link is refused too.
      expect(bind('/tmp/sneaky', { mountAllowlist: ['/tmp'] }, fs)?.kind).toBe('policy_denied');
    });
  });

  describe('bind mounts through a real symlink', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'policy-'));
      symlinkSync('/etc', join(dir, 'link'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses a link in a temp dir that points at /etc', () => {
      const e = refusal(() => checkArgumentPolicy({ volumes: [`${dir}/link:/x`] }, defaults, host));
      expect(e?.kind).toBe('policy_denied');
    });

    it('allows the temp dir itself', () => {
      expect(refusal(() => checkArgumentPolicy({ volumes: [`${dir}:/x`] }, defaults, host))).toBeUndefined();
    });
  });

  describe('normaliseHostPath', () => {
    it.each([
      ['/', '/'],
      ['//', '/'],
      ['/.', '/'],
      ['/..', '/'],
      ['//etc', '/etc'],
      ['/etc/', '/etc'],
      ['/./etc', '/etc'],
      ['/../etc', '/etc'],
      ['/etc/../etc', '/etc'],
      ['/a/b/../../../c', '/c'],
      ['/a//b/./c/', '/a/b/c'],
      ['/a/.../b', '/a/.../b'],
    ])('normalises %p to %p', (input, expected) => {
      expect(normaliseHostPath(input)).toBe(expected);
    });
  });

  describe('host path arguments (build contexts, saved and loaded tars)', () => {
    const hostPath = (path: string, settings: Partial<PolicySettings> = {}, name = 'path') =>
      refusal(() => checkArgumentPolicy({ path }, { ...defaults, ...settings }, host, noFs, [name]));

    it.each([
      '/etc/cron.d/job',
      '/root/x.tar',
      '/home/alice',
      '/home/alice/.ssh/id_ed25519',
      '//etc/../etc/passwd',
    ])('refuses %s with a policy error that says host path, not bind mount', (path) => {
      const e = hostPath(path);
      expect(e?.kind).toBe('policy_denied');
      expect(e?.message).toStartWith('host path');
      expect(e?.hint).not.toContain('Mount');
    });

    it('allows an ordinary directory, and honours the allow and block lists', () => {
      expect(hostPath('/home/alice/project/ctx')).toBeUndefined();
      expect(hostPath('/tmp/images/app.tar')).toBeUndefined();
      expect(hostPath('/tmp/images/app.tar', { mountBlocklist: ['/tmp/images'] })?.message).toContain(
        'BLOCKLIST',
      );
      expect(hostPath('/srv/x.tar', { mountAllowlist: ['/data'] })?.message).toContain('ALLOWLIST');
    });

    it('checks only the arguments the tool names as host paths', () => {
      expect(hostPath('/etc/passwd', {}, 'other')).toBeUndefined();
    });
  });

  describe('sensitivePaths', () => {
    it('includes the engine socket, the rootless socket and credentials under home', () => {
      const paths = sensitivePaths(host, defaults);
      for (const p of [
        '/',
        '/etc',
        '/var/run/docker.sock',
        '/tmp/engine-x/docker.sock',
        '/run/user/1000/docker.sock',
      ])
        expect(paths).toContain(p);
      expect(paths).toContain('/home/alice/.ssh');
      expect(paths).toContain('/home/alice/.config/gcloud');
    });
  });
});
