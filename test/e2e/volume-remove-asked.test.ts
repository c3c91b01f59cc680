/**
 * docker_remove_volume under --confirm, through the compiled binary: a volume a container uses is
 * refused before the user is asked, since accepting could not remove it anyway; the question weighs
 * the data that goes, and says a volume binding a host directory leaves its files.
 */
import { afterAll, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf } from '../helpers/client.ts';
import { askingClient } from '../helpers/elicit.ts';
import { cleanupContainers, TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';

const docker = testDocker();
const volumes: string[] = [];

afterAll(async () => {
  await cleanupContainers();
  for (const v of volumes)
    await docker
      .getVolume(v)
      .remove({ force: true })
      .catch(() => undefined);
});

it('refuses a volume in use, naming the container, without asking the user', async () => {
  const volume = uniqueName('mcpt-vol');
  volumes.push(volume);
  await docker.createVolume({ Name: volume, Labels: testLabels() });
  const name = uniqueName('mcpt-user');
  await docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ['true'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none', Binds: [`${volume}:/data`] },
  });
  const client = await askingClient({
    kind: 'v1',
    env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' },
    answer: () => 'accept',
  });
  try {
    const error = errorOf(await client.callTool('docker_remove_volume', { volume_name: volume }));
    expect(error.kind).toBe('conflict');
    expect(error.message).toContain(name);
    expect(client.asked).toEqual([]);
  } finally {
    await client.close();
  }
  expect((await docker.getVolume(volume).inspect()).Name).toBe(volume);
}, 60_000);

it('says in the question how much data the volume holds, and removes nothing when declined', async () => {
  const volume = uniqueName('mcpt-vol');
  volumes.push(volume);
  await docker.createVolume({ Name: volume, Labels: testLabels() });
  const writer = await docker.createContainer({
    name: uniqueName('mcpt-writer'),
    Image: TEST_IMAGE,
    Cmd: ['dd', 'if=/dev/zero', 'of=/data/f', 'bs=1024', 'count=100'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none', Binds: [`${volume}:/data`] },
  });
  await writer.start();
  await writer.wait();
  await writer.remove();
  const client = await askingClient({
    kind: 'v1',
    env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' },
    answer: () => 'decline',
  });
  try {
    const error = errorOf(await client.callTool('docker_remove_volume', { volume_name: volume }));
    expect(error.kind).toBe('cancelled');
    expect(client.asked).toHaveLength(1);
    expect(client.asked[0]?.message).toContain(`remove volume '${volume}' and all the data in it`);
    expect(client.asked[0]?.message).toMatch(/Space reclaimed: 10\d\.\d KB\./);
  } finally {
    await client.close();
  }
  expect((await docker.getVolume(volume).inspect()).Name).toBe(volume);
}, 60_000);

it('says a volume binding a host directory leaves that directory’s files, not that its data goes', async () => {
  const volume = uniqueName('mcpt-vol');
  volumes.push(volume);
  const device = mkdtempSync(join(tmpdir(), 'mcpt-bindvol-'));
  try {
    await docker.createVolume({
      Name: volume,
      Driver: 'local',
      DriverOpts: { type: 'none', o: 'bind', device },
      Labels: testLabels(),
    });
    const client = await askingClient({
      kind: 'v1',
      env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' },
      answer: () => 'decline',
    });
    try {
      errorOf(await client.callTool('docker_remove_volume', { volume_name: volume }));
      const question = client.asked[0]?.message ?? '';
      expect(question).toContain(
        `remove volume '${volume}' (it binds a host directory: the files there are not deleted)`,
      );
      expect(question).not.toContain('all the data');
      expect(question).not.toContain(device);
    } finally {
      await client.close();
    }
    expect((await docker.getVolume(volume).inspect()).Name).toBe(volume);
  } finally {
    rmSync(device, { recursive: true, force: true });
  }
}, 60_000);
