import { describe, expect, it } from 'bun:test';
import type { FileReader } from '../../src/docker/discovery.ts';
import { Engine } from '../../src/docker/engine.ts';
import {
  DEFAULT_CONTAINERD_SOCKET,
  DEFAULT_EXEC_ROOT,
  localDaemonPaths,
  parseDaemonJson,
  parseDockerdArgs,
  servesSocket,
  sharesFilesystem,
} from '../../src/docker/facts.ts';

/** A file system holding exactly `files` (path → text); a value of '' is a socket or directory. */
const filesOf = (files: Record<string, string>): FileReader => ({
  readText: (p) => files[p],
  exists: (p) => p in files,
});
const processes = (...lines: string[][]) => ({ commandLines: () => lines });

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
  const at = (dockerHost: string, overrides = {}) =>
    new Engine(
      {
        dockerHost,
        dockerConfigDir: '/nonexistent',
        tlsVerify: false,
        home: '/nonexistent',
        platform: 'linux',
      },
      { overrides, fs: filesOf({}), processes: processes() },
    );

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
