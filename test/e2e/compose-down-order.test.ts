/**
 * docker_compose_stop, _start and _down through the compiled binary: dependents are stopped before what they depend on
 * (read from the containers' labels, as down needs no files), and the containers of one level are
 * stopped together, so a project takes one stop timeout per level rather than one per container.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { type RunningServer, startServer, structured } from '../helpers/client.ts';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, testDocker, testSocket, uniqueName } from '../helpers/engine.ts';
import { ERA_2025, startRaw } from '../helpers/raw-stdio.ts';

let server: RunningServer;
const name = uniqueName('mcpt-down')
  .toLowerCase()
  .replace(/[^a-z0-9-]/g, '');

const GRACE = 4;
// sleep as PID 1 ignores SIGTERM: each stop takes the whole grace period.
const service = (extra = '') => `    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    stop_grace_period: ${GRACE}s
    labels: { ${TEST_LABEL}: "${RUN_ID}" }
${extra}`;
const content = `services:
  db:
${service()}
  web:
${service('    scale: 2\n    depends_on: [db]\n')}`;

beforeAll(async () => {
  server = await startServer({ args: ['--allow-destructive'] }); // for down
  structured(await server.client.callTool('docker_compose_up', { content, project_name: name }));
});

afterAll(async () => {
  await server?.client.callTool('docker_compose_down', { project_name: name }).catch(() => undefined);
  await server?.close();
});

/** The engine's `event` events of this project's containers since `since`, by container (web-1…). */
async function eventTimes(event: string, since: number): Promise<(n: string) => number> {
  const filters = JSON.stringify({
    type: ['container'],
    event: [event],
    label: [`com.docker.compose.project=${name}`],
  });
  const until = Math.ceil(Date.now() / 1000);
  const events = await fetch(
    `http://engine/events?since=${since}&until=${until}&filters=${encodeURIComponent(filters)}`,
    { unix: testSocket() } as RequestInit,
  ).then((r) => r.text());
  const seen = events
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Actor: { Attributes: { name: string } }; timeNano: number });
  expect(seen).toHaveLength(3);
  return (n) => seen.find((e) => e.Actor.Attributes.name === `${name}-${n}`)?.timeNano ?? 0;
}

describe('docker_compose_stop and docker_compose_start', () => {
  it('stops dependents first, each level at once; starts dependencies first', async () => {
    let since = Math.floor(Date.now() / 1000) - 1;
    const started = performance.now();
    const stopped = structured<{ containers: string[] }>(
      await server.client.callTool('docker_compose_stop', { project_name: name }),
    );
    const took = performance.now() - started;
    expect(stopped.containers.sort()).toEqual([`${name}-db-1`, `${name}-web-1`, `${name}-web-2`]);
    const died = await eventTimes('die', since);
    expect(died('db-1')).toBeGreaterThan(Math.max(died('web-1'), died('web-2')));
    expect(Math.abs(died('web-1') - died('web-2')) / 1e9).toBeLessThan(1);
    expect(took).toBeLessThan(3 * GRACE * 1000);

    since = Math.floor(Date.now() / 1000) - 1;
    structured(await server.client.callTool('docker_compose_start', { project_name: name }));
    const up = await eventTimes('start', since);
    expect(up('db-1')).toBeLessThan(Math.min(up('web-1'), up('web-2')));
  }, 60_000);
});

describe('docker_compose_down', () => {
  it('stops dependents first, each level at once', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const started = performance.now();
    const out = structured<{ steps: string[] }>(
      await server.client.callTool('docker_compose_down', { project_name: name }),
    );
    const took = performance.now() - started;
    expect(out.steps.filter((s) => s.startsWith('container ')).sort()).toEqual([
      `container ${name}-db-1 removed`,
      `container ${name}-web-1 removed`,
      `container ${name}-web-2 removed`,
    ]);
    const at = await eventTimes('die', since);
    // Both web containers were down before db was asked to stop, and they went down together.
    expect(at('db-1')).toBeGreaterThan(Math.max(at('web-1'), at('web-2')));
    expect(Math.abs(at('web-1') - at('web-2')) / 1e9).toBeLessThan(1);
    // Two levels of one grace period each: three stops one after another take at least three.
    expect(took).toBeLessThan(3 * GRACE * 1000);
  }, 60_000);
});

/**
 * Calls `tool` on the project in a server of its own, and ends that server's stdin once both web
 * containers are down (db, a level later, still has its grace period to go): the call is cancelled by
 * the shutdown, and its answer is the one text the caller gets.
 */
async function shutDownAfterWeb(tool: string): Promise<string> {
  const s = startRaw({ DOCKER_HOST: process.env.DOCKER_HOST ?? '' }, [
    '--allow-destructive',
    '--shutdown-grace',
    '1',
  ]);
  await s.request({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: ERA_2025, capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  await s.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  await s.write(
    `${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: tool, arguments: { project_name: name } } })}\n`,
  );
  const webDown = async () => {
    const cs = await testDocker().listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${name}`, 'com.docker.compose.service=web'] },
    });
    // Stopped by stop, or stopped and removed by down.
    return cs.length === 0 || cs.every((c) => c.State !== 'running');
  };
  while (!(await webDown())) await Bun.sleep(100);
  await Bun.sleep(500); // the server's own answer from the engine, after the engine's state
  s.child.stdin.end();
  const answer = (await s.waitFor(2, 15_000)) as {
    result: { isError?: boolean; content: { text: string }[] };
  };
  await s.close();
  expect(answer.result.content[0]?.text).toStartWith('cancelled:');
  expect(answer.result.isError).toBe(true);
  return answer.result.content[0]?.text ?? '';
}

describe('a project call stopped part-way', () => {
  it('says which containers it already stopped, and which it already removed', async () => {
    structured(await server.client.callTool('docker_compose_up', { content, project_name: name }));
    const stop = await shutDownAfterWeb('docker_compose_stop');
    expect(stop).toStartWith('cancelled: docker_compose_stop was cancelled: the server is shutting down');
    expect(stop).toMatch(new RegExp(`stopped before it stopped: ${name}-web-\\d, ${name}-web-\\d\\b`));
    expect(stop).toContain('Run docker_compose_stop again to stop the rest.');

    // db's stop, cut short in the server, goes on in the engine: started before it ends, db would stay down.
    await testDocker().getContainer(`${name}-db-1`).wait({ condition: 'not-running' });
    structured(await server.client.callTool('docker_compose_start', { project_name: name }));
    const down = await shutDownAfterWeb('docker_compose_down');
    expect(down).toMatch(
      new RegExp(`removed before it stopped: container ${name}-web-\\d, container ${name}-web-\\d\\b`),
    );
    expect(down).toContain('Run docker_compose_down again to remove the rest.');
  }, 90_000);
});
