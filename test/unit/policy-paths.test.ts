import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import {
  checkHostPath,
  normaliseHostPath,
  type PathPolicy,
  type PathResolver,
  SYSTEM_PATHS,
  sensitivePaths,
} from '../../src/docker/policy/paths.ts';

// A fake filesystem: the paths that exist and where the symlinks among them lead.
function fakeFs(links: Record<string, string> = {}, exists: string[] = []): PathResolver {
  return {
    realpath(p) {
      for (const [from, to] of Object.entries(links))
        if (p === from || p.startsWith(`${from}/`)) return `${to}${p.slice(from.length)}`;
      return exists.includes(p) || p === '/' ? p : undefined;
    },
  };
}

const base: PathPolicy = {
  allowlist: [],
  blocklist: [],
  home: '/root',
  tmpDir: '/tmp',
  sensitive: sensitivePaths({
    socketPaths: ['/work/dev/docker.sock'],
    dataRoot: '/srv/docker-data',
    execRoot: '/var/run/docker',
    containerdSocket: '/run/containerd/containerd.sock',
  }),
  shares: true,
  fs: fakeFs(),
};

function verdict(path: string, o: Partial<PathPolicy> = {}): ToolError | string {
  try {
    return checkHostPath(path, 'binds[0]', { ...base, ...o });
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
}
const kind = (path: string, o: Partial<PathPolicy> = {}) => {
  const v = verdict(path, o);
  return typeof v === 'string' ? 'ok' : v.kind;
};

describe('the host-path rule', () => {
  it('allows a project directory under home (even /root) and under the temp dir', () => {
    for (const p of ['/root/project', '/root/project/src', '/tmp', '/tmp/build', '/root/a.tar'])
      expect([p, kind(p)]).toEqual([p, 'ok']);
  });

  it("refuses the home's dot-directories, any of them, and the home itself", () => {
    for (const p of [
      '/root/.ssh',
      '/root/.docker/config.json',
      '/root/.aws',
      '/root/.kube',
      '/root/.x',
      '/root',
      '/root/',
    ])
      expect([p, kind(p)]).toEqual([p, 'policy_denied']);
  });

  it('refuses paths outside the roots and names the argument and the setting', () => {
    const e = verdict('/srv/data') as ToolError;
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain('binds[0]');
    expect(e.message).toContain('/srv/data');
    expect(e.hint).toContain('SAFETY_VOLUME_MOUNT_ALLOWLIST');
    expect(e.hint).toContain('--mount-allowlist');
    for (const p of ['/', '/etc', '/usr/bin', '/lib', '/var/lib/docker', '/home'])
      expect([p, kind(p)]).toEqual([p, 'policy_denied']);
  });

  it('refuses the engine directories and sockets even under an allowed root', () => {
    const o = { sensitive: sensitivePaths({ socketPaths: ['/tmp/e/docker.sock'], dataRoot: '/tmp/data' }) };
    for (const p of ['/tmp/e/docker.sock', '/tmp/data', '/tmp/data/volumes', '/tmp/e', '/tmp'])
      expect([p, kind(p, o)]).toEqual([p, 'policy_denied']);
    expect(kind('/tmp/other', o)).toBe('ok');
  });

  it('follows symlinks: a link under /tmp that leads to /etc is refused, naming where it leads', () => {
    const fs = fakeFs({ '/tmp/link': '/etc' }, ['/tmp']);
    const e = verdict('/tmp/link/shadow', { fs }) as ToolError;
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain('/etc/shadow');
    // A link into the home's dot-directories too.
    expect(kind('/tmp/k', { fs: fakeFs({ '/tmp/k': '/root/.ssh' }) })).toBe('policy_denied');
  });

  it("words each refusal for a remote caller with the caller's path, not the server's places", () => {
    const fs = fakeFs({ '/tmp/link': '/srv/private' }, ['/tmp']);
    const cases: [string, Partial<PathPolicy>, string][] = [
      [
        '/tmp/link/app',
        { fs },
        "binds[0]: host path '/tmp/link/app' is refused: it is not under an allowed root",
      ],
      [
        '/tmp//x/../y',
        { blocklist: ['/tmp/y'] },
        "binds[0]: host path '/tmp/y' (from '/tmp//x/../y') is refused",
      ],
      [
        '/root/.ssh',
        {},
        "binds[0]: host path '/root/.ssh' is refused: it is in a dot-directory of the server's home",
      ],
      [
        '/root',
        {},
        "binds[0]: host path '/root' is refused: it contains the dot-directories of the server's home",
      ],
      ['/srv/docker-data/x', { allowlist: ['/srv'] }, 'is refused: it exposes a sensitive path of the host'],
      ['/srv', { allowlist: ['/'] }, 'is refused: it contains a sensitive path of the host'],
      ['/tmp/k', { fs: fakeFs({ '/tmp/k': '/' }) }, 'is refused: it is not under an allowed root'],
    ];
    for (const [path, o, told] of cases) {
      const e = verdict(path, o) as ToolError;
      expect([path, e.remote?.message]).toEqual([path, expect.stringContaining(told)]);
      expect(e.remote?.hint).toContain('SAFETY_VOLUME_MOUNT_ALLOWLIST (--mount-allowlist)');
      // Past the caller's own quoted path, no path of the server's.
      const rest = `${e.remote?.message} ${e.remote?.hint}`.replace(/'[^']*'/g, '');
      expect([path, rest]).toEqual([path, expect.not.stringMatching(/\/srv|\/root|\/tmp|resolving/)]);
    }
    expect((verdict('/tmp/y', { blocklist: ['/tmp/y'] }) as ToolError).remote?.hint).toContain(
      'SAFETY_VOLUME_MOUNT_BLOCKLIST (--mount-blocklist)',
    );
  });

  it('resolves the deepest existing ancestor for a source that does not exist yet', () => {
    const fs = fakeFs({ '/tmp/link': '/usr' }, ['/tmp']);
    expect(kind('/tmp/link/new/dir', { fs })).toBe('policy_denied');
    expect(kind('/tmp/new/dir', { fs })).toBe('ok');
  });

  it('normalises dots and slashes before deciding', () => {
    expect(kind('/tmp/../etc')).toBe('policy_denied');
    expect(kind('//root//./project/../.ssh')).toBe('policy_denied');
    expect(kind('/root/project/./x/..')).toBe('ok');
  });

  it('refuses relative and ~ paths as not absolute', () => {
    for (const p of ['~', '~/.ssh', './etc', 'etc/x', '..'])
      expect([p, kind(p)]).toEqual([p, 'invalid_argument']);
  });

  it('with an allowlist: replaces the default roots; ~ in it keeps the home with its protections', () => {
    expect(kind('/root/project', { allowlist: ['/srv'] })).toBe('policy_denied');
    expect(kind('/srv/data', { allowlist: ['/srv'] })).toBe('ok');
    expect(kind('/root/project', { allowlist: ['~', '/tmp'] })).toBe('ok');
    expect(kind('/root/.ssh', { allowlist: ['~', '/tmp'] })).toBe('policy_denied');
    expect(kind('/root', { allowlist: ['~'] })).toBe('policy_denied');
  });

  it('an explicit allowlist entry may admit a sensitive path, and says so', () => {
    const told: string[] = [];
    expect(kind('/etc/myapp', { allowlist: ['/etc/myapp'], onAdmit: (m) => told.push(m) })).toBe('ok');
    expect(told[0]).toContain('/etc/myapp');
    expect(kind('/root/.ssh/known', { allowlist: ['/root/.ssh'] })).toBe('ok');
    // An ancestor entry is not a naming of the sensitive path.
    expect(kind('/etc', { allowlist: ['/'] })).toBe('policy_denied');
    expect(kind('/root/.ssh', { allowlist: ['/root'] })).toBe('policy_denied');
  });

  it('the blocklist refuses on top of everything, in any case', () => {
    const e = verdict('/root/project/secret', { blocklist: ['/root/PROJECT/secret'] }) as ToolError;
    expect(e.kind).toBe('policy_denied');
    expect(e.hint).toContain('blocklist');
    expect(kind('/root/project', { blocklist: ['~/project'] })).toBe('policy_denied');
    expect(kind('/srv/x', { allowlist: ['/srv'], blocklist: ['/srv/x'] })).toBe('policy_denied');
  });

  it('for an engine that does not share this filesystem: lexical, allowlist only', () => {
    const fs = fakeFs({ '/srv/data': '/etc' });
    expect(kind('/root/project', { shares: false, fs })).toBe('policy_denied');
    expect(kind('/tmp/x', { shares: false, fs })).toBe('policy_denied');
    // The symlink is on our host, not the engine's: not followed.
    expect(kind('/srv/data', { shares: false, allowlist: ['/srv'], fs })).toBe('ok');
    expect(kind('/srv/../etc', { shares: false, allowlist: ['/srv'] })).toBe('policy_denied');
    expect(kind('/var/lib/docker', { shares: false, allowlist: ['/var'] })).toBe('policy_denied');
  });

  it('lists the system directories whose write access is root on the host', () => {
    for (const p of [
      '/etc',
      '/usr',
      '/lib',
      '/bin',
      '/sbin',
      '/boot',
      '/proc',
      '/sys',
      '/dev',
      '/var/run',
      '/run',
    ])
      expect(SYSTEM_PATHS).toContain(p);
    expect(sensitivePaths({ xdgRuntimeDir: '/run/user/1000' })).toContain('/run/user/1000/docker.sock');
  });

  it('on a case-insensitive filesystem the dot-directories are refused in any case', () => {
    const mac = { home: '/Users/me', foldCase: true };
    expect(kind('/users/me/.SSH/id', mac)).toBe('policy_denied');
    expect(kind('/USERS/ME', mac)).toBe('policy_denied');
    expect(kind('/users/me/project', mac)).toBe('ok');
  });

  it('a home of / is no root: only the temp dir remains', () => {
    expect(kind('/srv/data', { home: '/' })).toBe('policy_denied');
    expect(kind('/tmp/x', { home: '/' })).toBe('ok');
  });

  it('judges a path as the engine keeps it: whitespace at an end, or around a dot component, is refused by name', () => {
    // /A/t/.. with a trailing space is not /A: the engine follows the link t and makes `<target>/.. `.
    const linked = { allowlist: ['/A'], fs: fakeFs({ '/A/t': '/T' }, ['/A']) };
    for (const shares of [true, false])
      for (const p of [
        '/A/t/.. ',
        '/A/t/..\u00a0',
        '/A/t/..\t',
        '/A/t/..\n',
        '/A/t/..\u2028',
        '/A/t/..\ufeff',
        ' /A',
        '/A/t/.. /x',
        '/A/t/ ../x',
        '/A/t/.\u200b/x',
        '/A ',
      ]) {
        const e = verdict(p, { ...linked, shares }) as ToolError;
        expect([p, shares, e.kind]).toEqual([p, shares, 'invalid_argument']);
        expect(e.message).toContain("invalid argument 'binds[0]': host path '");
        expect(e.message).toContain('which the engine keeps as part of the name');
      }
    const e = verdict('/A/t/..\u00a0', linked) as ToolError;
    expect(e.message).toBe(
      "invalid argument 'binds[0]': host path '/A/t/..\\u00a0' ends with whitespace, which the engine keeps as part of the name",
    );
    expect((verdict('/A/t/.. /x', linked) as ToolError).message).toContain(
      "has a component '.. ', which is not '.' or '..'",
    );
    expect((verdict('/A/x\u{e0001}', linked) as ToolError).message).toContain(
      "host path '/A/x\\u{e0001}' ends with",
    );
    // Names that only hold a space or dots elsewhere are plain names, judged as such.
    expect(verdict('/A/my project/x', linked)).toBe('/A/my project/x');
    expect(verdict('/A/.../x', linked)).toBe('/A/.../x');
    expect(verdict('/A/t/..', linked)).toBe('/A');
    expect(kind('/A/t/x', linked)).toBe('policy_denied');
  });

  it('trusts a path only up to the outermost entry: an inner entry made a link through its parent admits nothing outside', () => {
    // /A/t was planted as a link to /etc (or elsewhere) by a container that could write /A.
    for (const to of ['/etc', '/srv/other'])
      for (const allowlist of [
        ['/A', '/A/t'],
        ['/A/t', '/A'],
      ]) {
        const planted = { allowlist, fs: fakeFs({ '/A/t': to }, ['/A']) };
        for (const p of ['/A/t', '/A/t/x']) {
          const e = verdict(p, planted) as ToolError;
          expect([p, to, e.kind]).toEqual([p, to, 'policy_denied']);
          expect(e.message).toContain(
            'it is not under any allowlist entry as it resolves: a link below an entry leads out of it',
          );
        }
      }
    // A real directory, or a link that stays inside the outer entry, is fine.
    expect(verdict('/A/t/x', { allowlist: ['/A', '/A/t'], fs: fakeFs({}, ['/A', '/A/t']) })).toBe('/A/t/x');
    expect(verdict('/A/t/x', { allowlist: ['/A', '/A/t'], fs: fakeFs({ '/A/t': '/A/u' }, ['/A']) })).toBe(
      '/A/u/x',
    );
    // An inner entry still admits the sensitive path it names, as it is.
    const dots = { allowlist: ['/root', '/root/.config'], fs: fakeFs({}, ['/root', '/root/.config']) };
    expect(kind('/root/.config/app', dots)).toBe('ok');
    expect(kind('/root/.ssh', dots)).toBe('policy_denied');
    // An entry alone may itself be a link the operator made.
    expect(verdict('/data/x', { allowlist: ['/data'], fs: fakeFs({ '/data': '/mnt/disk' }) })).toBe(
      '/mnt/disk/x',
    );
  });

  it('normaliseHostPath never climbs above /', () => {
    expect(normaliseHostPath('/../../etc/./x//')).toBe('/etc/x');
    expect(normaliseHostPath('/')).toBe('/');
  });
});
