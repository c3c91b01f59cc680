/**
 * --confirm through the compiled binary, for calls whose every answer would change nothing: a removal
 * the engine would refuse is refused before the user is asked, and a prune with nothing to remove
 * answers at once. A confirmed prune reports the images the question listed (not the layers the
 * engine's answer also names) and the space they freed.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { errorOf, structured } from '../helpers/client.ts';
import { askingClient } from '../helpers/elicit.ts';
import {
  cleanupContainers,
  makeContainer,
  TEST_IMAGE,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';
import { tarEntry, tarOf } from '../helpers/tar.ts';

const docker = testDocker();
const DESTRUCTIVE = { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' };
/** This file's own label: every prune it accepts is limited to it, as the engine may be shared. */
const LABEL = 'mcpt-prune';
const images: string[] = [];

afterAll(async () => {
  await cleanupContainers();
  for (const id of images)
    await docker
      .getImage(id)
      .remove({ force: true })
      .catch(() => undefined);
});

/** An image built from the test image with a file of its own (a layer with bytes), untagged unless `tag`. */
async function buildImage(labelValue: string, tag?: string): Promise<string> {
  const context = tarOf(
    tarEntry('Dockerfile', `FROM ${TEST_IMAGE}\nLABEL ${LABEL}=${labelValue}\nCOPY blob /blob\n`),
    tarEntry('blob', Buffer.alloc(64 * 1024, labelValue)),
  );
  const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
    ...(tag && { t: tag }),
    networkmode: 'none',
  });
  const events = await new Promise<{ aux?: { ID?: string }; stream?: string; error?: string }[]>((ok, ko) =>
    docker.modem.followProgress(stream, (e, out) => (e ? ko(e) : ok(out))),
  );
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(failed.error);
  const built = /Successfully built ([0-9a-f]+)/.exec(events.map((e) => e.stream ?? '').join(''))?.[1];
  const id = events.find((e) => e.aux?.ID)?.aux?.ID ?? built;
  if (!id) throw new Error('the build answered no image ID');
  const full = (await docker.getImage(id).inspect()).Id;
  images.push(full);
  return full;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

const asking = () => askingClient({ kind: 'v1', env: DESTRUCTIVE, answer: () => 'accept' });

describe('removals the engine would refuse', () => {
  it('refuses a running container without force before asking, naming force and docker_stop_container', async () => {
    const c = await makeContainer();
    const client = await asking();
    try {
      const error = errorOf(await client.callTool('docker_remove_container', { container_id: c.name }));
      expect(error.kind).toBe('conflict');
      expect(error.message).toContain(`container '${c.name}' is running`);
      expect(error.message).toContain('docker_stop_container');
      expect(error.message).toContain('force: true');
      expect(client.asked).toEqual([]);
    } finally {
      await client.close();
    }
    expect((await docker.getContainer(c.id).inspect()).State.Running).toBe(true);
  }, 60_000);

  it('still asks once for a running container with force, and removes it on accept', async () => {
    const c = await makeContainer();
    const client = await asking();
    try {
      const out = structured<{ removed: boolean }>(
        await client.callTool('docker_remove_container', { container_id: c.name, force: true }),
      );
      expect(client.asked).toHaveLength(1);
      expect(out.removed).toBe(true);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('refuses an image a container uses before asking, naming the container and what to do', async () => {
    const tag = `${uniqueName(LABEL)}:1`;
    const id = await buildImage(uniqueName('used'), tag);
    const user = uniqueName(`${LABEL}-user`);
    await docker.createContainer({
      name: user,
      Image: id,
      Cmd: ['true'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: 'none' },
    });
    const client = await asking();
    try {
      for (const image of [tag, short(id)]) {
        const error = errorOf(await client.callTool('docker_remove_image', { image }));
        expect(error.kind).toBe('conflict');
        expect(error.message).toContain(`'${user}'`);
        expect(error.message).toContain('docker_remove_container');
      }
      expect(client.asked).toEqual([]);
    } finally {
      await client.close();
    }
    expect((await docker.getImage(id).inspect()).Id).toBe(id);
  }, 120_000);

  it('refuses by ID an image others are built on before asking', async () => {
    const parent = await buildImage(uniqueName('parent'));
    // A child of it: built FROM its ID.
    const context = tarOf(tarEntry('Dockerfile', `FROM ${parent}\nLABEL ${LABEL}=child\n`));
    const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
      networkmode: 'none',
    });
    const events = await new Promise<{ aux?: { ID?: string } }[]>((ok, ko) =>
      docker.modem.followProgress(stream, (e, out) => (e ? ko(e) : ok(out))),
    );
    const child = events.find((e) => e.aux?.ID)?.aux?.ID;
    if (child) images.unshift(child);
    const client = await asking();
    try {
      const error = errorOf(await client.callTool('docker_remove_image', { image: short(parent) }));
      expect(error.kind).toBe('conflict');
      expect(error.message).toContain('built on it');
      expect(client.asked).toEqual([]);
    } finally {
      await client.close();
    }
    expect((await docker.getImage(parent).inspect()).Id).toBe(parent);
  }, 120_000);
});

it('remove image reports the images deleted, not the layers the engine also names', async () => {
  const tag = `${uniqueName(LABEL)}:1`;
  const id = await buildImage(uniqueName('rm'), tag);
  const before = new Set((await docker.listImages({ all: true })).map((i) => short(i.Id)));
  const client = await asking();
  try {
    const out = structured<{ untagged: string[]; deleted: string[] }>(
      await client.callTool('docker_remove_image', { image: tag }),
    );
    expect(client.asked).toHaveLength(1);
    expect(client.asked[0]?.message).toMatch(/Space reclaimed: [1-9][\d.]* [KM]B/);
    expect(out.deleted).toContain(short(id));
    for (const d of out.deleted) expect(before.has(d)).toBe(true);
  } finally {
    await client.close();
  }
}, 120_000);

describe('prunes', () => {
  it('asks nothing and removes nothing when the filter matches nothing', async () => {
    const filters = { label: [`${LABEL}=${uniqueName('none')}`] };
    const client = await asking();
    try {
      const images = structured<{ removed: string[]; count: number }>(
        await client.callTool('docker_prune_images', { filters }),
      );
      expect(images).toMatchObject({ removed: [], count: 0, space_reclaimed: 0 });
      const containers = structured<{ removed: string[]; count: number }>(
        await client.callTool('docker_prune_containers', { filters }),
      );
      expect(containers).toMatchObject({ removed: [], count: 0 });
      const system = structured<{ space_reclaimed: number; images: { removed: number } }>(
        await client.callTool('docker_system_prune', { all: true, filters }),
      );
      expect(system.images.removed).toBe(0);
      expect(system.space_reclaimed).toBe(0);
      expect(client.asked).toEqual([]);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('system prune reports the image the question listed and the space it freed', async () => {
    const value = uniqueName('sys');
    const id = await buildImage(value);
    const client = await asking();
    try {
      const result = await client.callTool('docker_system_prune', {
        filters: { label: [`${LABEL}=${value}`] },
      });
      expect(client.asked).toHaveLength(1);
      const q = client.asked[0]?.message ?? '';
      expect(q).toContain(`1 object will go: image ${short(id)}`);
      expect(q).not.toContain('Space reclaimed: 0 B');
      const out = structured<{
        images: { removed: number; items: string[]; space_reclaimed: number };
        space_reclaimed: number;
      }>(result);
      expect(out.images.removed).toBe(1);
      expect(out.images.items).toEqual([short(id)]);
      expect(out.images.space_reclaimed).toBeGreaterThan(0);
      expect(out.space_reclaimed).toBeGreaterThanOrEqual(out.images.space_reclaimed);
    } finally {
      await client.close();
    }
    expect(
      await docker
        .getImage(id)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(false);
  }, 120_000);

  it('image prune counts the images removed, not their layers, and says the size when asking', async () => {
    const value = uniqueName('img');
    const id = await buildImage(value);
    const client = await asking();
    try {
      const out = structured<{ removed: string[]; count: number; space_reclaimed: number }>(
        await client.callTool('docker_prune_images', { filters: { label: [`${LABEL}=${value}`] } }),
      );
      expect(client.asked).toHaveLength(1);
      expect(client.asked[0]?.message).toMatch(/Space reclaimed: [1-9][\d.]* [KM]B/);
      expect(out).toMatchObject({ removed: [short(id)], count: 1 });
      expect(out.space_reclaimed).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  }, 120_000);
});
