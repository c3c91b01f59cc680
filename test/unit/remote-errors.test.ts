import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import type { EngineAccess } from '../../src/core/engine.ts';
import { reword, ToolError } from '../../src/core/errors.ts';
import { engineError } from '../../src/docker/errors.ts';
import {
  ENGINE_UNREACHABLE_REMOTE,
  forRemote,
  HIDDEN,
  hideHostDetails,
  remoteEngineView,
  scrubPaths,
} from '../../src/pipeline/remote-errors.ts';

const logged = () => {
  const lines: string[] = [];
  return { lines, remote: { log: (m: string) => void lines.push(m) } };
};

describe('scrubPaths', () => {
  it.each([
    ['open /var/lib/docker/volumes/x/_data: permission denied', `open ${HIDDEN}: permission denied`],
    ["stat '/home/ops/.docker/config.json'", `stat '${HIDDEN}'`],
    ['Tried: unix:///run/user/1000/docker.sock (DOCKER_HOST)', `Tried: ${HIDDEN} (DOCKER_HOST)`],
    ['connect ECONNREFUSED 10.0.3.4:2376', `connect ECONNREFUSED ${HIDDEN}`],
    ['dial tcp://docker.internal:2375: refused', `dial ${HIDDEN}: refused`],
    ['open C:\\ProgramData\\docker\\config.json', `open ${HIDDEN}`],
    ['pipe \\\\.\\pipe\\docker_engine busy', `pipe ${HIDDEN} busy`],
  ])('%s', (text, expected) => {
    expect(scrubPaths(text)).toBe(expected);
  });

  it('leaves words, ratios and relative names alone', () => {
    for (const text of ['and/or', 'HTTP 404/500', 'step 1/3', 'no such container: web', 'sha256:abc'])
      expect(scrubPaths(text)).toBe(text);
  });
});

describe('forRemote', () => {
  it('turns engine_unreachable into the generic message, keeps it retryable, logs the original', () => {
    const { lines, remote } = logged();
    const original = new ToolError(
      'engine_unreachable',
      'no Docker engine answered. Tried: unix:///srv/dockerd/docker.sock (DOCKER_HOST): no socket there',
      { hint: 'point DOCKER_HOST at your engine, e.g. DOCKER_HOST=unix:///path/to/docker.sock' },
    );
    const shown = forRemote(original, 'docker_list_containers', remote);
    expect(shown).toMatchObject({ kind: 'engine_unreachable', retryable: true });
    expect(shown.message).toBe(ENGINE_UNREACHABLE_REMOTE);
    expect(`${shown.message} ${shown.hint}`).not.toContain('/');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('docker_list_containers: engine_unreachable:');
    expect(lines[0]).toContain('unix:///srv/dockerd/docker.sock');
  });

  it('hides paths and addresses in internal errors, keeping the rest of the wording', () => {
    const { lines, remote } = logged();
    const shown = forRemote(
      new ToolError('internal', 'unexpected error: EISDIR: illegal operation on /etc/mcp-docker/x.json'),
      'docker_x',
      remote,
    );
    expect(shown.kind).toBe('internal');
    expect(shown.message).toBe(`unexpected error: EISDIR: illegal operation on ${HIDDEN}`);
    expect(lines[0]).toContain('/etc/mcp-docker/x.json');
  });

  it('shows an error in the words its maker gave remote callers, and logs the whole one', () => {
    const { lines, remote } = logged();
    const original = new ToolError(
      'policy_denied',
      "project_dir: host path '/tmp/link' (resolving to '/srv/private/app') is refused: it is not under an allowed root (/home/op, /tmp)",
      {
        hint: 'Use a directory under an allowed root (/home/op, /tmp).',
        remote: {
          message: "project_dir: host path '/tmp/link' is refused: it is not under an allowed root",
          hint: 'Ask the operator.',
        },
      },
    );
    const shown = forRemote(original, 'docker_compose_config', remote);
    expect([shown.kind, shown.message, shown.hint]).toEqual([
      'policy_denied',
      "project_dir: host path '/tmp/link' is refused: it is not under an allowed root",
      'Ask the operator.',
    ]);
    expect(lines[0]).toContain('/srv/private/app');
  });

  it('keeps a remote wording through every rewording on the way out', () => {
    const { remote } = logged();
    const refused = new ToolError(
      'policy_denied',
      "mounts[0]: host path '/x' (resolving to '/srv') is refused",
      {
        remote: { message: "mounts[0]: host path '/x' is refused" },
      },
    );
    const stacked = reword(
      reword(refused, (m) => `service "web" (key volumes): ${m}`),
      (m) => `${m} (nothing was deployed)`,
    );
    expect(forRemote(stacked, 'docker_stack_deploy', remote).message).toBe(
      `service "web" (key volumes): mounts[0]: host path '/x' is refused (nothing was deployed)`,
    );
  });

  it('passes other kinds through untouched and logs nothing', () => {
    const { lines, remote } = logged();
    const e = new ToolError('not_found', 'no such container: web', { hint: 'See docker_list_containers.' });
    expect(forRemote(e, 'docker_x', remote)).toBe(e);
    const clean = new ToolError('internal', 'unexpected error: boom');
    expect(forRemote(clean, 'docker_x', remote)).toBe(clean);
    expect(lines).toEqual([]);
  });
});

describe('remoteEngineView', () => {
  const engine: EngineAccess = {
    client: async () => {
      throw new ToolError('engine_unreachable', 'no Docker engine answered. Tried: unix:///x/docker.sock');
    },
    invalidate: () => {},
    info: () => ({
      url: 'tcp://10.0.3.4:2376',
      source: 'DOCKER_HOST',
      apiVersion: '1.41',
      serverVersion: '20.10',
      os: 'linux',
      arch: 'amd64',
    }),
    attempts: () => [{ url: 'unix:///x/docker.sock', source: 'DOCKER_HOST', outcome: 'failed: EACCES /x' }],
  };

  it('hides the endpoint and the attempted addresses, keeps the facts', () => {
    const view = remoteEngineView(engine, (e) => e);
    expect(view.info()).toMatchObject({ url: HIDDEN, apiVersion: '1.41', source: 'DOCKER_HOST' });
    expect(view.attempts()).toEqual([
      { url: HIDDEN, source: 'DOCKER_HOST', outcome: `failed: EACCES ${HIDDEN}` },
    ]);
  });

  it('hides the host name of an ssh:// or tcp:// engine wherever an attempt quotes it', () => {
    const remote: EngineAccess = {
      ...engine,
      attempts: () => [
        {
          url: 'ssh://deploy@build.example.internal:2222',
          source: '--engine build',
          outcome: 'host key of build.example.internal:2222 is not in known_hosts',
        },
      ],
    };
    const [attempt] = remoteEngineView(remote, (e) => e).attempts();
    expect(JSON.stringify(attempt)).not.toContain('build.example.internal');
    expect(attempt?.outcome).toBe(`host key of ${HIDDEN}:2222 is not in known_hosts`);
  });

  it("passes a failure to connect through the call's hide function", async () => {
    const view = remoteEngineView(engine, () => new ToolError('engine_unreachable', 'hidden'));
    await expect(view.client(new AbortController().signal) as Promise<Dockerode>).rejects.toThrow('hidden');
  });
});

describe('hideHostDetails', () => {
  it('hides a declared string whole and the paths and addresses inside a declared list', () => {
    const out = hideHostDetails(
      {
        name: 'vm',
        root_dir: '/var/lib/docker',
        warnings: ['API is accessible on http://10.0.0.5:2375 without encryption'],
        Swarm: { NodeAddr: '10.0.0.5', LocalNodeState: 'active' },
        cpus: 4,
      },
      ['name', 'root_dir', 'warnings', 'Swarm.NodeAddr', 'absent'],
    );
    expect(out).toEqual({
      name: '<hidden>',
      root_dir: '<hidden>',
      warnings: ['API is accessible on <hidden> without encryption'],
      Swarm: { NodeAddr: '<hidden>', LocalNodeState: 'active' },
      cpus: 4,
    });
  });
});

describe('hideHostDetails: lists, maps and mount specs', () => {
  it('takes every item with *, hides whole strings there, and keeps empty ones', () => {
    const out = hideHostDetails(
      {
        Mounts: [
          { Type: 'volume', Name: 'data', Source: '/var/lib/docker/volumes/data/_data', Destination: '/d' },
          { Type: 'tmpfs', Source: '', Destination: '/t' },
        ],
      },
      ['Mounts.*.Source'],
    );
    expect(out).toEqual({
      Mounts: [
        { Type: 'volume', Name: 'data', Source: HIDDEN, Destination: '/d' },
        { Type: 'tmpfs', Source: '', Destination: '/t' },
      ],
    });
  });

  it("hides only a mount spec's source, and only when it is a path", () => {
    const out = hideHostDetails(
      {
        mounts: ['/srv/app:/app:ro', 'cache:/cache', 'C:\\data:C:\\app', '/var/run/docker.sock'],
        HostConfig: { Binds: ['/home/ops/x:/x'] },
      },
      ['mounts.*:source', 'HostConfig.Binds.*:source'],
    );
    expect(out).toEqual({
      mounts: [`${HIDDEN}:/app:ro`, 'cache:/cache', `${HIDDEN}:C:\\app`, HIDDEN],
      HostConfig: { Binds: [`${HIDDEN}:/x`] },
    });
  });

  it('scrubs the paths inside a declared map (overlay2 directories joined by colons)', () => {
    const out = hideHostDetails(
      { GraphDriver: { Name: 'overlay2', Data: { LowerDir: '/r/overlay2/a/diff:/r/overlay2/b/diff' } } },
      ['GraphDriver.Data'],
    );
    expect(out).toEqual({
      GraphDriver: { Name: 'overlay2', Data: { LowerDir: `${HIDDEN}:${HIDDEN}` } },
    });
  });

  it('returns the result itself when nothing in it is a host detail', () => {
    const data = { containers: [{ Id: 'a', Mounts: [] }, { Id: 'b' }], mounts: ['cache:/c'] };
    expect(hideHostDetails(data, ['containers.*.Mounts.*.Source', 'mounts.*:source', 'absent.x'])).toBe(data);
  });
});

describe('engine errors for remote callers, whatever their kind', () => {
  const mountFailure =
    "error while mounting volume '/var/lib/docker/volumes/v/_data': failed to mount local volume: mount /tmp/gone:/var/lib/docker/volumes/v/_data, flags: 0x1000: no such file or directory";

  it('carry a remote wording with the paths replaced, which forRemote shows and logs', () => {
    const e = engineError(
      Object.assign(new Error('x'), { statusCode: 500, json: { message: mountFailure } }),
    ) as ToolError;
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toBe(mountFailure);
    const { lines, remote } = logged();
    const shown = forRemote(
      reword(e, (m) => `${m}; the container this call created was removed`),
      'docker_run_container',
      remote,
    );
    expect(shown.kind).toBe('invalid_argument');
    expect(shown.message).toBe(
      `error while mounting volume '${HIDDEN}': failed to mount local volume: mount ${HIDDEN}:${HIDDEN}, flags: 0x1000: no such file or directory; the container this call created was removed`,
    );
    expect(lines[0]).toContain('/tmp/gone');
  });

  it('carry none when the engine named no path', () => {
    const e = engineError(
      Object.assign(new Error('x'), { statusCode: 409, json: { message: 'container web is not running' } }),
    );
    expect(e?.remote).toBeUndefined();
  });
});
