import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanupContainers,
  imageExists as exists,
  TEST_IMAGE,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';
import { podmanDiffers, reportedImage } from '../helpers/podman.ts';

/**
 * Every image made here is either a tag of TEST_IMAGE in REPO (removing it only untags) or a commit
 * labelled OWN_LABEL (removing it deletes only our own layers). TEST_IMAGE itself is never removed.
 */
const REPO = uniqueName('mcpt-img');
const OWN = uniqueName('own');
const OWN_LABEL = `mcpt-images=${OWN}`;
const dir = mkdtempSync('/tmp/mcpt-img-');

const docker = testDocker();
const imageId = async (ref: string) => (await docker.getImage(ref).inspect()).Id;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** A new image (its own ID) tagged REPO:tag, made by committing a stopped container of TEST_IMAGE. */
async function commitImage(tag: string, extraLabel?: string): Promise<string> {
  const c = await docker.createContainer({
    name: uniqueName('mcpt-img-src'),
    Image: TEST_IMAGE,
    Cmd: ['sleep', '3600'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none' },
  });
  const changes = [`LABEL ${OWN_LABEL}`, ...(extraLabel ? [`LABEL ${extraLabel}`] : [])];
  await c.commit({ repo: REPO, tag, changes });
  await c.remove({ force: true });
  // The ID as inspect gives it ('sha256:…'): Podman's commit answers it without the prefix.
  return imageId(`${REPO}:${tag}`);
}

/** A stopped (or running) container of `image`, labelled for cleanup. */
async function containerOf(image: string, start = false): Promise<string> {
  const name = uniqueName('mcpt-img-user');
  const c = await docker.createContainer({
    name,
    Image: image,
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none' },
  });
  if (start) await c.start();
  return name;
}

beforeAll(async () => {
  await docker.getImage(TEST_IMAGE).tag({ repo: REPO, tag: 'base' });
});

afterAll(async () => {
  await cleanupContainers();
  // Untag our names first (TEST_IMAGE keeps its own), then delete our committed images by label.
  const mine = await docker.listImages({ filters: { reference: [REPO, `${REPO}-t`] } });
  for (const tag of mine.flatMap((i) => i.RepoTags ?? []))
    await docker
      .getImage(tag)
      .remove()
      .catch(() => undefined);
  const committed = await docker.listImages({ all: true, filters: { label: [OWN_LABEL] } });
  for (const i of committed)
    await docker
      .getImage(i.Id)
      .remove({ force: true })
      .catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  id: string;
  tags: string[];
  size: number;
  created: string;
}

describe('docker_list_images', () => {
  it('lists only the images a reference filter matches, as compact rows', async () => {
    const out = await callOk<{ images: Row[]; count: number }>('docker_list_images', {
      filters: { reference: [`${REPO}:base`] },
    });

    expect(out.count).toBe(1);
    const [row] = out.images;
    expect(row?.id).toBe(short(await imageId(TEST_IMAGE)));
    expect(row?.tags).toContain(reportedImage(`${REPO}:base`));
    expect(row?.size).toBeGreaterThan(0);
    expect(row?.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Object.keys(row ?? {}).sort()).toEqual(['created', 'id', 'size', 'tags']);
  });

  it('returns at most limit rows and says how many matched', async () => {
    await commitImage('list');

    const out = await callOk<{ images: Row[]; count: number; total?: number }>('docker_list_images', {
      limit: 1,
    });

    expect(out.count).toBe(1);
    expect(out.total).toBeGreaterThanOrEqual(2);
  });
});

describe('docker_inspect_image', () => {
  it('summarises an image, and returns the engine document with full', async () => {
    const summary = await callOk('docker_inspect_image', { image: `${REPO}:base` });

    expect(summary).toMatchObject({
      id: short(await imageId(TEST_IMAGE)),
      cmd: ['/bin/sh'],
      platform: expect.stringMatching(/^linux\//),
    });
    expect(summary.tags).toContain(reportedImage(`${REPO}:base`));
    expect(summary.layers).toBeGreaterThanOrEqual(1);
    expect(summary.RootFS).toBeUndefined();

    const full = await callOk('docker_inspect_image', { image: `${REPO}:base`, full: true });
    expect(full.Id).toBe(await imageId(TEST_IMAGE));
    expect(full.RootFS).toBeDefined();
  });

  it('answers not_found naming the close tags', async () => {
    const err = await callErr('docker_inspect_image', { image: `${REPO}:nope` });

    expect(err.kind).toBe('not_found');
    expect(err.message).toContain(`'${REPO}:nope'`);
    expect(err.hint).toContain(`'${reportedImage(`${REPO}:base`)}'`);
  });

  it('refuses a reference that would reach another engine endpoint', async () => {
    const err = await callErr('docker_inspect_image', { image: '../containers/anything' });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("'image'");
  });
});

describe('docker_image_history', () => {
  it('lists layers newest first with the instruction that made each, and honours limit', async () => {
    const id = await commitImage('hist');

    const out = await callOk<{
      layers: { id?: string; created_by: string; size: number }[];
      count: number;
      total?: number;
    }>('docker_image_history', { image: `${REPO}:hist` });

    expect(out.count).toBe(2);
    if (podmanDiffers('commit-history')) expect(out.layers[0]).toMatchObject({ created_by: '/bin/sh' });
    else expect(out.layers[0]).toMatchObject({ id: short(id), created_by: 'sleep 3600', size: 0 });
    expect(out.layers[1]?.size).toBeGreaterThan(0);

    const one = await callOk('docker_image_history', { image: `${REPO}:hist`, limit: 1 });
    expect(one).toMatchObject({ count: 1, total: 2 });
  });
});

describe('docker_tag_image', () => {
  it('adds a tag with moderate alone, re-tags the same image without force, and removing the tag keeps the image', async () => {
    const base = await imageId(TEST_IMAGE);
    const moderate = { profile: { allowDestructive: false } };
    const args = { image: `${REPO}:base`, repository: `${REPO}-t`, tag: 'v1' };

    const out = await callOk('docker_tag_image', args, moderate);

    expect(out).toEqual({ id: short(base), tagged: `${REPO}-t:v1` });
    expect(await imageId(`${REPO}-t:v1`)).toBe(base);
    expect(await callOk('docker_tag_image', args, moderate)).toEqual(out);

    const removed = await callOk('docker_remove_image', { image: `${REPO}-t:v1` });
    expect(removed).toEqual({ untagged: [reportedImage(`${REPO}-t:v1`)], deleted: [] });
    expect(await imageId(`${REPO}:base`)).toBe(base);
  });

  it('moves a tag that is on another image only with force and the destructive tier, the old image keeping its other tags', async () => {
    const base = await imageId(TEST_IMAGE);
    await callOk('docker_tag_image', { image: `${REPO}:base`, repository: `${REPO}-t`, tag: 'mv' });
    const other = await commitImage('mv-src');
    const args = { image: other, repository: `${REPO}-t`, tag: 'mv' };

    // Without force: a conflict naming force, whatever the tier.
    const conflict = await callErr('docker_tag_image', args);
    expect(conflict.kind).toBe('conflict');
    expect(conflict.message).toContain(`'${REPO}-t:mv' is already on image ${short(base)}`);
    expect(conflict.hint).toContain('force: true');
    expect(await imageId(`${REPO}-t:mv`)).toBe(base);

    // With force while destructive is off: refused by the gate, naming force and the setting.
    const denied = await callErr(
      'docker_tag_image',
      { ...args, force: true },
      { profile: { allowDestructive: false } },
    );
    expect(denied.kind).toBe('policy_denied');
    expect(denied.message).toContain("docker_tag_image with 'force' is destructive");
    expect(denied.hint).toContain('SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true');
    expect(await imageId(`${REPO}-t:mv`)).toBe(base);

    // With force and destructive on: moved, saying from where.
    const moved = await callOk('docker_tag_image', { ...args, force: true });
    expect(moved).toEqual({ id: short(other), tagged: `${REPO}-t:mv`, moved_from: short(base) });
    expect(await imageId(`${REPO}-t:mv`)).toBe(other);
    expect(await imageId(`${REPO}:base`)).toBe(base);
    expect(await imageId(TEST_IMAGE)).toBe(base);

    const removed = await callOk('docker_remove_image', { image: `${REPO}-t:mv` });
    expect(removed).toEqual({ untagged: [reportedImage(`${REPO}-t:mv`)], deleted: [] });
    expect(await exists(other)).toBe(true);
  });

  it('tags as latest when no tag is given', async () => {
    expect(
      await callOk('docker_tag_image', { image: `${REPO}:base`, repository: `${REPO}-t` }),
    ).toMatchObject({
      tagged: `${REPO}-t:latest`,
    });
    expect(await exists(`${REPO}-t:latest`)).toBe(true);
  });

  it('refuses a repository that carries a tag, saying how to split it', async () => {
    const err = await callErr('docker_tag_image', { image: `${REPO}:base`, repository: `${REPO}-t:v2` });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("'repository'");
    expect(err.hint).toContain(`repository: '${REPO}-t', tag: 'v2'`);
    expect(await exists(`${REPO}-t:v2`)).toBe(false);
  });
});

describe('docker_remove_image', () => {
  it('refuses an image a stopped container uses, naming it; force removes it anyway', async () => {
    const id = await commitImage('used');
    const user = await containerOf(`${REPO}:used`);

    const err = await callErr('docker_remove_image', { image: `${REPO}:used` });

    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(`container '${user}'`);
    expect(err.hint).toContain('force: true');
    expect(await exists(id)).toBe(true);

    if (podmanDiffers('forced-rmi-removes-containers')) {
      const refused = await callErr('docker_remove_image', { image: `${REPO}:used`, force: true });
      expect(refused.kind).toBe('conflict');
      expect(refused.message).toContain(
        `is Podman, whose forced image removal also removes the containers using it ('${user}')`,
      );
      expect(await exists(id)).toBe(true);
      expect((await docker.getContainer(user).inspect()).Name).toBe(`/${user}`);
      return;
    }
    const out = await callOk('docker_remove_image', { image: `${REPO}:used`, force: true });
    expect(out).toEqual({ untagged: [`${REPO}:used`], deleted: [short(id)] });
    expect(await exists(id)).toBe(false);
  });

  it('refuses an image a running container uses even with force, saying to stop the container', async () => {
    const id = await commitImage('running');
    const user = await containerOf(id, true);
    if (podmanDiffers('forced-rmi-removes-containers')) {
      // Podman would remove the running container with the image: refused before the request.
      const err = await callErr('docker_remove_image', { image: `${REPO}:running`, force: true });
      expect(err.kind).toBe('conflict');
      expect(err.message).toContain(`('${user}')`);
      expect((await docker.getContainer(user).inspect()).State.Running).toBe(true);
      expect(await exists(id)).toBe(true);
      return;
    }
    // Forced removal of the tag only untags it (the engine keeps the image); the ID is what is left.
    await docker.getImage(`${REPO}:running`).remove({ force: true });

    const err = await callErr('docker_remove_image', { image: id, force: true });

    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(`running container '${user}'`);
    expect(err.hint).toContain('Stop and remove');
    expect(await exists(id)).toBe(true);
  });

  it('answers not_found for an unknown image', async () => {
    const err = await callErr('docker_remove_image', { image: `${REPO}:missing` });

    expect(err.kind).toBe('not_found');
    expect(err.hint).toContain('docker_list_images');
  });
});

describe('docker_prune_images', () => {
  it('removes only dangling images by default, and unused tagged ones with all', async () => {
    const label = `mcpt-prune=${uniqueName('p')}`;
    const dangling = await commitImage('prune', label);
    const tagged = await commitImage('prune', label); // takes the tag: the first is now dangling
    const filters = { label: [label] };

    const first = await callOk('docker_prune_images', { filters });

    expect(first).toMatchObject({ removed: [short(dangling)], untagged: [], count: 1 });
    expect(await exists(dangling)).toBe(false);
    expect(await exists(tagged)).toBe(true);

    if (podmanDiffers('no-tagged-image-prune')) {
      const err = await callErr('docker_prune_images', { all: true, filters });
      expect(err.message).toBe(
        "engine 'default' is Podman, whose Docker API has no prune of unused tagged images (dangling=false)",
      );
      expect(await exists(tagged)).toBe(true);
      return;
    }
    const second = await callOk('docker_prune_images', { all: true, filters });

    expect(second).toMatchObject({ removed: [short(tagged)], untagged: [`${REPO}:prune`], count: 1 });
    expect(await exists(tagged)).toBe(false);
    expect(await exists(TEST_IMAGE)).toBe(true);
  });
});

type Progress = { progress: number; total?: number; message?: string };

describe('docker_save_image / docker_load_image', () => {
  it('round-trips an image through a tar on the host, reporting progress both ways', async () => {
    const id = await commitImage('rt');
    const path = join(dir, 'rt.tar');
    const saving: Progress[] = [];

    const saved = await callOk(
      'docker_save_image',
      { images: `${REPO}:rt`, path },
      { onProgress: (p) => saving.push(p) },
    );

    expect(saved).toEqual({ path, bytes: statSync(path).size, images: [`${REPO}:rt`] });
    expect(saved.bytes).toBeGreaterThan(100_000);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(saving.length).toBeGreaterThan(0);
    expect(saving.at(-1)?.progress).toBe(saved.bytes as number);

    await docker.getImage(`${REPO}:rt`).remove();
    expect(await exists(id)).toBe(false);

    const loading: Progress[] = [];
    const loaded = await callOk('docker_load_image', { path }, { onProgress: (p) => loading.push(p) });

    expect(loaded).toEqual({ path, bytes: saved.bytes, images: [reportedImage(`${REPO}:rt`)] });
    expect(await imageId(`${REPO}:rt`)).toBe(id);
    expect(loading.length).toBeGreaterThan(0);
    expect(loading.at(-1)).toMatchObject({ progress: saved.bytes, total: saved.bytes });
  });

  it('saves several images into one tar', async () => {
    const path = join(dir, 'two.tar');
    await commitImage('two');

    const out = await callOk('docker_save_image', { images: [`${REPO}:base`, `${REPO}:two`], path });

    expect(out.images).toEqual([`${REPO}:base`, `${REPO}:two`]);
    expect(readFileSync(path).includes(Buffer.from('manifest.json'))).toBe(true);
  });

  it('replaces an existing file only with overwrite and the destructive tier', async () => {
    const path = join(dir, 'exists.tar');
    writeFileSync(path, 'keep me');
    const args = { images: `${REPO}:base`, path };

    // Without overwrite: a conflict naming it, whatever the tier.
    const err = await callErr('docker_save_image', args);
    expect(err.kind).toBe('conflict');
    expect(err.hint).toContain('overwrite: true');
    expect(readFileSync(path, 'utf8')).toBe('keep me');

    // With overwrite while destructive is off: refused by the gate, the file untouched.
    const before = sha256(path);
    const denied = await callErr(
      'docker_save_image',
      { ...args, overwrite: true },
      { profile: { allowDestructive: false } },
    );
    expect(denied.kind).toBe('policy_denied');
    expect(denied.message).toContain("docker_save_image with 'overwrite' is destructive");
    expect(denied.hint).toContain('SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true');
    expect(sha256(path)).toBe(before);
    expect(readdirSync(dir).filter((f) => f.includes('exists.tar'))).toEqual(['exists.tar']);

    // With overwrite and destructive on: replaced.
    const out = await callOk('docker_save_image', { ...args, overwrite: true });
    expect(statSync(path).size).toBe(out.bytes as number);
    expect(sha256(path)).not.toBe(before);
  });

  it('saves to a new file with moderate alone', async () => {
    const path = join(dir, 'new-moderate.tar');
    const out = await callOk(
      'docker_save_image',
      { images: `${REPO}:base`, path },
      { profile: { allowDestructive: false } },
    );
    expect(statSync(path).size).toBe(out.bytes as number);
  });

  it('refuses a relative path, a missing directory and an unknown image without writing anything', async () => {
    const rel = await callErr('docker_save_image', { images: `${REPO}:base`, path: 'images.tar' });
    expect(rel.kind).toBe('invalid_argument');
    expect(rel.message).toContain("'path'");

    const noDir = await callErr('docker_save_image', { images: `${REPO}:base`, path: join(dir, 'no/x.tar') });
    expect(noDir.kind).toBe('not_found');
    expect(noDir.message).toContain(join(dir, 'no'));

    const path = join(dir, 'missing.tar');
    const missing = await callErr('docker_save_image', { images: [`${REPO}:base`, `${REPO}:absent`], path });
    expect(missing.kind).toBe('not_found');
    expect(missing.message).toContain(`'${REPO}:absent'`);
    expect(existsSync(path)).toBe(false);
  });

  it('leaves neither the file nor a temp file behind when the save is cancelled mid-way', async () => {
    const sub = mkdtempSync(join(dir, 'cancel-'));
    const path = join(sub, 'cancelled.tar');
    const controller = new AbortController();
    let seen = 0;

    const err = await callErr(
      'docker_save_image',
      { images: `${REPO}:base`, path },
      {
        signal: controller.signal,
        onProgress: (p) => {
          seen = p.progress;
          controller.abort();
        },
      },
    );

    expect(err.kind).toBe('cancelled');
    expect(seen).toBeGreaterThan(0);
    // The call answers at once; the handler removes its temp file right after.
    for (let i = 0; i < 40 && readdirSync(sub).length > 0; i++) await Bun.sleep(50);
    expect(readdirSync(sub)).toEqual([]);
  });

  it('refuses a file that is not an image archive, and a missing file', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a tar at all\n'.repeat(100));

    const err = await callErr('docker_load_image', { path: text });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toBe(`'${text}' is not an image archive`);
    expect(err.hint).toContain('docker save');

    const missing = await callErr('docker_load_image', { path: join(dir, 'nothing.tar') });
    expect(missing.kind).toBe('not_found');
  });
});
