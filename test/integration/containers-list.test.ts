import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { cleanupContainers, makeContainer, RUN_ID, TEST_IMAGE, TEST_LABEL } from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';
import { reportedImage } from '../helpers/podman.ts';

afterAll(cleanupContainers);

interface Listed {
  containers: Record<string, unknown>[];
  count: number;
  total?: number;
}

/** Only this run's containers: other suites' may come and go meanwhile. */
const ours = { label: [`${TEST_LABEL}=${RUN_ID}`] };
const list = (args: Record<string, unknown> = {}) =>
  callOk<Listed>('docker_list_containers', { filters: ours, ...args });

let running: { id: string; name: string };
let created: { id: string; name: string };

beforeAll(async () => {
  running = await makeContainer();
  created = await makeContainer({ start: false });
});

describe('docker_list_containers', () => {
  it('lists running containers as compact rows: short id, name, image, state, status', async () => {
    const out = await list();
    const row = out.containers.find((c) => c.name === running.name);
    expect(row).toEqual({
      id: running.id.slice(0, 12),
      name: running.name,
      image: reportedImage(TEST_IMAGE),
      state: 'running',
      status: expect.stringMatching(/^Up /),
    });
    expect(out.containers.map((c) => c.name)).not.toContain(created.name);
    expect(out.count).toBe(out.containers.length);
  });

  it('includes stopped and created containers with all: true', async () => {
    const out = await list({ all: true });
    const names = out.containers.map((c) => c.name);
    expect(names).toContain(running.name);
    expect(names).toContain(created.name);
    expect(out.containers.find((c) => c.name === created.name)?.state).toBe('created');
  });

  it('returns at most limit rows: count says how many, total how many matched', async () => {
    const out = await list({ all: true, limit: 1 });
    expect(out.containers).toHaveLength(1);
    expect(out.count).toBe(1);
    expect(out.total).toBe(2);
    const capped = await callOk<Listed>(
      'docker_list_containers',
      { filters: ours, all: true },
      {
        limits: { maxListResults: 1 },
      },
    );
    expect([capped.count, capped.total]).toEqual([1, 2]);
    expect((await list({ all: true })).total).toBeUndefined();
  });

  it('keeps to running containers under a limit, though the newest container is a stopped one', async () => {
    // The engine's own limit counts stopped containers too: `created` is the newest here.
    const out = await list({ limit: 1 });
    expect(out.containers.map((c) => c.name)).toEqual([running.name]);
  });

  it('returns the engine documents with full: true', async () => {
    const out = await list({ full: true });
    const doc = out.containers.find((c) => c.Id === running.id);
    expect(doc).toMatchObject({ Id: running.id, Names: [`/${running.name}`], State: 'running' });
    expect(doc?.Labels).toMatchObject({ [TEST_LABEL]: RUN_ID });
  });

  it('rejects a filter given as a string, naming the field', async () => {
    const err = await callErr('docker_list_containers', { filters: { label: 'x=y' } });
    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("argument 'filters.label'");
  });
});
