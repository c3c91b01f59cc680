/**
 * docker_load_image and the tags an archive sets: loading a tar whose tag already names another image
 * moves that tag, which docker_tag_image only does with `force` (destructive). The load reads the
 * archive's tags first: without `force` it refuses naming them, with `force` it is destructive for the
 * gate, and the result lists what moved. A tag on the same image, or a new one, loads as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupContainers, TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';
import { reportedImage } from '../helpers/podman.ts';

const REPO = uniqueName('mcpt-load');
const OWN_LABEL = `mcpt-load=${REPO}`;
const VICTIM = `${REPO}:victim`;
const dir = mkdtempSync('/tmp/mcpt-load-');
const tar = join(dir, 'victim.tar');
const gz = join(dir, 'victim.tar.gz');
const xz = join(dir, 'victim.tar.xz');

const docker = testDocker();
const imageId = async (ref: string) => (await docker.getImage(ref).inspect()).Id;
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
/** Puts VICTIM on `id` (moving it off whatever it named). */
const tagVictim = (id: string) => docker.getImage(id).tag({ repo: REPO, tag: 'victim' });

let testImage: string;
let other: string;

beforeAll(async () => {
  testImage = await imageId(TEST_IMAGE);
  // An image of our own (another ID): a commit of a stopped container of the test image, labelled.
  const c = await docker.createContainer({
    name: uniqueName('mcpt-load-src'),
    Image: TEST_IMAGE,
    Cmd: ['true'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none' },
  });
  await c.commit({ repo: REPO, tag: 'other', changes: [`LABEL ${OWN_LABEL}`] });
  await c.remove({ force: true });
  other = await imageId(`${REPO}:other`);
  // The archive: VICTIM on the test image, as docker save writes it (and gzipped).
  await tagVictim(testImage);
  await callOk('docker_save_image', { images: VICTIM, path: tar });
  writeFileSync(gz, Bun.gzipSync(readFileSync(tar)));
  writeFileSync(xz, Bun.spawnSync(['xz', '-c', tar]).stdout);
});

afterAll(async () => {
  await cleanupContainers();
  for (const tag of ['victim', 'other'])
    await docker
      .getImage(`${REPO}:${tag}`)
      .remove()
      .catch(() => undefined);
  await docker
    .getImage(other)
    .remove({ force: true })
    .catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('docker_load_image over a tag that names another image', () => {
  it('refuses without force, naming the tag and the image it is on; nothing is loaded', async () => {
    await tagVictim(other);
    for (const path of [tar, gz]) {
      const err = await callErr('docker_load_image', { path });
      expect(err.kind).toBe('conflict');
      expect(err.message).toContain(`'${VICTIM}' (now on ${short(other)})`);
      expect(err.message).toContain('not loaded');
      expect(err.hint).toContain('force: true');
      expect(await imageId(VICTIM)).toBe(other);
    }
  });

  it('with force is destructive: refused while destructive operations are off', async () => {
    await tagVictim(other);
    const err = await callErr(
      'docker_load_image',
      { path: tar, force: true },
      { profile: { allowDestructive: false } },
    );
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toContain("docker_load_image with 'force' is destructive");
    expect(err.hint).toContain('SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true');
    expect(await imageId(VICTIM)).toBe(other);
  });

  it('with force and destructive on, moves the tag and says so', async () => {
    await tagVictim(other);
    const out = await callOk('docker_load_image', { path: tar, force: true });
    expect(out.images).toEqual([reportedImage(VICTIM)]);
    expect(out.retagged).toEqual([{ tag: VICTIM, was: short(other) }]);
    expect(await imageId(VICTIM)).toBe(testImage);
  });

  it('refuses an archive whose tags it cannot read without force; with force reports what the engine moved', async () => {
    await tagVictim(other);
    const err = await callErr('docker_load_image', { path: xz });
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain('xz-compressed');
    expect(err.hint).toContain('force: true');
    expect(await imageId(VICTIM)).toBe(other);

    const out = await callOk('docker_load_image', { path: xz, force: true });
    expect(await imageId(VICTIM)).toBe(testImage);
    // Docker's own word for the move (not in the Podman subset: Podman may not say it).
    expect(out.retagged).toEqual([{ tag: VICTIM, was: short(other) }]);
  });

  it('loads with moderate alone when the tag already names the same image, reporting no move', async () => {
    await tagVictim(testImage);
    for (const path of [tar, gz]) {
      const out = await callOk('docker_load_image', { path }, { profile: { allowDestructive: false } });
      expect(out.images).toEqual([reportedImage(VICTIM)]);
      expect(out.retagged).toBeUndefined();
    }
  });
});
