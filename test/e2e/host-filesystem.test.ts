/**
 * Whose files a host path names. A server in a container, talking to the host's engine through a
 * mounted socket, must not resolve a bind source in its own filesystem: the engine resolves it on the
 * host, where a container may have planted `root -> /etc` (ln -s /etc /w/root through a bind of
 * /tmp/x, then a bind of /tmp/x/root mounted the host's /etc). Driven through the compiled binary:
 * with the setting off, and in a private mount namespace that plays the container (its own /tmp/x,
 * a runtime marker, the engine's socket bound in), as `docker run -v /var/run/docker.sock:…` makes it.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { errorOf, type RunningServer, SERVER_BIN, startServer, textOf } from '../helpers/client.ts';
import { cleanupContainers, TEST_IMAGE, testLabels } from '../helpers/engine.ts';

const scratch = mkdtempSync(join(tmpdir(), 'mcpt-fsshare-'));
afterAll(async () => {
  await cleanupContainers();
  rmSync(scratch, { recursive: true, force: true });
});

const engineSocket = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');

/** Step 1 of the attack: a container writes `root -> /etc` into the shared directory. */
const plant = (server: RunningServer, dir: string) =>
  server.client.callTool('docker_run_container', {
    image: TEST_IMAGE,
    volumes: [`${dir}:/w`],
    command: 'ln -s /etc /w/root',
    network_mode: 'none',
    labels: testLabels(),
    wait: true,
    remove: true,
  });

/** Step 2: bind the planted link and read through it. */
const readThrough = (server: RunningServer, dir: string) =>
  server.client.callTool('docker_run_container', {
    image: TEST_IMAGE,
    volumes: [`${dir}/root:/host:ro`],
    command: 'head -1 /host/passwd',
    network_mode: 'none',
    labels: testLabels(),
    wait: true,
    remove: true,
  });

const NOT_SHARED = 'this engine does not share the server filesystem, so only allowlisted paths may be used';

describe('an engine whose host paths are not this server’s (MCP_DOCKER_SHARES_FILESYSTEM=false)', () => {
  it('refuses both steps of the symlink attack under the default settings: no host path is allowed', async () => {
    const dir = join(scratch, 'setting');
    mkdirSync(dir);
    // As if an earlier container had planted it: the server must not decide by what it sees here.
    symlinkSync('/etc', join(dir, 'root'));
    const server = await startServer({ env: { MCP_DOCKER_SHARES_FILESYSTEM: 'false' } });
    try {
      for (const r of [await plant(server, dir), await readThrough(server, dir)]) {
        const e = errorOf(r);
        expect(e.kind).toBe('policy_denied');
        expect(e.message).toContain(NOT_SHARED);
        expect(textOf(r)).not.toContain('root:x:0:0');
      }
    } finally {
      await server.close();
    }
  });

  it('doctor says so, and where the setting came from', () => {
    const r = spawnSync(resolve(SERVER_BIN), ['doctor'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DOCKER_HOST: process.env.DOCKER_HOST ?? '',
        MCP_DOCKER_SHARES_FILESYSTEM: 'false',
      },
    });
    expect(r.stdout.toString()).toContain(
      "files   host paths are the engine host's, checked as written against --mount-allowlist only: set by the server-wide sharesFilesystem (--shares-filesystem), from env MCP_DOCKER_SHARES_FILESYSTEM",
    );
  });
});

/** Whether this process may make a mount namespace of its own (root, unshare(1) present). */
const canUnshare = spawnSync('unshare', ['--mount', 'true']).status === 0;

describe.skipIf(!canUnshare)('a server in a container with the host’s engine socket mounted in', () => {
  it('refuses the symlink attack with no setting: it finds it runs in a container the engine is not in', async () => {
    const dir = join(scratch, 'contained');
    mkdirSync(dir);
    const socket = join(scratch, 'engine.sock');
    writeFileSync(socket, '');
    // The container: its own (empty) copy of the shared directory, a runtime marker, the engine's socket.
    const container = [
      'set -e',
      'mount --bind "$1" "$2"',
      'mount -t tmpfs mcpt "$3"',
      'mount -t tmpfs mcpt /run',
      ': > /run/.containerenv',
      'shift 3',
      'exec "$@"',
    ].join('\n');
    const server = await startServer({
      wrap: [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        container,
        'sh',
        engineSocket,
        socket,
        dir,
      ],
      env: { DOCKER_HOST: `unix://${socket}` },
    });
    try {
      const planted = await plant(server, dir);
      expect(errorOf(planted).message).toContain(NOT_SHARED);
      // Planted anyway (by a container made some other way): the bind through it is refused too.
      if (!existsSync(join(dir, 'root'))) symlinkSync('/etc', join(dir, 'root'));
      const read = await readThrough(server, dir);
      expect(errorOf(read).kind).toBe('policy_denied');
      expect(textOf(read)).not.toContain('root:x:0:0');
    } finally {
      await server.close();
    }
  });

  it('doctor says which it is and why', () => {
    const socket = join(scratch, 'doctor.sock');
    writeFileSync(socket, '');
    const r = spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'set -e; mount --bind "$1" "$2"; mount -t tmpfs mcpt /run; : > /run/.containerenv; shift 2; exec "$@"',
        'sh',
        engineSocket,
        socket,
        resolve(SERVER_BIN),
        'doctor',
        '--json',
      ],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DOCKER_HOST: `unix://${socket}` },
      },
    );
    const report = JSON.parse(r.stdout.toString());
    expect(report.engine.reachable).toBe(true);
    expect(report.engine.filesystem.shares).toBe(false);
    expect(report.engine.filesystem.why).toMatch(
      /^this server runs in a container \(\/(\.dockerenv|run\/\.containerenv)\), and the daemon serving /,
    );
  });
});
