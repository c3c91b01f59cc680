import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cleanupContainers,
  found,
  RUN_ID,
  TEST_IMAGE,
  TEST_LABEL,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';
import { podmanDiffers } from '../helpers/podman.ts';

const OURS = `${TEST_LABEL}=${RUN_ID}`;
const workDir = mkdtempSync(join(tmpdir(), 'mcpt-vol-'));

afterAll(async () => {
  await cleanupContainers();
  const docker = testDocker();
  for (const v of (await docker.listVolumes({ filters: { label: [OURS] } })).Volumes ?? [])
    await docker
      .getVolume(v.Name)
      .remove()
      .catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
});

const { ApiVersion } = await testDocker().version();
const [apiMajor = 0, apiMinor = 0] = ApiVersion.split('.').map(Number);
const pruneSparesNamed = apiMajor > 1 || apiMinor >= 42;

const makeVolume = async (labels: Record<string, string> = {}) => {
  const name = uniqueName('mcpt-vol');
  await testDocker().createVolume({ Name: name, Labels: { ...testLabels(), ...labels } });
  return name;
};
const volumeExists = (name: string) => found(testDocker().getVolume(name).inspect());

/** A labelled container (no network) that mounts `volume` at /data; runs `cmd` if given. */
async function mounting(volume: string, cmd?: string) {
  const name = uniqueName('mcpt');
  const c = await testDocker().createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ['sh', '-c', cmd ?? 'sleep 3600'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none', Binds: [`${volume}:/data`] },
  });
  if (cmd) {
    await c.start();
    await c.wait();
  }
  return { id: c.id, name };
}

interface Summary {
  name: string;
  driver: string;
  mountpoint: string;
  created?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  used_by?: string[];
}

describe('docker_create_volume', () => {
  it('creates a named volume with labels and driver options', async () => {
    const name = uniqueName('mcpt-vol');

    const out = await callOk<Summary>('docker_create_volume', {
      name,
      labels: { ...testLabels(), role: 'cache' },
      driver_opts: {
        type: 'tmpfs',
        device: 'tmpfs',
        o: podmanDiffers('volume-quota-options') ? 'nodev' : 'size=1m',
      },
    });

    expect(out).toMatchObject({ name, driver: 'local', scope: 'local', options: { type: 'tmpfs' } });
    expect(out.labels).toEqual({ ...testLabels(), role: 'cache' });
    expect(out.mountpoint).toContain(name);
    expect((await testDocker().getVolume(name).inspect()).Labels).toMatchObject({ role: 'cache' });
  });

  it('lets the engine generate a name when none is given', async () => {
    const out = await callOk<Summary>('docker_create_volume', { labels: testLabels() });

    expect(out.name).toMatch(/^[0-9a-f]{64}$/);
    expect(await volumeExists(out.name)).toBe(true);
  });

  it('answers conflict for a name that exists, leaving that volume as it was', async () => {
    const name = await makeVolume({ keep: 'me' });

    const err = await callErr('docker_create_volume', { name, labels: { other: 'x' } });

    expect(err.kind).toBe('conflict');
    expect(err.message).toBe(`volume '${name}' already exists`);
    expect((await testDocker().getVolume(name).inspect()).Labels).toEqual({ ...testLabels(), keep: 'me' });
  });

  it('rejects a name the engine would refuse, naming the field', async () => {
    const err = await callErr('docker_create_volume', { name: 'a' });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("'name'");
  });

  it('refuses driver options that bind a sensitive host path, and creates nothing', async () => {
    const name = uniqueName('mcpt-vol');

    const absolute = await callErr('docker_create_volume', {
      name,
      driver_opts: { type: 'none', o: 'bind', device: '/etc' },
    });
    // The engine would resolve a relative device against its working directory, often '/'.
    const relative = await callErr('docker_create_volume', {
      name,
      driver_opts: { type: 'none', o: 'bind', device: 'etc' },
    });

    expect(absolute.kind).toBe('policy_denied');
    expect(absolute.message).toContain("'/etc'");
    expect(absolute.hint).toContain('SAFETY_VOLUME_MOUNT_ALLOWLIST');
    expect(relative.kind).toBe('invalid_argument');
    expect(relative.message).toContain('not absolute');
    expect(await volumeExists(name)).toBe(false);
  });

  it('answers a driver the engine has no plugin for as the driver argument at fault', async () => {
    const name = uniqueName('mcpt-vol');
    const err = await callErr('docker_create_volume', { name, driver: uniqueName('mcpt-nodriver') });

    expect(err.kind).toBe('invalid_argument');
    expect(err.hint).toContain('driver');
    expect(err.hint).not.toContain('docker_list_volumes');
    expect(await volumeExists(name)).toBe(false);
  }, 60_000);

  it('binds a harmless host directory', async () => {
    const name = uniqueName('mcpt-vol');

    const out = await callOk<Summary>('docker_create_volume', {
      name,
      labels: testLabels(),
      driver_opts: { type: 'none', o: 'bind', device: workDir },
    });

    expect(out.options).toEqual({ type: 'none', o: 'bind', device: workDir });
  });
});

describe('docker_list_volumes', () => {
  it("answers a filter the engine does not take naming the 'filters' argument and the key", async () => {
    const err = await callErr('docker_list_volumes', { filters: { bogus: ['x'] } });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("invalid argument 'filters'");
    expect(err.message).toContain("'bogus'");
  });

  it('lists volumes as compact rows, narrowed by label', async () => {
    const batch = uniqueName('b');
    const a = await makeVolume({ 'mcpt-batch': batch });
    const b = await makeVolume({ 'mcpt-batch': batch });

    const out = await callOk<{ volumes: Record<string, unknown>[]; count: number }>('docker_list_volumes', {
      filters: { label: [`mcpt-batch=${batch}`] },
    });

    expect(out.count).toBe(2);
    expect(out.volumes.map((v) => v.name).sort()).toEqual([a, b].sort());
    for (const row of out.volumes) {
      expect(row).toMatchObject({ driver: 'local', labels: 2 });
      expect(Date.parse(String(row.created))).not.toBeNaN();
      expect(Object.keys(row).sort()).toEqual(['created', 'driver', 'labels', 'name']);
    }
  });

  it('tells dangling volumes from used ones, and honours limit', async () => {
    const batch = uniqueName('b');
    const used = await makeVolume({ 'mcpt-batch': batch });
    const unused = await makeVolume({ 'mcpt-batch': batch });
    await mounting(used);
    const list = async (dangling: string) =>
      (
        await callOk<{ volumes: { name: string }[] }>('docker_list_volumes', {
          filters: { label: [`mcpt-batch=${batch}`], dangling: [dangling] },
        })
      ).volumes.map((v) => v.name);

    if (podmanDiffers('volume-filters-any')) {
      const err = await callErr('docker_list_volumes', {
        filters: { label: [`mcpt-batch=${batch}`], dangling: ['true'] },
      });
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain('is Podman, whose volume filters match any');
      const dangling = async (d: string) =>
        (
          await callOk<{ volumes: { name: string }[] }>('docker_list_volumes', { filters: { dangling: [d] } })
        ).volumes.map((v) => v.name);
      expect(await dangling('true')).toContain(unused);
      expect(await dangling('true')).not.toContain(used);
      expect(await dangling('false')).toContain(used);
    } else {
      expect(await list('true')).toEqual([unused]);
      expect(await list('false')).toEqual([used]);
    }
    expect(
      (await callOk<{ count: number }>('docker_list_volumes', { filters: { label: [OURS] }, limit: 1 }))
        .count,
    ).toBe(1);
  });
});

describe('docker_inspect_volume', () => {
  it('summarises a volume with the containers that use it', async () => {
    const name = await makeVolume();
    const c = await mounting(name);

    const out = await callOk<Summary>('docker_inspect_volume', { volume_name: name });

    expect(out).toMatchObject({ name, driver: 'local', labels: testLabels(), used_by: [c.name] });
  });

  it('returns the engine document with full: true', async () => {
    const name = await makeVolume();

    const out = await callOk('docker_inspect_volume', { volume_name: name, full: true });

    expect(out).toMatchObject({ Name: name, Driver: 'local', Labels: testLabels() });
    expect(out.Mountpoint).toBeDefined();
  });

  it('answers not_found naming the close candidates and the list tool', async () => {
    const name = await makeVolume();

    const err = await callErr('docker_inspect_volume', { volume_name: `${name}x` });

    expect(err.kind).toBe('not_found');
    expect(err.message).toBe(`volume '${name}x' not found`);
    expect(err.hint).toContain(`'${name}'`);
    expect(err.hint).toContain('docker_list_volumes');
  });
});

describe('docker_remove_volume', () => {
  it('removes an unused volume', async () => {
    const name = await makeVolume();

    expect(await callOk('docker_remove_volume', { volume_name: name })).toEqual({ name, removed: true });
    expect(await volumeExists(name)).toBe(false);
  });

  it('refuses a volume a stopped container uses, even with force, naming the container', async () => {
    const name = await makeVolume();
    const c = await mounting(name);

    for (const force of [false, true]) {
      const err = await callErr('docker_remove_volume', { volume_name: name, force });
      expect(err.kind).toBe('conflict');
      expect(err.message).toContain(`'${c.name}'`);
      expect(err.hint).toContain('docker_remove_container');
    }
    expect(await volumeExists(name)).toBe(true);
  });

  it('answers not_found for a missing volume, and removed: false with force', async () => {
    const name = uniqueName('mcpt-vol');

    const err = await callErr('docker_remove_volume', { volume_name: name });

    expect(err.kind).toBe('not_found');
    expect(err.hint).toContain('docker_list_volumes');
    expect(await callOk('docker_remove_volume', { volume_name: name, force: true })).toEqual({
      name,
      removed: false,
    });
  });

  it('is refused when destructive tools are off', async () => {
    const name = await makeVolume();

    const err = await callErr(
      'docker_remove_volume',
      { volume_name: name },
      { profile: { allowDestructive: false } },
    );

    expect(err.kind).toBe('policy_denied');
    expect(await volumeExists(name)).toBe(true);
  });
});

describe('docker_prune_volumes', () => {
  it.if(!pruneSparesNamed)(
    'refuses without all: true on an engine whose prune removes named volumes too, removing nothing',
    async () => {
      const batch = uniqueName('b');
      const name = await makeVolume({ 'mcpt-batch': batch });

      const err = await callErr('docker_prune_volumes', { filters: { label: [`mcpt-batch=${batch}`] } });

      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain(`API ${ApiVersion}`);
      expect(err.hint).toContain('all: true');
      expect(await volumeExists(name)).toBe(true);
    },
  );

  it('with all: true removes unused volumes matching the filter and reports the space reclaimed', async () => {
    const batch = { 'mcpt-batch': uniqueName('b') };
    const withData = await makeVolume(batch);
    const empty = await makeVolume(batch);
    const used = await makeVolume(batch);
    const unrelated = await makeVolume();
    await mounting(used);
    // Write 64 KiB, then drop the writer so the volume is unused.
    const writer = await mounting(withData, 'head -c 65536 /dev/zero > /data/blob');
    await testDocker().getContainer(writer.id).remove();

    const both = { label: [OURS, `mcpt-batch=${batch['mcpt-batch']}`] };
    if (podmanDiffers('volume-filters-any')) {
      const err = await callErr('docker_prune_volumes', { all: true, filters: both });
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain('is Podman, whose volume filters match any');
      for (const v of [withData, empty, used, unrelated]) expect(await volumeExists(v)).toBe(true);
    }
    // On Podman, one condition (the batch label is unique to this test) prunes the same volumes.
    const filters = podmanDiffers('volume-filters-any') ? { label: [both.label[1] as string] } : both;
    const out = await callOk<{ removed: string[]; count: number; space_reclaimed: number }>(
      'docker_prune_volumes',
      { all: true, filters },
    );

    expect(out.removed.sort()).toEqual([withData, empty].sort());
    expect(out.count).toBe(2);
    expect(out.space_reclaimed).toBeGreaterThanOrEqual(65536);
    expect(await volumeExists(used)).toBe(true);
    expect(await volumeExists(unrelated)).toBe(true);
  });
});
