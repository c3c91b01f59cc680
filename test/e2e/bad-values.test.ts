/**
 * Values the engine would misread, through the compiled binary against the real engine: a number past
 * what its int64 fields hold, a map key with a control character, a blank or relative setting. Each is
 * refused naming the field, and nothing is made or changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import {
  cleanupContainers,
  found,
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
const err = async (name: string, args: Record<string, unknown>) => errorOf(await call(name, args));
const named = async (name: string) =>
  (await testDocker().listContainers({ all: true, filters: { name: [name] } })).length;

describe('a CPU count past any host (cpus: 1e300)', () => {
  it('is refused on create, naming cpus, and no container is made (it was made with no CPU limit at all)', async () => {
    const name = uniqueName('mcpt-spec-cpu');
    const e = await err('docker_create_container', {
      image: TEST_IMAGE,
      name,
      network_mode: 'none',
      labels: testLabels(),
      cpus: 1e300,
    });
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("invalid argument 'cpus'");
    expect(await named(name)).toBe(0);
  });

  it('is refused on update, and the limit stays as it was (the update said it succeeded and changed nothing)', async () => {
    const c = await testDocker().createContainer({
      name: uniqueName('mcpt-spec-cpu'),
      Image: TEST_IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: 'none', NanoCpus: 500_000_000 },
    });
    const e = await err('docker_update_container', { container_id: c.id, cpus: 1e300 });
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("invalid argument 'cpus'");
    expect((await c.inspect()).HostConfig.NanoCpus).toBe(500_000_000);
    // A value in range still applies.
    const done = structured<{ applied: { cpus: number } }>(
      await call('docker_update_container', { container_id: c.id, cpus: 0.25 }),
    );
    expect(done.applied.cpus).toBe(0.25);
  });

  it('gives a memory limit past int64 as invalid_argument naming mem_limit, not an internal Go decode error', async () => {
    const name = uniqueName('mcpt-spec-mem');
    const e = await err('docker_create_container', {
      image: TEST_IMAGE,
      name,
      network_mode: 'none',
      labels: testLabels(),
      mem_limit: 1e300,
    });
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("invalid argument 'mem_limit'");
    expect(await named(name)).toBe(0);
  });
});

describe('a label key with a newline', () => {
  it('is refused on create_container and create_volume, naming the key, and nothing is made', async () => {
    const name = uniqueName('mcpt-spec-lbl');
    const e = await err('docker_create_container', {
      image: TEST_IMAGE,
      name,
      network_mode: 'none',
      labels: { ...testLabels(), 'a\nb': 'c' },
    });
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("invalid argument 'labels.a\\nb': the key");
    expect(await named(name)).toBe(0);

    const volume = uniqueName('mcpt-spec-vol');
    const v = await err('docker_create_volume', { name: volume, labels: { 'a\nb': 'c' } });
    expect(v.kind).toBe('invalid_argument');
    expect(v.message).toContain("invalid argument 'labels.a\\nb': the key");
    expect(await found(testDocker().getVolume(volume).inspect())).toBe(false);
  });

  it("has its value checked too: an object under it is refused by the schema, not by the engine's decoder", async () => {
    const e = await err('docker_list_containers', { filters: { 'status\n': 5 } });
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("invalid argument 'filters.status\\n'");
  });
});

describe('create_container settings the engine stores as given', () => {
  it('refuses control characters and blanks in user, hostname and namespace modes, and makes nothing', async () => {
    for (const [field, value] of [
      ['user', 'a\nb'],
      ['hostname', 'h\u0000\nx'],
      ['network_mode', '   \t '],
      ['ipc_mode', 'x\u0000\ny'],
      ['userns_mode', 'x\ny'],
    ] as const) {
      const name = uniqueName('mcpt-spec-txt');
      const args = { image: TEST_IMAGE, name, labels: testLabels(), network_mode: 'none', [field]: value };
      const e = await err('docker_create_container', args);
      expect([field, e.kind]).toEqual([field, 'invalid_argument']);
      expect(e.message).toContain(`invalid argument '${field}'`);
      expect(e.message).toContain('expected: one word');
      expect(await named(name)).toBe(0);
    }
  });

  it('refuses a relative volume path, as the docker CLI does, and makes nothing', async () => {
    const name = uniqueName('mcpt-spec-rel');
    const e = await err('docker_create_container', {
      image: TEST_IMAGE,
      name,
      network_mode: 'none',
      labels: testLabels(),
      volumes: ['rel'],
    });
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain(
      'invalid argument \'volumes.0\': the path in the container, "rel", is not absolute',
    );
    expect(await named(name)).toBe(0);
  });
});
