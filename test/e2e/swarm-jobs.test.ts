/**
 * Swarm jobs and convergence through the compiled binary on the test Swarm: a stack's replicated and
 * global jobs deployed as `docker stack deploy` makes them, listed as `docker service ls` shows them,
 * waited on until their runs completed and scaled as `docker service scale` does; a job made by
 * docker_service_create; a crash-looping service never met, with its task's error; a steady service
 * met only after its tasks stayed up, with no error of the tasks it replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { withSwarm } from '../helpers/swarm.ts';

const swarm = withSwarm();
const IMAGE = process.env.MCP_DOCKER_TEST_IMAGE ?? 'mcp-test/busybox:latest';
const STACK = `mcpt-jobs-${process.pid}`;
const CLI_STACK = `mcpt-jobscli-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'mcpt-jobs-'));
const COMPOSE = `
services:
  j:
    image: ${IMAGE}
    command: ["sh", "-c", "sleep 3"]
    deploy: { mode: replicated-job, replicas: 3 }
  g:
    image: ${IMAGE}
    command: ["sh", "-c", "sleep 2"]
    deploy: { mode: global-job }
`;

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({
    args: ['--toolsets', 'all', '--allow-destructive'],
    env: { DOCKER_HOST: swarm().manager.host },
  });
});
afterAll(async () => {
  await server?.close();
  for (const stack of [STACK, CLI_STACK])
    try {
      swarm().cli(['stack', 'rm', stack]);
    } catch {
      // not there
    }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Waited {
  met: boolean;
  running: number;
  desired: number;
  completed?: number;
  error?: string;
  stable_s?: number;
  waited_s: number;
}
type Row = { name: string; mode: string; replicas: string };

const call = async <T>(tool: string, args: Record<string, unknown>) => {
  const r = await server.client.callTool(tool, args, { timeout: 90_000 });
  if (r.isError) throw new Error(`${tool}: ${JSON.stringify(r.content)}`);
  return structured<T>(r);
};
const wait = (service: string, timeout: number) => call<Waited>('docker_service_wait', { service, timeout });
/** What `docker service ls` prints for these services, the mode as our tools name it. */
const cliRows = (names: string[]) =>
  swarm()
    .cli(['service', 'ls', '--format', '{{.Name}}|{{.Mode}}|{{.Replicas}}'])
    .trim()
    .split('\n')
    .map((l) => l.split('|'))
    .filter(([name]) => names.includes(name ?? ''))
    .map(([name = '', mode = '', replicas = '']): Row => ({ name, mode: mode.replace(' ', '-'), replicas }))
    .sort((a, b) => a.name.localeCompare(b.name));
const ours = async (names: string[]) =>
  (await call<{ services: Row[] }>('docker_service_list', { filters: { name: names } })).services
    .filter((s) => names.includes(s.name))
    .map(({ name, mode, replicas }) => ({ name, mode, replicas }));

describe('swarm jobs through the binary', () => {
  it('deploys a stack of jobs as docker stack deploy does, lists them as docker service ls, and waits for their runs', async () => {
    await call('docker_stack_deploy', { content: COMPOSE, project_name: STACK });
    const j = `${STACK}_j`;
    const g = `${STACK}_g`;
    // Pending or running, not done: a job is met when its tasks completed, not before.
    const early = await wait(j, 1);
    expect(early).toMatchObject({ met: false, desired: 3 });
    expect(early.completed).toBeLessThan(3);

    // The CLI's own deploy of the same file gives the same modes.
    writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
    swarm().cli(['stack', 'deploy', '--resolve-image', 'never', '-c', join(dir, 'compose.yaml'), CLI_STACK]);
    for (const name of ['j', 'g']) {
      const mine = await swarm().raw<{ Spec: { Mode: unknown } }>(
        'manager',
        'GET',
        `/services/${STACK}_${name}`,
      );
      const theirs = await swarm().raw<{ Spec: { Mode: unknown } }>(
        'manager',
        'GET',
        `/services/${CLI_STACK}_${name}`,
      );
      expect(mine.Spec.Mode).toEqual(theirs.Spec.Mode);
    }

    expect(await wait(j, 60)).toMatchObject({ met: true, running: 0, desired: 3, completed: 3 });
    expect(await wait(g, 60)).toMatchObject({ met: true, running: 0, desired: 2, completed: 2 });
    const rows = await ours([g, j]);
    expect(rows).toEqual([
      { name: g, mode: 'global-job', replicas: expect.stringMatching(/^0\/\d \(2\/2 completed\)$/) },
      { name: j, mode: 'replicated-job', replicas: expect.stringMatching(/^0\/\d \(3\/3 completed\)$/) },
    ]);
    expect(rows).toEqual(cliRows([g, j]));
    const stack = await call<{ services: Row[] }>('docker_stack_services', { stack: STACK });
    expect(stack.services.map((s) => s.mode).sort()).toEqual(['global-job', 'replicated-job']);
  }, 120_000);

  it("scales a replicated job's completions as docker service scale does (the job runs again), and refuses a global job", async () => {
    const j = `${STACK}_j`;
    const scaled = await call<{ note?: string }>('docker_service_scale', { service: j, replicas: 4 });
    expect(scaled.note).toBe('The job runs again, to 4 completions.');
    const spec = await swarm().raw<{ Spec: { Mode: unknown } }>('manager', 'GET', `/services/${j}`);
    expect(spec.Spec.Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 4 } });
    expect(await wait(j, 60)).toMatchObject({ met: true, desired: 4, completed: 4 });
    expect(await ours([j])).toEqual(cliRows([j]));

    const refused = await server.client.callTool('docker_service_scale', {
      service: `${STACK}_g`,
      replicas: 3,
    });
    expect(errorOf(refused).kind).toBe('invalid_argument');
    const text = errorOf(refused).message;
    expect(text).toContain('global job');
    expect(text).toContain('constraints');
    const update = await server.client.callTool('docker_service_update', { service: j, replicas: 2 });
    expect(errorOf(update).kind).toBe('invalid_argument');
  }, 120_000);

  it('creates a replicated job with docker_service_create and waits for its completions', async () => {
    const name = `mcpt-job-${process.pid}`;
    await call('docker_service_create', {
      name,
      image: IMAGE,
      mode: 'replicated-job',
      replicas: 2,
      command: ['sh', '-c', 'sleep 1'],
      labels: swarm().labels,
    });
    expect(await wait(name, 60)).toMatchObject({ met: true, desired: 2, completed: 2 });
    expect(await ours([name])).toEqual(cliRows([name]));
    expect((await ours([name]))[0]).toMatchObject({ mode: 'replicated-job' });
  }, 90_000);
});

describe('docker_service_wait on a service that keeps failing', () => {
  const name = `mcpt-crash-${process.pid}`;

  it('is never met while a task runs briefly and exits, and names the exit', async () => {
    await call('docker_service_create', {
      name,
      image: IMAGE,
      command: ['sh', '-c', 'sleep 2; exit 3'],
      labels: swarm().labels,
    });
    const r = await wait(name, 15);
    expect(r.met).toBe(false);
    expect(r.error).toContain('non-zero exit (3)');
  }, 60_000);

  it('is met once the fixed tasks stayed up for the window, with no error of the tasks they replaced', async () => {
    // A task of the failing spec has exited with its error (the history the wait must not report).
    const filters = encodeURIComponent(JSON.stringify({ service: [name] }));
    for (let i = 0; i < 60; i++) {
      const tasks = await swarm().raw<{ Status: { Err?: string } }[]>(
        'manager',
        'GET',
        `/tasks?filters=${filters}`,
      );
      if (tasks.some((t) => t.Status.Err)) break;
      await Bun.sleep(500);
    }
    await call('docker_service_update', {
      service: name,
      command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'],
    });
    const r = await wait(name, 60);
    expect(r).toMatchObject({ met: true, running: 1, desired: 1 });
    expect(r.error).toBeUndefined();
    expect(r.waited_s).toBeGreaterThanOrEqual(5);
    // Stable for longer than the window by the engine's times: met at the first look.
    const again = await wait(name, 1);
    expect(again).toMatchObject({ met: true, running: 1, desired: 1 });
    expect(again.waited_s).toBeLessThan(1);
    // Just updated, a timeout shorter than the window: not met.
    await call('docker_service_update', {
      service: name,
      command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3601 & wait'],
    });
    expect(await wait(name, 1)).toMatchObject({ met: false });
  }, 90_000);
});
