/**
 * Host paths below an allowlist entry on an engine that does not share this server's filesystem: the
 * server cannot realpath them, so it asks the engine's host. The attack: a container bound the
 * allowlisted directory and left `x -> /etc` there (then went away, so no container can write it
 * any more), and a bind of `<dir>/x`, lexically under the entry, would mount the host's /etc. Driven
 * through the compiled binary with MCP_DOCKER_SHARES_FILESYSTEM=false on the test engine, which does
 * share this machine's files, so the test plants the link on disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, textOf } from '../helpers/client.ts';
import { cleanupContainers, TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';

const PROBE_LABEL = 'mcp-docker.probe';
const dir = mkdtempSync(join(tmpdir(), 'mcpt-probe-'));
mkdirSync(join(dir, 'plain'));
symlinkSync('/etc', join(dir, 'x'));
mkdirSync(join(dir, 'sub'));
symlinkSync('/etc', join(dir, 'sub', 'y'));

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({
    env: { MCP_DOCKER_SHARES_FILESYSTEM: 'false' },
    args: ['--mount-allowlist', dir],
  });
});
afterAll(async () => {
  await server?.close();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

/** A run of `true` with `source` bound read-only, marked so the test can count what it made. */
const runWith = (source: string, mark: string) =>
  server.client.callTool('docker_run_container', {
    image: TEST_IMAGE,
    volumes: [`${source}:/w:ro`],
    command: 'true',
    network_mode: 'none',
    labels: { ...testLabels(), 'mcpt.mark': mark },
    wait: true,
    remove: true,
  });

/** Containers ever made with `mark` still there (a refused run makes none). */
const marked = (mark: string) =>
  testDocker().listContainers({ all: true, filters: { label: [`mcpt.mark=${mark}`] } });

/** Probe containers on the engine now. */
const probes = () => testDocker().listContainers({ all: true, filters: { label: [PROBE_LABEL] } });

/** The probe containers' create and destroy events since `since` (seconds, with a fraction). */
async function probeEvents(since: string): Promise<{ created: string[]; destroyed: string[] }> {
  const until = (Date.now() / 1000 + 1).toFixed(3);
  const stream = await testDocker().getEvents({
    since,
    until,
    filters: { type: ['container'], label: [PROBE_LABEL], event: ['create', 'destroy'] },
  } as never);
  let text = '';
  for await (const chunk of stream as unknown as AsyncIterable<Buffer>) text += chunk.toString();
  const events = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Action: string; id: string });
  return {
    created: events.filter((e) => e.Action === 'create').map((e) => e.id),
    destroyed: events.filter((e) => e.Action === 'destroy').map((e) => e.id),
  };
}
const now = () => (Date.now() / 1000).toFixed(3);

describe('a host path below an allowlist entry on an engine that does not share the filesystem', () => {
  it('binds the entry itself without asking the engine anything', async () => {
    const since = now();
    const mark = uniqueName('mcpt-probe');
    const r = await runWith(dir, mark);
    expect(r.isError).toBeFalsy();
    expect((await probeEvents(since)).created).toEqual([]);
  });

  it('refuses a bind of a symbolic link the engine host has below the entry, making nothing and leaving no probe', async () => {
    const since = now();
    const mark = uniqueName('mcpt-probe');
    const r = await runWith(join(dir, 'x'), mark);
    const e = errorOf(r);
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain(
      `HostConfig.Binds[0]: host path '${dir}/x' is a symbolic link on engine 'default''s host (to '/etc')`,
    );
    expect(textOf(r)).not.toContain('root:x:0:0');
    expect(await marked(mark)).toEqual([]);
    expect(await probes()).toEqual([]);
    const { created, destroyed } = await probeEvents(since);
    expect(created.length).toBe(1);
    expect(destroyed.sort()).toEqual(created.sort());
  });

  it('refuses a path that passes through such a link deeper down', async () => {
    const mark = uniqueName('mcpt-probe');
    const e = errorOf(await runWith(join(dir, 'sub', 'y', 'ssl'), mark));
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain(
      `host path '${dir}/sub/y/ssl' passes through '${dir}/sub/y', which is a symbolic link`,
    );
    expect(await marked(mark)).toEqual([]);
    expect(await probes()).toEqual([]);
  });

  it('allows a real directory and a path that does not exist yet, asking the engine and leaving no probe', async () => {
    const since = now();
    for (const source of [join(dir, 'plain'), join(dir, 'new', 'deeper')]) {
      const r = await runWith(source, uniqueName('mcpt-probe'));
      expect(textOf(r)).not.toContain('policy_denied');
      expect(r.isError).toBeFalsy();
    }
    expect(await probes()).toEqual([]);
    const { created, destroyed } = await probeEvents(since);
    // Asked at create and again at start, for each.
    expect(created.length).toBeGreaterThanOrEqual(2);
    expect(destroyed.sort()).toEqual(created.sort());
  });

  it('refuses a real directory deeper than the engine can look, and too many components in one request, before making a probe', async () => {
    const deep = join(dir, ...Array.from({ length: 300 }, () => 'd'));
    mkdirSync(deep, { recursive: true });
    const since = now();
    const mark = uniqueName('mcpt-probe');
    const e = errorOf(await runWith(deep, mark));
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toStartWith(
      `policy_denied: HostConfig.Binds[0]: host path '${deep}' lies below allowlist entry '${dir}'`,
    );
    expect(e.message).toContain(
      'it is 300 components below the entry, and the engine cannot look deeper than 254',
    );
    expect(e.message).toContain(`Bind a path at most 254 components below '${dir}'`);
    expect(e.message).not.toContain('Retry');

    const many = errorOf(
      await server.client.callTool('docker_run_container', {
        image: TEST_IMAGE,
        volumes: Array.from(
          { length: 30 },
          (_, i) => `${join(dir, `p${i}`, ...Array.from({ length: 9 }, () => 'd'))}:/w${i}:ro`,
        ),
        command: 'true',
        network_mode: 'none',
        labels: { ...testLabels(), 'mcpt.mark': mark },
        wait: true,
        remove: true,
      }),
    );
    expect(many.kind).toBe('policy_denied');
    expect(many.message).toContain('more than 256 components below their entries to look at');
    expect(many.message).toContain('Bind fewer or shallower paths in one request');
    expect(await marked(mark)).toEqual([]);
    expect((await probeEvents(since)).created).toEqual([]);
  });

  it('refuses to start a container made elsewhere whose bind now passes through such a link', async () => {
    const name = uniqueName('mcpt-probe');
    const made = await testDocker().createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ['true'],
      Labels: testLabels(),
      HostConfig: { Binds: [`${dir}/x:/w:ro`], NetworkMode: 'none' },
    });
    const e = errorOf(await server.client.callTool('docker_start_container', { container_id: name }));
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain(
      `container '${name}' HostConfig.Binds[0]: host path '${dir}/x' is a symbolic link on engine 'default''s host (to '/etc')`,
    );
    expect((await made.inspect()).State.StartedAt).toBe('0001-01-01T00:00:00Z');
    expect(await probes()).toEqual([]);
  });

  it('refuses an exec in a running container made elsewhere whose bind passes through such a link', async () => {
    // An exec mounts nothing, but the container already holds the host's /etc: the call is asked too.
    const name = uniqueName('mcpt-probe');
    const made = await testDocker().createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ['sleep', '300'],
      Labels: testLabels(),
      HostConfig: { Binds: [`${dir}/x:/w:ro`], NetworkMode: 'none' },
    });
    await made.start();
    const r = await server.client.callTool('docker_exec_command', {
      container_id: name,
      command: 'cat /w/passwd',
    });
    const e = errorOf(r);
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain(
      `host path '${dir}/x' is a symbolic link on engine 'default''s host (to '/etc')`,
    );
    expect(textOf(r)).not.toContain('root:x:0:0');
    expect(await probes()).toEqual([]);
  });

  it('refuses a Compose project with such a bind before it makes anything', async () => {
    const project = uniqueName('mcpt-probe');
    const content = [
      'services:',
      '  app:',
      `    image: ${TEST_IMAGE}`,
      '    command: ["true"]',
      `    volumes: ["${dir}/x:/h:ro"]`,
      '    networks: [inner]',
      'networks:',
      '  inner:',
      '    internal: true',
    ].join('\n');
    try {
      const e = errorOf(
        await server.client.callTool('docker_compose_up', { content, project_name: project }),
      );
      expect(e.kind).toBe('policy_denied');
      expect(e.message).toContain(
        `service "app" (key volumes): HostConfig.Binds[0]: host path '${dir}/x' is a symbolic link on engine 'default''s host (to '/etc')`,
      );
      const label = { label: [`com.docker.compose.project=${project}`] };
      expect(await testDocker().listContainers({ all: true, filters: label })).toEqual([]);
      expect(await testDocker().listNetworks({ filters: label })).toEqual([]);
      expect(await probes()).toEqual([]);
    } finally {
      // Only what a failing run would have made.
      const label = { label: [`com.docker.compose.project=${project}`] };
      const docker = testDocker();
      for (const c of await docker.listContainers({ all: true, filters: label }))
        await docker.getContainer(c.Id).remove({ force: true });
      for (const n of await docker.listNetworks({ filters: label })) await docker.getNetwork(n.Id).remove();
    }
  });
});

describe('an allowlist entry below another entry', () => {
  // `x -> /etc` was planted in `dir` through a bind of it; `dir/x` is an entry too.
  const nested: Record<string, RunningServer> = {};
  beforeAll(async () => {
    const args = ['--mount-allowlist', `${dir},${dir}/x`];
    nested.lexical = await startServer({ env: { MCP_DOCKER_SHARES_FILESYSTEM: 'false' }, args });
    nested.sharing = await startServer({ args });
  });
  afterAll(async () => {
    await Promise.all(Object.values(nested).map((s) => s.close()));
  });
  const run = (server: RunningServer, mark: string) =>
    server.client.callTool('docker_run_container', {
      image: TEST_IMAGE,
      volumes: [`${dir}/x:/w:ro`],
      command: 'true',
      network_mode: 'none',
      labels: { ...testLabels(), 'mcpt.mark': mark },
      wait: true,
      remove: true,
    });

  it('is asked about through its outer entry on an engine that does not share the filesystem', async () => {
    const mark = uniqueName('mcpt-probe');
    const e = errorOf(await run(nested.lexical as RunningServer, mark));
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain(
      `host path '${dir}/x' is a symbolic link on engine 'default''s host (to '/etc')`,
    );
    expect(await marked(mark)).toEqual([]);
    expect(await probes()).toEqual([]);
  });

  it('admits nothing where it now leads on an engine that shares the filesystem', async () => {
    const mark = uniqueName('mcpt-probe');
    const e = errorOf(await run(nested.sharing as RunningServer, mark));
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain(
      `host path '${dir}/x' (resolving to '/etc') is refused: it is not under any allowlist entry as it resolves`,
    );
    expect(await marked(mark)).toEqual([]);
  });
});
