/**
 * Destructive is destructive, through the compiled binary: moving a tag off another image (by tag or
 * by loading an archive) and overwriting a host file with an image save are listed (moderate tools) but
 * marked destructive, and a call that sets force/overwrite is refused unless destructive operations
 * are allowed. Nothing changes when it is refused. Under --confirm a forced load names the tags it moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { askingClient } from '../helpers/elicit.ts';
import { TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';

const docker = testDocker();
const REPO = uniqueName('mcpt-esc');
const OWN_LABEL = `mcpt-esc=${REPO}`;
const dir = mkdtempSync(join(tmpdir(), 'mcpt-esc-'));
const imageId = async (ref: string) => (await docker.getImage(ref).inspect()).Id;
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const ESCALATING = ['docker_tag_image', 'docker_save_image', 'docker_load_image'];

let base = '';
let other = '';
beforeAll(async () => {
  base = await imageId(TEST_IMAGE);
  await docker.getImage(TEST_IMAGE).tag({ repo: REPO, tag: 'moving' });
  // A second image: a commit of a stopped container of the test image, labelled as ours.
  const c = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: ['true'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none' },
  });
  other = ((await c.commit({ repo: REPO, tag: 'other', changes: [`LABEL ${OWN_LABEL}`] })) as { Id: string })
    .Id;
  await c.remove({ force: true });
});

afterAll(async () => {
  for (const tag of ['moving', 'other'])
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

describe('escalation by argument, default server (destructive off)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('lists docker_tag_image, docker_save_image and docker_load_image, marked destructive', async () => {
    const tools = await server.client.listTools();
    for (const name of ESCALATING)
      expect(tools.find((t) => t.name === name)?.annotations).toMatchObject({ destructiveHint: true });
    for (const name of ESCALATING)
      expect(tools.find((t) => t.name === name)?.annotations?.readOnlyHint).toBeUndefined();
  });

  it('refuses to move a tag off another image: without force a conflict, with force policy_denied', async () => {
    const args = { image: other, repository: REPO, tag: 'moving' };
    const conflict = errorOf(await server.client.callTool('docker_tag_image', args));
    expect(conflict.kind).toBe('conflict');
    expect(conflict.message).toContain('force: true');

    const denied = errorOf(await server.client.callTool('docker_tag_image', { ...args, force: true }));
    expect(denied.kind).toBe('policy_denied');
    expect(denied.message).toContain("docker_tag_image with 'force' is destructive");
    expect(denied.message).toContain('SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true');
    expect(await imageId(`${REPO}:moving`)).toBe(base);
  });

  it('refuses to overwrite a file with an image save, leaving it unchanged', async () => {
    const path = join(dir, 'kept.tar');
    writeFileSync(path, 'keep me');
    const before = sha256(path);
    const denied = errorOf(
      await server.client.callTool('docker_save_image', { images: `${REPO}:other`, path, overwrite: true }),
    );
    expect(denied.kind).toBe('policy_denied');
    expect(denied.message).toContain("'overwrite'");
    expect(sha256(path)).toBe(before);
  });
});

describe('escalation by argument, destructive allowed', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' } });
  });
  afterAll(() => server.close());

  it('moves the tag with force, saying where it was, the old image keeping its other names', async () => {
    const result = await server.client.callTool('docker_tag_image', {
      image: other,
      repository: REPO,
      tag: 'moving',
      force: true,
    });
    expect(structured(result)).toEqual({
      id: short(other),
      tagged: `${REPO}:moving`,
      moved_from: short(base),
    });
    expect(await imageId(`${REPO}:moving`)).toBe(other);
    expect(await imageId(TEST_IMAGE)).toBe(base);
  });
});

describe('a forced load under --confirm', () => {
  it('asks naming the tag it moves and the image it is on; declined, nothing moves', async () => {
    // The archive: REPO:moving on `other`; on the engine it names the test image.
    await docker.getImage(base).tag({ repo: REPO, tag: 'moving' });
    await docker.getImage(other).tag({ repo: REPO, tag: 'moving' });
    const path = join(dir, 'moving.tar');
    await Bun.write(path, new Response((await docker.getImage(`${REPO}:moving`).get()) as never));
    await docker.getImage(base).tag({ repo: REPO, tag: 'moving' });
    const client = await askingClient({
      kind: 'v1',
      answer: () => 'decline',
      env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' },
    });
    try {
      const err = errorOf(await client.callTool('docker_load_image', { path, force: true }));
      expect(err.message).toContain('the user declined');
      expect(client.asked[0]?.message).toContain(`${REPO}:moving (now on ${short(base)})`);
      expect(await imageId(`${REPO}:moving`)).toBe(base);
    } finally {
      await client.close();
    }
  });
});
