/**
 * A confirmed call acts on what its question showed, through the compiled binary over stdio: while
 * the user reads the question, the name is moved to another object (a rename, a retag, a container
 * joining the Compose project). Accepting then removes nothing the user was not shown.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { errorOf, structured } from '../helpers/client.ts';
import { askingClient, type UserAnswer } from '../helpers/elicit.ts';
import {
  cleanupContainers,
  containerExists,
  makeContainer,
  sleeperProject,
  TEST_IMAGE,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';

const docker = testDocker();
const DESTRUCTIVE = { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' };

afterAll(cleanupContainers);

describe('docker_remove_container confirmed after the name moved', () => {
  it('refuses, naming the change, and removes neither container', async () => {
    const name = uniqueName('mcpt-pin');
    const shown = await makeContainer({ name, start: false });
    const other = await makeContainer({ start: false });
    const client = await askingClient({
      kind: 'v1',
      env: DESTRUCTIVE,
      answer: async (): Promise<UserAnswer> => {
        await docker.getContainer(shown.id).rename({ name: `${name}-was` });
        await docker.getContainer(other.id).rename({ name });
        return 'accept';
      },
    });
    try {
      const err = errorOf(await client.callTool('docker_remove_container', { container_id: name }));
      expect(client.asked[0]?.message).toContain(shown.id.slice(0, 12));
      expect(err.kind).toBe('conflict');
      expect(err.message).toContain('is not what the user was asked about');
      expect(err.message).toContain('nothing changed');
      expect(await containerExists(shown.id)).toBe(true);
      expect(await containerExists(other.id)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('docker_remove_image confirmed after the tag moved', () => {
  const images: string[] = [];
  afterAll(async () => {
    for (const ref of images)
      await docker
        .getImage(ref)
        .remove({ force: true })
        .catch(() => undefined);
  });
  /** An image of our own, tagged `repo:tag`. */
  const image = async (repo: string, tag: string) => {
    const c = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ['true'], Labels: testLabels() });
    const { Id } = (await c.commit({ repo, tag, changes: [`LABEL mcpt-pin=${uniqueName('x')}`] })) as {
      Id: string;
    };
    await c.remove({ force: true });
    images.push(Id);
    return Id;
  };

  it('refuses when the tag now names another image, and deletes neither', async () => {
    const repo = uniqueName('mcpt-pinimg');
    const first = await image(repo, 'victim');
    await docker.getImage(first).tag({ repo, tag: 'keep' }); // untagging 'victim' alone is what is asked
    const second = await image(repo, 'lone');
    const client = await askingClient({
      kind: 'v2',
      env: DESTRUCTIVE,
      answer: async (): Promise<UserAnswer> => {
        await docker.getImage(second).tag({ repo, tag: 'victim' });
        await docker.getImage(`${repo}:lone`).remove();
        return 'accept';
      },
    });
    try {
      const err = errorOf(await client.callTool('docker_remove_image', { image: `${repo}:victim` }));
      expect(client.asked[0]?.message).toContain(`untag '${repo}:victim'`);
      expect(err.kind).toBe('conflict');
      expect(err.message).toContain('nothing changed');
      expect((await docker.getImage(second).inspect()).RepoTags).toEqual([`${repo}:victim`]);
      expect((await docker.getImage(first).inspect()).RepoTags).toEqual([`${repo}:keep`]);
    } finally {
      await client.close();
    }
  });
});

describe('docker_compose_down confirmed after a container joined the project', () => {
  it('takes down what the question listed and leaves the newcomer, saying so', async () => {
    const project = uniqueName('mcpt-pindown').replace(/[^a-z0-9_-]/g, '');
    const content = sleeperProject();
    let late: { id: string; name: string } | undefined;
    const client = await askingClient({
      kind: 'v1',
      env: DESTRUCTIVE,
      answer: async (): Promise<UserAnswer> => {
        late = await makeContainer({
          start: false,
          labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': 'extra' },
        });
        return 'accept';
      },
    });
    try {
      structured(await client.callTool('docker_compose_up', { content, project_name: project }));
      const out = structured<{ steps: string[] }>(
        await client.callTool('docker_compose_down', { project_name: project }),
      );
      expect(client.asked[0]?.message).toContain(`container ${project}-web-1 (running)`);
      expect(client.asked[0]?.message).not.toContain(late?.name as string);
      expect(out.steps).toContain(`container ${project}-web-1 removed`);
      expect(out.steps).toContain(`container ${late?.name} left: not in the question the user accepted`);
      expect(await containerExists(`${project}-web-1`)).toBe(false);
      expect(await containerExists(late?.id as string)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('a question naming a network whose name holds newlines', () => {
  it('shows the name escaped on one line, so it cannot add lines to the question', async () => {
    const name = `${uniqueName('mcpt-pinnet')}.\nNothing matches now: nothing will be removed.`;
    const net = await docker.createNetwork({ Name: name, Labels: testLabels() });
    const client = await askingClient({ kind: 'v1', env: DESTRUCTIVE, answer: () => 'decline' });
    try {
      const err = errorOf(await client.callTool('docker_remove_network', { network_id: net.id }));
      expect(err.message).toContain('the user declined');
      const q = client.asked[0]?.message ?? '';
      expect(q).toContain('\\nNothing matches now');
      expect(q.split('\n').filter((l) => l.startsWith('Nothing matches now'))).toEqual([]);
    } finally {
      await client.close();
      await net.remove().catch(() => undefined);
    }
  });
});
