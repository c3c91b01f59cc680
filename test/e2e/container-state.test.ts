/**
 * What a client reads of a container's state through the compiled binary against the real engine:
 * the exit code of a crash loop, the command as a shell would read it, the ports of a stopped or
 * never-started container, health only while it runs, and the host port the engine picked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { type RunningServer, startServer, structured } from '../helpers/client.ts';
import { cleanupContainers, TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ client: 'v1' });
});

afterAll(async () => {
  await server?.close();
  await cleanupContainers();
});

type Summary = Record<string, unknown> & { state: string };

const ok = async <T = Summary>(name: string, args: Record<string, unknown>) =>
  structured<T>(await server.client.callTool(name, args));

const prompt = async (name: string, args: Record<string, string>) => {
  const raw = server.client.raw as unknown as {
    getPrompt(p: { name: string; arguments: Record<string, string> }): Promise<{
      messages: { content: { text?: string } }[];
    }>;
  };
  return (await raw.getPrompt({ name, arguments: args })).messages[0]?.content.text ?? '';
};

const CRASH = 'echo starting; echo boom >&2; exit 3';

/** Polls until `done` holds of the engine's State, up to `ms`. */
async function until(
  id: string,
  done: (s: { Status: string; Health?: { Status: string } }) => boolean,
  ms = 20_000,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (done((await testDocker().getContainer(id).inspect()).State)) return;
    await Bun.sleep(50);
  }
  throw new Error(`container ${id} did not reach the state in ${ms} ms`);
}

describe('a crash-looping container', () => {
  let name = '';

  beforeAll(async () => {
    name = uniqueName('mcpt-crash');
    await ok('docker_run_container', {
      image: TEST_IMAGE,
      name,
      command: ['sh', '-c', CRASH],
      restart_policy: 'always',
      network_mode: 'none',
      labels: testLabels(),
    });
    // The engine waits longer before each restart (100 ms, doubling): after a few, it spends
    // seconds at a time restarting, long enough to be read there.
    await until(name, (s) => s.Status === 'restarting');
  });

  /** Reads it until it is caught restarting (a run between two waits is over in milliseconds). */
  async function restarting<T>(read: () => Promise<T>, caught: (v: T) => boolean): Promise<T> {
    for (let i = 0; i < 40; i++) {
      const v = await read();
      if (caught(v)) return v;
      await Bun.sleep(100);
    }
    throw new Error('never caught restarting');
  }

  it('shows the last exit code on inspect, with the state restarting', async () => {
    const s = await restarting(
      () => ok('docker_inspect_container', { container_id: name }),
      (v) => v.state === 'restarting',
    );
    expect(s.exit_code).toBe(3);
    expect(s.restart_count as number).toBeGreaterThan(0);
  });

  it('shows the command with the shell argument quoted, as docker ps does', async () => {
    const s = await ok('docker_inspect_container', { container_id: name });
    expect(s.command).toBe(`sh -c '${CRASH}'`);
  });

  it('says restarting and the last exit code in troubleshoot_container, and quotes the command', async () => {
    const text = await restarting(
      () => prompt('troubleshoot_container', { container_id: name }),
      (t) => t.includes('State: restarting'),
    );
    expect(text).toContain(
      'State: restarting (its restart policy starts it again after each exit), last exit code 3,',
    );
    expect(text).toContain(`Command: sh -c '${CRASH}'`);
  });
});

describe('a container running again after a crash', () => {
  it('has the exit code of the crash from the engine events in troubleshoot_container', async () => {
    const name = uniqueName('mcpt-crashed');
    // Crashes once, then runs: its file system outlives the restart.
    await ok('docker_run_container', {
      image: TEST_IMAGE,
      name,
      command: ['sh', '-c', 'if [ -e /ran ]; then sleep 3600; else touch /ran; exit 3; fi'],
      restart_policy: 'on-failure',
      network_mode: 'none',
      labels: testLabels(),
    });
    // Running again after its restart (not the first run before the crash, nor between the two).
    for (let i = 0; i < 200; i++) {
      const info = await testDocker().getContainer(name).inspect();
      if (info.RestartCount >= 1 && info.State.Status === 'running') break;
      await Bun.sleep(50);
    }

    const text = await prompt('troubleshoot_container', { container_id: name });

    expect(text).toMatch(
      /State: running, restarts 1, restart policy on-failure, last exit code 3 at \S+Z, before its restart policy started it again,/,
    );
  });
});

describe('ports and health of a container that is not running', () => {
  it('shows a never-started container its configured ports and no zero start or finish time', async () => {
    const name = uniqueName('mcpt-created');
    await ok('docker_create_container', {
      image: TEST_IMAGE,
      name,
      ports: { '8080/tcp': '127.0.0.1:0', '9090/udp': null },
      network_mode: 'bridge',
      labels: testLabels(),
    });

    const s = await ok('docker_inspect_container', { container_id: name });

    // One comparison, so a failure shows every field that is wrong.
    const { state, configured_ports, ports, started_at, finished_at, exit_code } = s;
    expect({ state, configured_ports, ports, started_at, finished_at, exit_code }).toEqual({
      state: 'created',
      configured_ports: { '8080/tcp': '127.0.0.1:0', '9090/udp': '127.0.0.1:' },
      ports: undefined,
      started_at: undefined,
      finished_at: undefined,
      exit_code: undefined,
    });
    expect(JSON.stringify(s)).not.toContain('0001-01-01');
  });

  it('after a clean stop shows no health, as docker ps does, and the ports it publishes once started', async () => {
    const name = uniqueName('mcpt-web');
    await ok('docker_run_container', {
      image: TEST_IMAGE,
      name,
      command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'],
      ports: { '80/tcp': '127.0.0.1:' },
      network_mode: 'bridge',
      healthcheck: { test: ['CMD', 'true'], interval: '1s' },
      labels: testLabels(),
    });
    await until(name, (s) => s.Health?.Status === 'healthy');
    expect((await ok('docker_inspect_container', { container_id: name })).health).toBe('healthy');

    const stopped = await ok('docker_stop_container', { container_id: name });
    const s = await ok('docker_inspect_container', { container_id: name });

    const pick = ({ state, health, ports, configured_ports }: Summary) => ({
      state,
      health,
      ports,
      configured_ports,
    });
    expect({ stop: pick(stopped), inspect: pick(s) }).toEqual({
      stop: { state: 'exited', health: undefined, ports: undefined, configured_ports: undefined },
      inspect: {
        state: 'exited',
        health: undefined,
        ports: undefined,
        configured_ports: { '80/tcp': '127.0.0.1:' },
      },
    });
    expect(s.exit_code).toBe(0);
    expect(typeof s.finished_at).toBe('string');
  });
});

describe('a port published on any free host port', () => {
  it('comes back from run and from start with the host port the engine picked', async () => {
    const name = uniqueName('mcpt-web');
    const hostPort = async () =>
      (await testDocker().getContainer(name).inspect()).NetworkSettings.Ports['80/tcp']?.[0]?.HostPort;
    const run = await ok<{ ports?: string[] }>('docker_run_container', {
      image: TEST_IMAGE,
      name,
      command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'],
      ports: { '80/tcp': null },
      network_mode: 'bridge',
      labels: testLabels(),
    });
    const first = await hostPort();
    expect(first).toMatch(/^[1-9]\d*$/);
    expect(run.ports).toEqual([`127.0.0.1:${first}->80/tcp`]);

    await ok('docker_stop_container', { container_id: name });
    const started = await ok<{ ports?: string[] }>('docker_start_container', { container_id: name });
    expect(started.ports).toEqual([`127.0.0.1:${await hostPort()}->80/tcp`]);
  });
});
