/**
 * The container image, built from the context `bun build.ts --all` writes (<release>/image/: rootfs.tar
 * and a Dockerfile FROM scratch) on the test engine with the docker CLI, as the release pipeline builds
 * it. It runs as the non-root user, reaches the engine through the mounted socket and the socket's group
 * only (--group-add), answers initialize and lists containers, including its own; it has no shell.
 * The image and the containers carry this run's test label and are removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE_BINARY, IMAGE_UID } from '../../packaging/image.ts';
import { RUN_ID, TEST_LABEL } from '../helpers/engine.ts';
import { RELEASE_DIR, RELEASE_REQUIRED, sh } from './release-dir.ts';
import { initialize, startStdio } from './stdio.ts';

const CONTEXT = join(RELEASE_DIR, 'image');
const HAVE_IMAGE = existsSync(join(CONTEXT, 'Dockerfile'));
const TAG = `mcp-test/mcp-docker-image:${RUN_ID.replace(/[^\w.-]/g, '-').toLowerCase()}`;
const NAME = `mcpt-image-${RUN_ID.replace(/[^\w.-]/g, '-')}`;
const LABEL = `${TEST_LABEL}=${RUN_ID}`;
const env = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/tmp',
  DOCKER_HOST: process.env.DOCKER_HOST ?? '',
};
const docker = (args: string[], extra: Record<string, string> = {}) =>
  sh(['docker', ...args], { env: { ...env, ...extra } });

/** The engine's socket on this machine (the tests' engine runs here). */
function socketPath(): string {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://'))
    throw new Error(`the image test mounts a unix socket; DOCKER_HOST is ${host}`);
  return host.slice('unix://'.length);
}

describe.skipIf(!HAVE_IMAGE && !RELEASE_REQUIRED)(`container image from ${CONTEXT}`, () => {
  let socket: string;
  let gid: number;

  beforeAll(async () => {
    if (!HAVE_IMAGE)
      throw new Error(`no image context in ${CONTEXT}: run \`bun build.ts --all\` first (.ci/run does)`);
    socket = socketPath();
    gid = statSync(socket).gid;
    // The classic builder: a FROM scratch + ADD context needs nothing more, and CI's docker CLI has no buildx.
    const built = await docker(['build', '-q', '--label', LABEL, '-t', TAG, CONTEXT], {
      DOCKER_BUILDKIT: '0',
    });
    expect(built.code, built.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await docker(['rm', '-f', NAME]);
    await docker(['rmi', '-f', TAG]);
  });

  it("runs as the non-root user, holding the binary and no shell, not sharing the host's files", async () => {
    const r = await docker(['image', 'inspect', '--format', '{{json .Config}}', TAG]);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout) as {
      User: string;
      Env: string[];
      Entrypoint: string[];
      Labels: Record<string, string>;
    };
    expect(config.User).toBe(`${IMAGE_UID}:${IMAGE_UID}`);
    // The engine behind the mounted socket resolves host paths on the host, not in the image.
    expect(config.Env).toContain('MCP_DOCKER_SHARES_FILESYSTEM=false');
    expect(config.Entrypoint).toEqual([IMAGE_BINARY]);
    expect(config.Labels['io.modelcontextprotocol.server.name']).toBe('io.github.mcp-docker/mcp-docker');
    const version = await docker(['run', '--rm', '--network', 'none', '--label', LABEL, TAG, '--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^mcp-docker \d+\.\d+\.\d+/);
  }, 60_000);

  it('docker run --entrypoint /bin/sh fails: there is no shell', async () => {
    for (const shell of ['/bin/sh', 'sh', '/bin/bash']) {
      const r = await docker([
        'run',
        '--rm',
        '--network',
        'none',
        '--label',
        LABEL,
        '--entrypoint',
        shell,
        TAG,
        '-c',
        'id',
      ]);
      expect(r.code, `${shell}: ${r.stdout}`).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/no such file|not found/i);
    }
  }, 60_000);

  it('answers initialize and lists containers (itself among them) through the mounted socket and its group', async () => {
    const server = startStdio(
      [
        'docker',
        'run',
        '--rm',
        '-i',
        '--name',
        NAME,
        '--label',
        LABEL,
        '--network',
        'none',
        '--group-add',
        String(gid),
        '-v',
        `${socket}:/var/run/docker.sock`,
        TAG,
      ],
      { env },
    );
    const info = await initialize(server);
    expect(info.name).toBe('mcp-docker');
    const listed = await server.request(
      'tools/call',
      { name: 'docker_list_containers', arguments: { all: true } },
      30_000,
    );
    const result = listed.result as { isError?: boolean; content: { text: string }[] };
    expect(result.isError ?? false, JSON.stringify(result)).toBe(false);
    expect(JSON.stringify(result)).toContain(NAME);
    server.child.stdin?.end();
    expect((await server.exited).code).toBe(0);
    expect(server.strays).toEqual([]);
  }, 60_000);

  it('without the socket’s group the non-root user cannot reach the engine', async () => {
    const server = startStdio(
      [
        'docker',
        'run',
        '--rm',
        '-i',
        '--label',
        LABEL,
        '--network',
        'none',
        '-v',
        `${socket}:/var/run/docker.sock`,
        TAG,
      ],
      { env },
    );
    await initialize(server);
    const listed = await server.request(
      'tools/call',
      { name: 'docker_list_containers', arguments: {} },
      30_000,
    );
    const result = listed.result as { isError?: boolean };
    expect(result.isError, JSON.stringify(result)).toBe(true);
    expect(JSON.stringify(result)).toContain('permission denied');
    server.child.stdin?.end();
    await server.exited;
  }, 60_000);
});
