/**
 * Container tools as a client sees them, through the compiled binary against the real engine: what
 * the engine would misread or ignore is refused naming the argument, and answers say what happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import {
  cleanupContainers,
  makeContainer,
  TEST_IMAGE,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ client: 'v1' });
});

afterAll(async () => {
  await server?.close();
  await cleanupContainers();
});

const call = (name: string, args: Record<string, unknown>) => server.client.callTool(name, args);
const ok = async <T = Record<string, unknown>>(name: string, args: Record<string, unknown>) =>
  structured<T>(await call(name, args));
const err = async (name: string, args: Record<string, unknown>) => errorOf(await call(name, args));
const inspect = (ref: string) => testDocker().getContainer(ref).inspect();

/** A labelled, networkless container with a restart policy, started. */
async function withRestart(cmd: string[], policy: { Name: string; MaximumRetryCount?: number }) {
  const c = await testDocker().createContainer({
    name: uniqueName('mcpt-ctr'),
    Image: TEST_IMAGE,
    Cmd: cmd,
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none', RestartPolicy: policy },
  });
  await c.start();
  return c.id;
}

describe('a container name of an ID form', () => {
  it('is refused on rename, naming the field, and the container keeps its name', async () => {
    const a = await makeContainer();
    const k = await makeContainer();

    const e = await err('docker_rename_container', { container_id: k.name, new_name: a.id.slice(0, 12) });

    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain(`'new_name': '${a.id.slice(0, 12)}' has the form of a container ID`);
    expect((await inspect(k.id)).Name).toBe(`/${k.name}`);
  });

  it('is refused on create and run, naming the field, and nothing is made', async () => {
    const name = 'fe'.repeat(6);
    for (const tool of ['docker_create_container', 'docker_run_container']) {
      const e = await err(tool, { image: TEST_IMAGE, name, labels: testLabels(), network_mode: 'none' });
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toContain(`'name': '${name}' has the form of a container ID`);
    }
    expect(await testDocker().listContainers({ all: true, filters: { name: [name] } })).toEqual([]);
  });
});

describe('a short ID that is also the name of another container', () => {
  it('is refused as ambiguous, naming both, and neither container is touched; the full ID works', async () => {
    const a = await makeContainer();
    const short = a.id.slice(0, 12);
    // The engine (and the docker CLI) allow such a name; a container made before this release may have one.
    const k = await makeContainer({ name: short });

    for (const [tool, args] of [
      ['docker_stop_container', { timeout: 0 }],
      ['docker_exec_command', { command: 'true' }],
      ['docker_inspect_container', {}],
    ] as const) {
      const e = await err(tool, { container_id: short, ...args });
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toContain(`container reference '${short}' is ambiguous`);
      expect(e.message).toContain(a.name);
      expect(e.message).toContain(a.id);
    }
    expect((await inspect(a.id)).State.Running).toBe(true);
    expect((await inspect(k.id)).State.Running).toBe(true);

    const stopped = await ok('docker_stop_container', { container_id: a.id, timeout: 0 });
    expect(stopped).toMatchObject({ name: a.name, state: 'exited' });
    expect((await inspect(k.id)).State.Running).toBe(true);
  });

  it('still reaches the container whose ID it is when no container has it as its name', async () => {
    const a = await makeContainer();
    const out = await ok<{ stdout: string }>('docker_exec_command', {
      container_id: a.id.slice(0, 12),
      command: 'hostname',
    });
    expect(out.stdout).toContain(`\n${a.id.slice(0, 12)}\n`);
  });
});

/** A container made with the docker CLI, outside the server, named `name`; its full ID. */
function cliContainer(name: string): string {
  const label = Object.entries(testLabels()).map(([k, v]) => `${k}=${v}`)[0] as string;
  const out = Bun.spawnSync(
    [
      'docker',
      'run',
      '-d',
      '--network',
      'none',
      '--label',
      label,
      '--name',
      name,
      TEST_IMAGE,
      'sleep',
      '3600',
    ],
    { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: process.env.DOCKER_HOST ?? '' } },
  );
  if (out.exitCode !== 0) throw new Error(`docker run: ${out.stderr.toString()}`);
  return out.stdout.toString().trim();
}

describe('a short ID that the engine resolves in a request (container: joins, volumes_from)', () => {
  it('is refused as ambiguous naming both full IDs, and nothing is made; /name joins the named one', async () => {
    const a = await makeContainer();
    const short = a.id.slice(0, 12);
    const impostor = cliContainer(short);
    const name = uniqueName('mcpt-join');
    const base = { image: TEST_IMAGE, name, labels: testLabels() };

    const e = await err('docker_create_container', { ...base, network_mode: `container:${short}` });
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain(`container reference '${short}' is ambiguous`);
    expect(e.message).toContain(a.id);
    expect(e.message).toContain(impostor);
    expect(e.message).toContain(`'/${short}'`);
    expect(await testDocker().listContainers({ all: true, filters: { name: [name] } })).toEqual([]);

    const project = uniqueName('mcpt-joinp').replace(/[^a-z0-9_-]/g, '');
    for (const service of [`network_mode: "container:${short}"`, `volumes_from: ["container:${short}"]`]) {
      const content = `services:\n  web:\n    image: ${TEST_IMAGE}\n    command: sleep 3600\n    ${service}\n`;
      const c = await err('docker_compose_up', { content, project_name: project });
      expect(c.message).toContain(`container reference '${short}' is ambiguous`);
      expect(c.message).toContain(impostor);
      expect(
        await testDocker().listContainers({
          all: true,
          filters: { label: [`com.docker.compose.project=${project}`] },
        }),
      ).toEqual([]);
    }

    // docker_connect_container takes a tool reference: the resolver's refusal, nothing connected.
    const connect = await err('docker_connect_container', { network_id: 'bridge', container_id: short });
    expect(connect.message).toContain(`container reference '${short}' is ambiguous`);
    expect(Object.keys((await inspect(impostor)).NetworkSettings.Networks)).toEqual(['none']);

    // The full ID means the ID's own container, and '/name' the named one, as the hint says.
    const byId = await ok<{ id: string }>('docker_create_container', {
      ...base,
      network_mode: `container:${a.id}`,
    });
    expect((await inspect(byId.id)).HostConfig.NetworkMode).toBe(`container:${a.id}`);
    const byName = await ok<{ id: string }>('docker_create_container', {
      ...base,
      name: uniqueName('mcpt-join'),
      network_mode: `container:/${short}`,
    });
    expect((await inspect(byName.id)).HostConfig.NetworkMode).toBe(`container:${impostor}`);
  });
});

describe('docker_update_container', () => {
  it('refuses a retry count alone for a policy other than on-failure, leaving the policy as it is', async () => {
    const id = await withRestart(['sleep', '3600'], { Name: 'unless-stopped' });

    const e = await err('docker_update_container', { container_id: id.slice(0, 12), maximum_retry_count: 5 });

    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("'maximum_retry_count'");
    expect(e.message).toContain("'unless-stopped'");
    expect(e.message).toContain("restart_policy: 'on-failure'");
    expect((await inspect(id)).HostConfig.RestartPolicy).toEqual({
      Name: 'unless-stopped',
      MaximumRetryCount: 0,
    });
  });

  it('keeps on-failure for a retry count alone, and shows the whole policy it set', async () => {
    const id = await withRestart(['sleep', '3600'], { Name: 'on-failure', MaximumRetryCount: 2 });

    const out = await ok<{ applied: object }>('docker_update_container', {
      container_id: id,
      maximum_retry_count: 5,
    });

    expect(out.applied).toEqual({ restart_policy: 'on-failure', maximum_retry_count: 5 });
    expect((await inspect(id)).HostConfig.RestartPolicy).toEqual({
      Name: 'on-failure',
      MaximumRetryCount: 5,
    });
  });

  it('shows the retry count with a restart policy given alone', async () => {
    const { id } = await makeContainer();
    const out = await ok<{ applied: object }>('docker_update_container', {
      container_id: id,
      restart_policy: 'unless-stopped',
    });
    expect(out.applied).toEqual({ restart_policy: 'unless-stopped', maximum_retry_count: 0 });
  });

  it('refuses mem_limit 0, which the engine would ignore, saying the limit cannot be removed', async () => {
    const { id } = await makeContainer();
    await ok('docker_update_container', { container_id: id, mem_limit: '32m', memory_swap: -1 });

    const e = await err('docker_update_container', { container_id: id, mem_limit: '0' });

    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("'mem_limit'");
    expect(e.message).toContain('cannot remove');
    expect((await inspect(id)).HostConfig.Memory).toBe(32 * 1024 * 1024);
  });

  it('shows an unlimited pids_limit as -1, not as 0 processes', async () => {
    const { id } = await makeContainer();
    await ok('docker_update_container', { container_id: id, pids_limit: 50 });
    const out = await ok<{ applied: object }>('docker_update_container', {
      container_id: id,
      pids_limit: -1,
    });
    expect(out.applied).toEqual({ pids_limit: -1 });
  });
});

describe('docker_wait_container until exited', () => {
  it('reports the exit, its code and the restart for a container its restart policy starts again', async () => {
    const id = await withRestart(['sh', '-c', 'sleep 1; exit 3'], { Name: 'always' });

    const out = await ok<Record<string, unknown>>('docker_wait_container', { container_id: id, timeout: 20 });

    expect(out).toMatchObject({ condition: 'exited', met: true, exit_code: 3, restarted: true });
    expect(out.waited_ms as number).toBeLessThan(15_000);
  });

  it('reports the exit code of a container that stays exited, without restarted', async () => {
    const { id } = await makeContainer({ cmd: ['sh', '-c', 'sleep 1; exit 4'] });
    const out = await ok<Record<string, unknown>>('docker_wait_container', { container_id: id, timeout: 20 });
    expect(out).toMatchObject({ met: true, state: 'exited', exit_code: 4 });
    expect(out.restarted).toBeUndefined();
  });
});

describe('a paused container', () => {
  it('has its stats and processes read, as docker stats and docker top show them', async () => {
    const { id, name } = await makeContainer();
    await testDocker().getContainer(id).pause();

    const stats = await ok<{ container: string; pids: number }>('docker_container_stats', {
      container_id: name,
    });
    const top = await ok<{ processes: string[][] }>('docker_container_top', { container_id: name });

    expect(stats.container).toBe(name);
    expect(stats.pids).toBeGreaterThanOrEqual(1);
    expect(top.processes.some((p) => p.join(' ').includes('sleep 3600'))).toBe(true);
    expect((await inspect(id)).State.Paused).toBe(true);
  });
});

describe('docker_copy_to_container', () => {
  it('refuses a destination under /proc, /sys, /dev or a tmpfs, naming the mount, and writes nothing', async () => {
    const c = await testDocker().createContainer({
      name: uniqueName('mcpt-ctr'),
      Image: TEST_IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: 'none', Tmpfs: { '/run/t': '' } },
    });
    await c.start();

    for (const [path, mount] of [
      ['/proc/mcpt', '/proc'],
      ['/sys/mcpt', '/sys'],
      ['/dev/shm/mcpt', '/dev'],
      ['/run/t/mcpt', '/run/t'],
    ]) {
      const e = await err('docker_copy_to_container', { container_id: c.id, path, content: 'x' });
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toContain(`'${path}' is under ${mount}`);
    }
    expect(
      ((await c.changes()) ?? [])
        .map((x: { Path: string }) => x.Path)
        .filter((p: string) => p.includes('mcpt')),
    ).toEqual([]);
    expect(
      await ok('docker_copy_to_container', { container_id: c.id, path: '/tmp/mcpt', content: 'x' }),
    ).toMatchObject({ size: 1 });
  });
});
