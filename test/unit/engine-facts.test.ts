import { describe, expect, it } from 'bun:test';
import type { FileReader } from '../../src/docker/discovery.ts';
import { Engine } from '../../src/docker/engine.ts';
import {
  DEFAULT_CONTAINERD_SOCKET,
  DEFAULT_EXEC_ROOT,
  localDaemonPaths,
  localFilesystem,
  parseDaemonJson,
  parseDockerdArgs,
  podmanServiceHosts,
  servesSocket,
  sharesFilesystem,
} from '../../src/docker/facts.ts';

/** A file system holding exactly `files` (path → text); a value of '' is a socket or directory. */
const filesOf = (files: Record<string, string>): FileReader => ({
  readText: (p) => files[p],
  exists: (p) => p in files,
});
const processes = (...lines: string[][]) => ({
  processes: () => lines.map((argv, i) => ({ pid: String(100 + i), argv })),
  mountNamespace: () => undefined,
});

describe('parseDockerdArgs', () => {
  it('reads every spelling dockerd accepts for hosts, roots and the containerd socket', () => {
    expect(
      parseDockerdArgs([
        '--host',
        'unix:///srv/engine/docker.sock',
        '-H=tcp://127.0.0.1:2375',
        '-Hunix:///run/b.sock',
        '-H',
        'fd://',
        '--exec-root=/srv/engine/exec',
        '--data-root',
        '/srv/engine/root',
        '--containerd',
        '/run/c/containerd.sock',
        '--iptables=false',
        '--config-file',
        '/etc/x.json',
      ]),
    ).toEqual({
      hosts: ['unix:///srv/engine/docker.sock', 'tcp://127.0.0.1:2375', 'unix:///run/b.sock', 'fd://'],
      execRoot: '/srv/engine/exec',
      dataRoot: '/srv/engine/root',
      containerd: '/run/c/containerd.sock',
      configFile: '/etc/x.json',
    });
  });

  it('does not take a look-alike flag for one it knows', () => {
    expect(
      parseDockerdArgs(['--exec-root-x', '/a', '--containerd-namespace', 'mcpdev', '--hostname', 'h']),
    ).toEqual({ hosts: [] });
  });

  it('keeps the last of a repeated single-valued flag and ignores a flag with no value', () => {
    expect(parseDockerdArgs(['--exec-root', '/a', '--exec-root=/b', '--containerd'])).toEqual({
      hosts: [],
      execRoot: '/b',
    });
  });
});

describe('parseDaemonJson', () => {
  it('reads hosts, exec-root, containerd and data-root', () => {
    const text = JSON.stringify({
      hosts: ['unix:///srv/d.sock', 7],
      'exec-root': '/srv/exec',
      containerd: '/srv/containerd.sock',
      'data-root': '/srv/root',
      debug: true,
    });

    expect(parseDaemonJson(text)).toEqual({
      hosts: ['unix:///srv/d.sock'],
      execRoot: '/srv/exec',
      containerd: '/srv/containerd.sock',
      dataRoot: '/srv/root',
    });
  });

  it('gives nothing for text that is not a JSON object, and skips values that are not strings', () => {
    expect(parseDaemonJson('{ not json')).toBeUndefined();
    expect(parseDaemonJson('[1]')).toBeUndefined();
    expect(parseDaemonJson('{"exec-root": 3, "containerd": ""}')).toEqual({});
  });
});

describe('servesSocket', () => {
  it('matches unix:// hosts, /var/run as /run, and systemd socket activation for the system socket', () => {
    expect(servesSocket(['unix:///srv/engine/docker.sock'], '/srv/engine/docker.sock')).toBe(true);
    expect(servesSocket(['unix:///var/run/docker.sock'], '/run/docker.sock')).toBe(true);
    expect(servesSocket(['fd://'], '/var/run/docker.sock')).toBe(true);
    expect(servesSocket(['fd://'], '/srv/engine/docker.sock')).toBe(false);
    expect(servesSocket(['tcp://127.0.0.1:2375'], '/var/run/docker.sock')).toBe(false);
    expect(servesSocket(['unix:///srv/engine/docker.sock'], '/srv/engine/docker.sock2')).toBe(false);
  });
});

describe('sharesFilesystem', () => {
  it('is true for a local socket or pipe only', () => {
    expect(sharesFilesystem('unix:///var/run/docker.sock')).toBe(true);
    expect(sharesFilesystem('npipe:////./pipe/docker_engine')).toBe(true);
    expect(sharesFilesystem('tcp://10.0.0.1:2376')).toBe(false);
    expect(sharesFilesystem('ssh://me@box')).toBe(false);
  });
});

describe('localFilesystem (does a local engine see the files this server sees?)', () => {
  /** Processes `pid → argv`, and the mount namespace of each pid ('self' included) in `ns`. */
  const seen = (procs: Record<string, string[]>, ns: Record<string, string> = {}) => ({
    processes: () => Object.entries(procs).map(([pid, argv]) => ({ pid, argv })),
    mountNamespace: (pid: string) => ns[pid],
  });
  const dockerd = ['/usr/bin/dockerd', '--host', 'unix:///srv/d.sock'];

  it('says yes on a host: no container marker', () => {
    expect(localFilesystem('/srv/d.sock', filesOf({}), seen({}))).toEqual({
      shares: true,
      why: 'a local engine, and this server does not run in a container',
    });
  });

  it("says no in a container whose daemon it cannot see (the host's socket mounted in), naming the marker", () => {
    for (const marker of ['/.dockerenv', '/run/.containerenv', '/var/run/secrets/kubernetes.io']) {
      const verdict = localFilesystem('/var/run/docker.sock', filesOf({ [marker]: '' }), seen({}));
      expect(verdict.shares).toBe(false);
      expect(verdict.why).toContain(`this server runs in a container (${marker})`);
      expect(verdict.why).toContain("host paths are resolved on the engine's host");
    }
  });

  it('says yes in a container whose own dockerd or Podman service serves the socket, in its mount namespace', () => {
    const fs = filesOf({ '/.dockerenv': '' });
    const same = { self: 'mnt:[1]', '7': 'mnt:[1]' };
    const verdict = localFilesystem('/srv/d.sock', fs, seen({ '1': ['sh'], '7': dockerd }, same));
    expect(verdict).toEqual({
      shares: true,
      why: 'this server runs in a container (/.dockerenv), and the daemon serving /srv/d.sock (pid 7) runs in its mount namespace',
    });
    const podman = ['podman', '--root', '/x', 'system', 'service', '--time=0', 'unix:///srv/p.sock'];
    expect(localFilesystem('/srv/p.sock', fs, seen({ '7': podman }, same)).shares).toBe(true);
    // A dockerd without -H listens where its daemon.json says.
    const json = filesOf({
      '/.dockerenv': '',
      '/etc/docker/daemon.json': '{"hosts": ["unix:///srv/j.sock"]}',
    });
    expect(localFilesystem('/srv/j.sock', json, seen({ '7': ['dockerd'] }, same)).shares).toBe(true);
  });

  it('says no when the visible daemon is in another mount namespace, or its namespace cannot be read (--pid=host)', () => {
    const fs = filesOf({ '/.dockerenv': '' });
    expect(
      localFilesystem('/srv/d.sock', fs, seen({ '7': dockerd }, { self: 'mnt:[1]', '7': 'mnt:[2]' })).shares,
    ).toBe(false);
    expect(localFilesystem('/srv/d.sock', fs, seen({ '7': dockerd }, { self: 'mnt:[1]' })).shares).toBe(
      false,
    );
    // A daemon in this namespace serving another socket says nothing about this one.
    expect(
      localFilesystem('/other.sock', fs, seen({ '7': dockerd }, { self: 'mnt:[1]', '7': 'mnt:[1]' })).shares,
    ).toBe(false);
  });
});

describe('podmanServiceHosts', () => {
  it("reads the URIs after 'system service', else Podman's default socket; undefined for other programs", () => {
    expect(podmanServiceHosts(['/usr/bin/podman', 'system', 'service', '-t', '0', 'unix:///a.sock'])).toEqual(
      ['unix:///a.sock'],
    );
    expect(podmanServiceHosts(['podman', 'system', 'service'])).toEqual(['unix:///run/podman/podman.sock']);
    expect(podmanServiceHosts(['podman', 'ps'])).toBeUndefined();
    expect(podmanServiceHosts(['dockerd', 'system', 'service'])).toBeUndefined();
  });
});

describe('localDaemonPaths', () => {
  const dev = [
    '/usr/sbin/dockerd',
    '--host',
    'unix:///srv/engine/docker.sock',
    '--exec-root',
    '/srv/engine/exec',
  ];
  const system = ['dockerd', '-H', 'fd://', '--containerd=/run/containerd/containerd.sock'];

  it('takes the exec root from the dockerd serving the socket, and its own containerd under it', () => {
    const fs = filesOf({ '/srv/engine/exec/containerd/containerd.sock': '' });

    expect(localDaemonPaths('/srv/engine/docker.sock', fs, processes(system, ['bash'], dev))).toEqual({
      execRoot: '/srv/engine/exec',
      containerdSocket: '/srv/engine/exec/containerd/containerd.sock',
    });
  });

  it('takes the system containerd when the daemon names it, and the default exec root when it names none', () => {
    const fs = filesOf({ '/var/run/docker/containerd/containerd.sock': '' });

    expect(localDaemonPaths('/var/run/docker.sock', fs, processes(dev, system))).toEqual({
      execRoot: DEFAULT_EXEC_ROOT,
      containerdSocket: '/run/containerd/containerd.sock',
    });
  });

  it("falls back to the daemon's daemon.json (its --config-file) for what its command line leaves out", () => {
    const fs = filesOf({
      '/etc/mcpt/daemon.json': JSON.stringify({
        'exec-root': '/srv/exec',
        containerd: 'unix:///srv/ctr.sock',
      }),
    });
    const daemon = ['dockerd', '-H', 'unix:///srv/d.sock', '--config-file', '/etc/mcpt/daemon.json'];

    expect(localDaemonPaths('/srv/d.sock', fs, processes(daemon))).toEqual({
      execRoot: '/srv/exec',
      containerdSocket: '/srv/ctr.sock',
    });
  });

  it('finds a daemon listening where its daemon.json hosts say', () => {
    const fs = filesOf({
      '/etc/docker/daemon.json': JSON.stringify({ hosts: ['unix:///srv/d.sock'], 'exec-root': '/srv/exec' }),
    });

    expect(localDaemonPaths('/srv/d.sock', fs, processes(['dockerd'])).execRoot).toBe('/srv/exec');
    expect(localDaemonPaths('/var/run/docker.sock', fs, processes(['dockerd'])).execRoot).toBe(
      DEFAULT_EXEC_ROOT,
    );
  });

  it('with no visible daemon, reads /etc/docker/daemon.json only when it is for that socket', () => {
    const fs = filesOf({ '/etc/docker/daemon.json': JSON.stringify({ 'exec-root': '/srv/exec' }) });

    expect(localDaemonPaths('/var/run/docker.sock', fs, processes()).execRoot).toBe('/srv/exec');
    expect(localDaemonPaths('/elsewhere/docker.sock', fs, processes()).execRoot).toBe(DEFAULT_EXEC_ROOT);
  });

  it('gives the defaults when nothing says otherwise, and to an engine without a local socket', () => {
    const defaults = { execRoot: DEFAULT_EXEC_ROOT, containerdSocket: DEFAULT_CONTAINERD_SOCKET };
    const fs = filesOf({ '/srv/engine/exec/containerd/containerd.sock': '' });

    expect(localDaemonPaths('/var/run/docker.sock', filesOf({}), processes())).toEqual(defaults);
    expect(localDaemonPaths(undefined, fs, processes(dev))).toEqual(defaults);
  });
});

describe('Engine facts before it connects', () => {
  const at = (dockerHost: string, overrides = {}, fs = filesOf({}), procs = processes()) =>
    new Engine(
      {
        dockerHost,
        dockerConfigDir: '/nonexistent',
        tlsVerify: false,
        home: '/nonexistent',
        platform: 'linux',
      },
      { overrides, fs, processes: procs },
    );

  it('say a local engine does not share our filesystem when the server runs in a container, finding that once', () => {
    let looked = 0;
    const procs = {
      processes: () => {
        looked++;
        return [];
      },
      mountNamespace: () => undefined,
    };
    const engine = at('unix:///var/run/docker.sock', {}, filesOf({ '/.dockerenv': '' }), procs);
    expect(engine.facts.sharesFilesystem).toBe(false);
    expect(engine.facts.sharesFilesystem).toBe(false);
    expect(engine.filesystem().why).toContain('this server runs in a container (/.dockerenv)');
    expect(looked).toBe(1);
  });

  it("take the engine's own setting over the server-wide one, and the server-wide one for local engines only", () => {
    const inContainer = filesOf({ '/.dockerenv': '' });
    expect(at('unix:///d.sock', { localSharesFilesystem: true }, inContainer).filesystem()).toEqual({
      shares: true,
      why: 'set by the server-wide sharesFilesystem (--shares-filesystem)',
    });
    expect(at('unix:///d.sock', { localSharesFilesystem: false }).facts.sharesFilesystem).toBe(false);
    expect(at('tcp://127.0.0.1:2375', { localSharesFilesystem: true }).filesystem()).toEqual({
      shares: false,
      why: 'a remote engine: host paths are on its host',
    });
    expect(
      at('unix:///d.sock', { sharesFilesystem: false, localSharesFilesystem: true }).filesystem(),
    ).toEqual({ shares: false, why: "set by this engine's sharesFilesystem" });
  });

  it('say whether the engine shares our filesystem from where discovery would look', () => {
    expect(at('unix:///srv/d.sock').facts).toMatchObject({
      sharesFilesystem: true,
      socketPaths: ['/srv/d.sock'],
    });
    expect(at('tcp://127.0.0.1:2375').facts).toMatchObject({ sharesFilesystem: false, socketPaths: [] });
  });

  it('take every overridden fact as given', () => {
    const facts = at('tcp://127.0.0.1:2375', {
      sharesFilesystem: true,
      dataRoot: '/d',
      execRoot: '/e',
      containerdSocket: '/c.sock',
    }).facts;

    const { otherEngines, ...own } = facts;
    expect(own).toEqual({
      sharesFilesystem: true,
      socketPaths: [],
      dataRoot: '/d',
      execRoot: '/e',
      containerdSocket: '/c.sock',
    });
    // An engine alone has no neighbours whose paths it must guard.
    expect(otherEngines?.()).toEqual([]);
  });
});
