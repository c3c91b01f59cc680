/** What inspect and the lifecycle tools show of a container (src/docker/containers.ts), from its document. */
import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import { commandLine, configuredPorts, inspectSummary } from '../../src/docker/containers.ts';

describe('commandLine', () => {
  it('quotes an argument a shell would split, as docker ps does', () => {
    expect(commandLine(['sh', '-c', 'echo starting; echo boom >&2; exit 3'])).toBe(
      "sh -c 'echo starting; echo boom >&2; exit 3'",
    );
  });

  it('leaves plain words, paths, options and assignments bare', () => {
    expect(commandLine(['/usr/bin/env', 'A=1', '--port=8080', 'user@host:/srv/a,b', '50%', '-x+y'])).toBe(
      '/usr/bin/env A=1 --port=8080 user@host:/srv/a,b 50% -x+y',
    );
  });

  it('quotes an empty argument, globs, variables and newlines', () => {
    expect(commandLine(['printf', '', '*', '$HOME', 'a\nb'])).toBe(`printf '' '*' '$HOME' 'a\nb'`);
  });

  it('double-quotes an argument holding a single quote, unless the shell would expand it then', () => {
    expect(commandLine(['sh', '-c', "echo 'hi'; exit 3"])).toBe(`sh -c "echo 'hi'; exit 3"`);
    expect(commandLine(['sh', '-c', "echo 'hi' $HOME"])).toBe(`sh -c 'echo '"'"'hi'"'"' $HOME'`);
  });

  it('is empty for no argv', () => {
    expect(commandLine([])).toBe('');
  });
});

const ZERO = '0001-01-01T00:00:00Z';

/** An inspect document with the fields the summary reads. */
const doc = (state: Partial<Dockerode.ContainerInspectInfo['State']>, more: Record<string, unknown> = {}) =>
  ({
    Id: 'c'.repeat(64),
    Name: '/web',
    Created: '2026-01-01T00:00:00Z',
    RestartCount: 0,
    Config: { Image: 'busybox', Cmd: ['sleep', '1'], Env: [] },
    HostConfig: { RestartPolicy: { Name: 'no' }, ...(more.HostConfig as object) },
    NetworkSettings: { Ports: {}, Networks: {}, ...(more.NetworkSettings as object) },
    Mounts: [],
    State: { Status: 'running', Running: true, ExitCode: 0, StartedAt: ZERO, FinishedAt: ZERO, ...state },
  }) as unknown as Dockerode.ContainerInspectInfo;

describe('inspectSummary', () => {
  it('gives the last exit code of a restarting container, as of an exited or dead one', () => {
    for (const Status of ['restarting', 'exited', 'dead'])
      expect(inspectSummary(doc({ Status, Running: Status === 'restarting', ExitCode: 3 })).exit_code).toBe(
        3,
      );
    for (const Status of ['running', 'created', 'paused'])
      expect(inspectSummary(doc({ Status, ExitCode: 0 }))).not.toHaveProperty('exit_code');
  });

  it('leaves out the engine zero time of a container never started or never stopped', () => {
    const created = inspectSummary(doc({ Status: 'created', Running: false }));
    expect(created).not.toHaveProperty('started_at');
    expect(created).not.toHaveProperty('finished_at');
    const running = inspectSummary(doc({ StartedAt: '2026-01-02T00:00:00Z' }));
    expect(running.started_at).toBe('2026-01-02T00:00:00Z');
    expect(running).not.toHaveProperty('finished_at');
  });

  it('shows health only while running: a stopped container keeps a stale "unhealthy"', () => {
    const Health = { Status: 'unhealthy', FailingStreak: 0, Log: [] };
    expect(inspectSummary(doc({ Health })).health).toBe('unhealthy');
    expect(
      inspectSummary(doc({ Status: 'exited', Running: false, ExitCode: 137, Health })),
    ).not.toHaveProperty('health');
  });

  it('shows a stopped container its configured ports in the ports argument shape, and no live ones', () => {
    const PortBindings = {
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18484' }],
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      '53/udp': [{ HostIp: '', HostPort: '' }],
      '443/tcp': [{ HostIp: '::1', HostPort: '8443' }],
    };
    // Podman keeps the last live ports of a stopped container.
    const stale = { Ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18484' }] } };
    const s = inspectSummary(
      doc({ Status: 'exited', Running: false }, { HostConfig: { PortBindings }, NetworkSettings: stale }),
    );
    expect(s).not.toHaveProperty('ports');
    expect(s.configured_ports).toEqual({
      '8080/tcp': '127.0.0.1:18484',
      '80/tcp': '127.0.0.1:',
      '53/udp': null,
      '443/tcp': '[::1]:8443',
    });
  });

  it('shows a running container its live ports, the engine-assigned host port included, and no configured ones', () => {
    const s = inspectSummary(
      doc(
        {},
        {
          HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
          NetworkSettings: {
            Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '32768' }], '443/tcp': null },
          },
        },
      ),
    );
    expect(s.ports).toEqual(['127.0.0.1:32768->80/tcp', '443/tcp']);
    expect(s).not.toHaveProperty('configured_ports');
  });

  it('has no configured ports for a container that publishes none', () => {
    expect(configuredPorts(doc({ Status: 'exited', Running: false }))).toBeUndefined();
  });
});
