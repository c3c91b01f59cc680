/**
 * docker_load_image against archives made to make the engine read other tags than the server, through
 * the compiled binary: what the caller is told (conflict, question, `retagged`) must be what the engine
 * does. The engine unpacks the whole tar (the last manifest.json wins, a symlinked one is followed) and
 * takes an image's ID from its config's content; an archive whose shape the server cannot read as the
 * engine does is refused, loading nothing, even with force.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { askingClient } from '../helpers/elicit.ts';
import { TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';
import { tarEntry, tarOf } from '../helpers/tar.ts';

const docker = testDocker();
const REPO = uniqueName('fx-load-crafted');
const OWN_LABEL = `fx-load-crafted=${REPO}`;
const VICTIM = `${REPO}:victim`;
const DECOY = `${REPO}:decoy`;
const dir = mkdtempSync(join(tmpdir(), 'mcpt-load-crafted-'));
const imageId = async (ref: string) => (await docker.getImage(ref).inspect()).Id;
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const hexOf = (id: string) => id.replace(/^sha256:/, '');

interface Entry {
  name: string;
  /** The entry's blocks as they were, header included. */
  bytes: Buffer;
  body: Buffer;
}

/** The entries of a tar docker save wrote (short ustar names, no PAX), end blocks dropped. */
function entriesOf(tar: Buffer): Entry[] {
  const out: Entry[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(
      h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0',
      8,
    );
    const end = at + 512 + Math.ceil(size / 512) * 512;
    out.push({ name, bytes: tar.subarray(at, end), body: tar.subarray(at + 512, at + 512 + size) });
    at = end;
  }
  return out;
}

const write = (name: string, bytes: Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

let base = '';
let other = '';
/** TEST_IMAGE saved as DECOY: its entries, and its manifest with another tag. */
let saved: Entry[] = [];
const manifestFor = (tags: string[], config?: string) => {
  const [item] = JSON.parse(saved.find((e) => e.name === 'manifest.json')?.body.toString() ?? '[]');
  return JSON.stringify([{ ...item, ...(config && { Config: config }), RepoTags: tags }]);
};
const withoutMeta = () => saved.filter((e) => e.name !== 'manifest.json' && e.name !== 'repositories');

beforeAll(async () => {
  base = await imageId(TEST_IMAGE);
  const c = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: ['true'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none' },
  });
  await c.commit({ repo: REPO, tag: 'other', changes: [`LABEL ${OWN_LABEL}`] });
  await c.remove({ force: true });
  other = await imageId(`${REPO}:other`);
  await docker.getImage(base).tag({ repo: REPO, tag: 'decoy' });
  const stream = (await docker.getImage(DECOY).get()) as NodeJS.ReadableStream;
  saved = entriesOf(Buffer.from(await new Response(stream as never).arrayBuffer()));
  await docker.getImage(DECOY).remove();
});

afterAll(async () => {
  for (const tag of ['victim', 'decoy', 'other'])
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

/** VICTIM names `other`, DECOY nothing: the state each case starts from. */
async function reset() {
  await docker.getImage(other).tag({ repo: REPO, tag: 'victim' });
  await docker
    .getImage(DECOY)
    .remove()
    .catch(() => undefined);
}

const decoyExists = () =>
  docker
    .getImage(DECOY)
    .inspect()
    .then(
      () => true,
      () => false,
    );

describe('docker_load_image refuses an archive the engine would read otherwise', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' } });
  });
  afterAll(() => server.close());

  const archives = () => ({
    // docker save's archive for DECOY, then a second manifest.json naming VICTIM: the engine takes the last.
    'two-manifests.tar': tarOf(
      ...saved.map((e) => e.bytes),
      tarEntry('manifest.json', manifestFor([VICTIM])),
    ),
    'dot-manifest.tar': tarOf(
      ...saved.map((e) => e.bytes),
      tarEntry('./manifest.json', manifestFor([VICTIM])),
    ),
    // No regular manifest.json, a symlink to one naming VICTIM, and `repositories` naming DECOY.
    'symlinked.tar': tarOf(
      ...withoutMeta().map((e) => e.bytes),
      tarEntry('evil.json', manifestFor([VICTIM])),
      tarEntry('manifest.json', '', '2', 'evil.json'),
      tarEntry('repositories', JSON.stringify({ [REPO]: { decoy: hexOf(base) } })),
    ),
  });

  for (const force of [false, true])
    it(`with two manifest.json or a symlinked one${force ? ', even with force' : ''}: nothing is loaded`, async () => {
      for (const [name, bytes] of Object.entries(archives())) {
        await reset();
        const path = write(name, bytes);
        const err = errorOf(
          await server.client.callTool('docker_load_image', { path, ...(force && { force }) }),
        );
        expect(err.kind).toBe('invalid_argument');
        expect(err.message).toContain(`'${path}' is not an archive docker save writes`);
        expect(err.message).toMatch(/more than one entry named manifest\.json|manifest\.json is a link/);
        expect(err.hint).toContain('manifest.json');
        expect(await imageId(VICTIM)).toBe(other);
        expect(await decoyExists()).toBe(false);
      }
    });
});

describe('a forced load under confirmation of an archive read otherwise', () => {
  it('asks nothing and loads nothing, though the user would accept', async () => {
    // The first manifest.json moves DECOY (put on `other`) and the user would be asked about it;
    // the engine would take the second and move VICTIM.
    await reset();
    await docker.getImage(other).tag({ repo: REPO, tag: 'decoy' });
    const path = write(
      'asked-one-moved-another.tar',
      tarOf(
        ...withoutMeta().map((e) => e.bytes),
        tarEntry('manifest.json', manifestFor([DECOY])),
        tarEntry('manifest.json', manifestFor([VICTIM])),
      ),
    );
    const client = await askingClient({
      kind: 'v1',
      answer: () => 'accept',
      env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' },
    });
    try {
      const err = errorOf(await client.callTool('docker_load_image', { path, force: true }));
      expect(err.kind).toBe('invalid_argument');
      expect(client.asked).toEqual([]);
      expect(await imageId(VICTIM)).toBe(other);
      expect(await imageId(DECOY)).toBe(other);
    } finally {
      await client.close();
    }
  });
});

describe('docker_load_image reads the image ID from the config, as the engine does', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' } });
  });
  afterAll(() => server.close());

  // TEST_IMAGE's config under the name of `other`'s ID: the engine loads it as TEST_IMAGE, moving VICTIM.
  const renamed = () => {
    const config = saved.find((e) => e.name === `${hexOf(base)}.json`);
    if (!config) throw new Error('docker save wrote no config named by its digest');
    const claimed = `${hexOf(other)}.json`;
    return tarOf(
      ...withoutMeta()
        .filter((e) => e !== config)
        .map((e) => e.bytes),
      tarEntry(claimed, config.body),
      tarEntry('manifest.json', manifestFor([VICTIM], claimed)),
    );
  };

  it('refuses a config named for the image the tag is on now without force; with force reports the move', async () => {
    const path = write('renamed-config.tar', renamed());
    expect(
      createHash('sha256')
        .update(saved.find((e) => e.name === `${hexOf(base)}.json`)?.body ?? '')
        .digest('hex'),
    ).toBe(hexOf(base));
    await reset();
    const err = errorOf(await server.client.callTool('docker_load_image', { path }));
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(`'${VICTIM}' (now on ${short(other)})`);
    expect(await imageId(VICTIM)).toBe(other);

    const out = structured<{ retagged?: unknown }>(
      await server.client.callTool('docker_load_image', { path, force: true }),
    );
    expect(await imageId(VICTIM)).toBe(base);
    expect(out.retagged).toEqual([{ tag: VICTIM, was: short(other) }]);
  });

  it('reports in retagged what moved on the engine, not what the archive was read to say', async () => {
    // The config behind a symlink: the server cannot tell the ID, so it asks for force as if VICTIM
    // moved; the engine follows the link, finds TEST_IMAGE, and VICTIM (already on it) stays.
    await docker.getImage(base).tag({ repo: REPO, tag: 'victim' });
    const linked = tarOf(
      ...withoutMeta().map((e) => e.bytes),
      tarEntry('config-link.json', '', '2', `${hexOf(base)}.json`),
      tarEntry('manifest.json', manifestFor([VICTIM, DECOY], 'config-link.json')),
    );
    const path = write('linked-config.tar', linked);
    const err = errorOf(await server.client.callTool('docker_load_image', { path }));
    expect(err.kind).toBe('conflict');
    expect(await decoyExists()).toBe(false);

    const out = structured<{ images: string[]; retagged?: unknown }>(
      await server.client.callTool('docker_load_image', { path, force: true }),
    );
    expect(out.images).toEqual([VICTIM, DECOY]);
    expect(out.retagged).toBeUndefined();
    expect(await imageId(VICTIM)).toBe(base);
    expect(await imageId(DECOY)).toBe(base);
  });
});
