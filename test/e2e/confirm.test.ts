/**
 * --confirm over stdio, through the compiled binary: a destructive call is put to the user through
 * elicitation (v1 and v2 clients on the initialize era, which the fast path serves, and v2 on the 2026
 * era, which the SDK serves with its input-required round trip). Accept runs it; decline and cancel
 * change nothing (asserted on the engine). The question names the real objects; a confirmed prune
 * removes exactly those listed. A client that cannot ask gets --confirm-fallback.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { errorOf, startServer, structured, textOf } from '../helpers/client.ts';
import { ASKING_KINDS, type AskingClient, askingClient, type UserAnswer } from '../helpers/elicit.ts';
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
import { ERA_2025, startRaw } from '../helpers/raw-stdio.ts';

const docker = testDocker();
const DESTRUCTIVE = { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' };

afterAll(cleanupContainers);

/**
 * Prunes through `client`, whose answer made `late()` while the question was open, and checks that
 * exactly `gone` went: the question named them and not `spared`, the result removed them and reports
 * `late()` as left, and the engine (`remaining()`) still holds `late()` and `spared`.
 */
async function pruneExactly(
  client: AskingClient,
  tool: string,
  args: Record<string, unknown>,
  expected: { gone: string[]; spared: string; late: () => string; remaining: () => Promise<string[]> },
): Promise<void> {
  const result = await client.callTool(tool, args);
  const q = client.asked[0]?.message ?? textOf(result);
  expect(q).toContain(`${expected.gone.length} objects will go`);
  for (const name of expected.gone) expect(q).toContain(name);
  expect(q).not.toContain(expected.spared);
  const out = structured<{ count: number; removed: string[]; left?: string[] }>(result);
  expect(out.removed.sort()).toEqual([...expected.gone].sort());
  expect(out.left).toEqual([expected.late()]);
  expect((await expected.remaining()).sort()).toEqual([expected.late(), expected.spared].sort());
}

describe.each(ASKING_KINDS)('docker_remove_container confirmed by the user (%s client, stdio)', (kind) => {
  const removeWith = async (answer: UserAnswer) => {
    const c = await makeContainer({ start: false });
    const client = await askingClient({ kind, answer: () => answer, env: DESTRUCTIVE });
    try {
      const result = await client.callTool('docker_remove_container', { container_id: c.name });
      return { c, result, asked: client.asked };
    } finally {
      await client.close();
    }
  };

  it('asks naming the container and the engine, and removes it when the user accepts', async () => {
    const { c, result, asked } = await removeWith('accept');
    expect(asked).toHaveLength(1);
    expect(asked[0]?.message).toContain(`remove container '${c.name}'`);
    expect(asked[0]?.message).toContain("engine 'default'");
    expect(structured<{ removed: boolean }>(result).removed).toBe(true);
    expect(await containerExists(c.id)).toBe(false);
  });

  for (const answer of ['decline', 'cancel'] as const)
    it(`changes nothing when the user answers ${answer}`, async () => {
      const { c, result, asked } = await removeWith(answer);
      expect(asked).toHaveLength(1);
      const err = errorOf(result);
      expect(err.kind).toBe('cancelled');
      expect(err.message).toContain(
        answer === 'decline'
          ? 'the user declined; nothing changed'
          : 'the question was dismissed without an answer; nothing changed',
      );
      if (kind === 'v2') expect(err.retryable).toBe(false);
      expect(await containerExists(c.id)).toBe(true);
    });
});

describe('stdio once the SDK is loaded (initialize era)', () => {
  it('still takes the user’s answers to its own questions, after a prompts/list loaded the SDK', async () => {
    const c = await makeContainer({ start: false });
    const d = await makeContainer({ start: false });
    let answer: UserAnswer = 'decline';
    const client = await askingClient({ kind: 'v1', env: DESTRUCTIVE, answer: () => answer });
    try {
      await (client.raw as { listPrompts(): Promise<unknown> }).listPrompts();
      const no = await client.callTool('docker_remove_container', { container_id: c.name });
      expect(errorOf(no).message).toContain('the user declined; nothing changed');
      expect(await containerExists(c.id)).toBe(true);
      answer = 'accept';
      structured(await client.callTool('docker_remove_container', { container_id: d.name }));
      expect(await containerExists(d.id)).toBe(false);
      expect(client.asked.map((q) => q.message.includes(c.name) || q.message.includes(d.name))).toEqual([
        true,
        true,
      ]);
      expect(client.stderr()).not.toContain('error');
    } finally {
      await client.close();
    }
  });
});

describe('stdin ends while the user has not answered', () => {
  it('answers the call cancelled after the grace, nothing changed, and exits 0', async () => {
    const c = await makeContainer({ start: false });
    const raw = startRaw({ DOCKER_HOST: process.env.DOCKER_HOST ?? '', ...DESTRUCTIVE }, [
      '--shutdown-grace',
      '1',
    ]);
    await raw.request({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: ERA_2025,
        capabilities: { elicitation: {} },
        clientInfo: { name: 't', version: '0' },
      },
    });
    await raw.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    const call = { name: 'docker_remove_container', arguments: { container_id: c.name } };
    await raw.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: call })}\n`);
    for (let i = 0; i < 100 && !raw.messages.some((m) => m.method === 'elicitation/create'); i++)
      await Bun.sleep(50);
    const question = raw.messages.find((m) => m.method === 'elicitation/create');
    expect(JSON.stringify(question)).toContain(c.name);
    const answered = raw.waitFor(2, 10_000);
    await raw.close();
    const result = (await answered).result as { isError?: boolean; content: { text: string }[] };
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toContain('before the user answered; nothing changed');
    expect(raw.child.exitCode).toBe(0);
    expect(await containerExists(c.id)).toBe(true);
  });
});

describe('a confirmed prune removes exactly what the question listed', () => {
  it('lists the stopped containers by name, removes those, and reports one stopped since as left', async () => {
    const tag = uniqueName('mcpt-prune');
    const labels = { 'mcpt-confirm': tag };
    const a = await makeContainer({ start: false, labels });
    const b = await makeContainer({ start: false, labels });
    const running = await makeContainer({ labels });
    let late: { id: string; name: string } | undefined;
    const client = await askingClient({
      kind: 'v1',
      env: DESTRUCTIVE,
      // While the user reads the question, another container stops: it was not in the question.
      answer: async (): Promise<UserAnswer> => {
        late = await makeContainer({ start: false, labels });
        return 'accept';
      },
    });
    try {
      const result = await client.callTool('docker_prune_containers', {
        filters: { label: [`mcpt-confirm=${tag}`] },
      });
      const q = client.asked[0]?.message ?? '';
      expect(q).toContain('2 objects will go');
      expect(q).toContain(a.name);
      expect(q).toContain(b.name);
      expect(q).not.toContain(running.name);
      expect(q).toContain('Space reclaimed');
      const out = structured<{ count: number; removed: string[]; left?: string[] }>(result);
      expect(out.count).toBe(2);
      expect(out.removed.sort()).toEqual([a.name, b.name].sort());
      expect(out.left).toEqual([late?.name as string]);
      expect(await containerExists(a.id)).toBe(false);
      expect(await containerExists(b.id)).toBe(false);
      expect(await containerExists(running.id)).toBe(true);
      expect(await containerExists(late?.id as string)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('a confirmed volume prune removes exactly what the question listed', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const name of made)
      await docker
        .getVolume(name)
        .remove()
        .catch(() => undefined);
  });
  const volume = async (labels: Record<string, string>) => {
    const name = uniqueName('mcpt-vol');
    await docker.createVolume({ Name: name, Labels: labels });
    made.push(name);
    return name;
  };

  it('lists the unused volumes, spares one a container uses, and reports one made since as left', async () => {
    const tag = uniqueName('mcpt-vprune');
    const labels = { 'mcpt-confirm': tag };
    const a = await volume(labels);
    const b = await volume(labels);
    const used = await volume(labels);
    // A stopped container still holds its volume: the prune spares it.
    const holder = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['true'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: 'none', Binds: [`${used}:/data`] },
    });
    let late = '';
    const client = await askingClient({
      kind: 'v2',
      env: DESTRUCTIVE,
      answer: async (): Promise<UserAnswer> => {
        late = await volume(labels);
        return 'accept';
      },
    });
    try {
      await pruneExactly(
        client,
        'docker_prune_volumes',
        { all: true, filters: { label: [`mcpt-confirm=${tag}`] } },
        {
          gone: [a, b],
          spared: used,
          late: () => late,
          remaining: async () =>
            (await docker.listVolumes({ filters: { label: [`mcpt-confirm=${tag}`] } })).Volumes.map(
              (v) => v.Name,
            ),
        },
      );
    } finally {
      await client.close();
      await holder.remove({ force: true });
    }
  });
});

describe('a confirmed network prune removes exactly what the question listed', () => {
  const made: string[] = [];
  afterAll(async () => {
    await cleanupContainers();
    for (const id of made)
      await docker
        .getNetwork(id)
        .remove()
        .catch(() => undefined);
  });
  const network = async (labels: Record<string, string>) => {
    const name = uniqueName('mcpt-net');
    const n = await docker.createNetwork({ Name: name, Internal: true, Labels: labels });
    made.push(n.id);
    return name;
  };

  it('lists the unused networks, spares one a running container uses, reports one made since as left', async () => {
    const tag = uniqueName('mcpt-nprune');
    const labels = { 'mcpt-confirm': tag };
    const a = await network(labels);
    const b = await network(labels);
    const used = await network(labels);
    const user = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: used },
    });
    await user.start();
    let late = '';
    const client = await askingClient({
      kind: 'v1',
      env: DESTRUCTIVE,
      answer: async (): Promise<UserAnswer> => {
        late = await network(labels);
        return 'accept';
      },
    });
    try {
      await pruneExactly(
        client,
        'docker_prune_networks',
        { filters: { label: [`mcpt-confirm=${tag}`] } },
        {
          gone: [a, b],
          spared: used,
          late: () => late,
          remaining: async () =>
            (await docker.listNetworks({ filters: { label: [`mcpt-confirm=${tag}`] } })).map((n) => n.Name),
        },
      );
    } finally {
      await client.close();
      await user.remove({ force: true });
    }
  });
});

describe('a confirmed image prune removes exactly what the question listed', () => {
  const made: string[] = [];
  afterAll(async () => {
    await cleanupContainers();
    for (const id of made)
      await docker
        .getImage(id)
        .remove({ force: true })
        .catch(() => undefined);
  });
  /** A dangling image of our own: a commit, untagged, carrying the test's label. */
  const dangling = async (label: string) => {
    const c = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ['true'], Labels: testLabels() });
    const { Id } = (await c.commit({ changes: [`LABEL ${label}`] })) as { Id: string };
    await c.remove({ force: true });
    made.push(Id);
    return Id.replace(/^sha256:/, '').slice(0, 12);
  };

  it('lists the dangling images, spares one a container uses, and reports one made since as left', async () => {
    const label = `mcpt-confirm=${uniqueName('mcpt-iprune')}`;
    const a = await dangling(label);
    const b = await dangling(label);
    const used = await dangling(label);
    const holder = await docker.createContainer({ Image: used, Cmd: ['true'], Labels: testLabels() });
    let late = '';
    const client = await askingClient({
      kind: 'v2-legacy',
      env: DESTRUCTIVE,
      answer: async (): Promise<UserAnswer> => {
        late = await dangling(label);
        return 'accept';
      },
    });
    try {
      await pruneExactly(
        client,
        'docker_prune_images',
        { filters: { label: [label] } },
        {
          gone: [a, b],
          spared: used,
          late: () => late,
          remaining: async () =>
            (await docker.listImages({ filters: { label: [label] } })).map((i) =>
              i.Id.replace(/^sha256:/, '').slice(0, 12),
            ),
        },
      );
    } finally {
      await client.close();
      await holder.remove({ force: true });
    }
  });
});

describe('a confirmed system prune removes exactly what the question listed', () => {
  const images: string[] = [];
  const networks: string[] = [];
  afterAll(async () => {
    await cleanupContainers();
    for (const id of images)
      await docker
        .getImage(id)
        .remove({ force: true })
        .catch(() => undefined);
    for (const id of networks)
      await docker
        .getNetwork(id)
        .remove()
        .catch(() => undefined);
  });

  it('names containers, networks and images in one question and removes those only', async () => {
    const tag = uniqueName('mcpt-sprune');
    const labels = { 'mcpt-confirm': tag };
    const stopped = await makeContainer({ start: false, labels });
    const running = await makeContainer({ labels });
    const net = uniqueName('mcpt-snet');
    networks.push((await docker.createNetwork({ Name: net, Internal: true, Labels: labels })).id);
    const c = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ['true'], Labels: testLabels() });
    const image = ((await c.commit({ changes: [`LABEL mcpt-confirm=${tag}`] })) as { Id: string }).Id;
    images.push(image);
    await c.remove({ force: true });
    let late: { id: string; name: string } | undefined;
    const client = await askingClient({
      kind: 'v1',
      env: DESTRUCTIVE,
      answer: async (): Promise<UserAnswer> => {
        late = await makeContainer({ start: false, labels });
        return 'accept';
      },
    });
    try {
      const result = await client.callTool('docker_system_prune', {
        filters: { label: [`mcpt-confirm=${tag}`] },
      });
      const q = client.asked[0]?.message ?? textOf(result);
      expect(q).toContain('3 objects will go');
      expect(q).toContain(`container ${stopped.name}`);
      expect(q).toContain(`network ${net}`);
      expect(q).toContain(`image ${image.replace(/^sha256:/, '').slice(0, 12)}`);
      expect(q).not.toContain(running.name);
      const out = structured<Record<string, { removed: number; left?: string[]; skipped?: string }>>(result);
      expect(out.containers?.removed).toBe(1);
      expect(out.containers?.left).toEqual([late?.name as string]);
      expect(out.networks?.removed).toBe(1);
      expect(out.images?.removed).toBe(1);
      expect(out.build_cache?.skipped).toContain('no labels');
      expect(await containerExists(stopped.id)).toBe(false);
      expect(await containerExists(running.id)).toBe(true);
      expect(await containerExists(late?.id as string)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('docker_compose_down confirmed by the user', () => {
  it("names the project's containers; decline keeps them, accept takes them down", async () => {
    const project = uniqueName('mcpt-cdown').replace(/[^a-z0-9_-]/g, '');
    const content = sleeperProject();
    let answer: UserAnswer = 'decline';
    const client = await askingClient({ kind: 'v2', env: DESTRUCTIVE, answer: () => answer });
    try {
      structured(await client.callTool('docker_compose_up', { content, project_name: project }));
      expect(client.asked).toHaveLength(0);
      const no = await client.callTool('docker_compose_down', { project_name: project });
      expect(errorOf(no).message).toContain('the user declined; nothing changed');
      expect(client.asked[0]?.message).toContain(`take down Compose project '${project}'`);
      expect(client.asked[0]?.message).toContain(`container ${project}-web-1 (running)`);
      expect(await containerExists(`${project}-web-1`)).toBe(true);
      answer = 'accept';
      structured(await client.callTool('docker_compose_down', { project_name: project }));
      expect(await containerExists(`${project}-web-1`)).toBe(false);
    } finally {
      await client.close();
    }
  });
});

describe('clients that cannot ask their user', () => {
  it('run the call under --confirm-fallback allow (the default)', async () => {
    const c = await makeContainer({ start: false });
    const server = await startServer({ client: 'v1', env: DESTRUCTIVE });
    try {
      const result = await server.client.callTool('docker_remove_container', { container_id: c.name });
      expect(structured<{ removed: boolean }>(result).removed).toBe(true);
      expect(await containerExists(c.id)).toBe(false);
    } finally {
      await server.close();
    }
  });

  for (const kind of ['v1', 'v2'] as const)
    it(`are refused under --confirm-fallback refuse, naming the setting (${kind})`, async () => {
      const c = await makeContainer({ start: false });
      const client = await askingClient({ kind, env: DESTRUCTIVE, args: ['--confirm-fallback', 'refuse'] });
      try {
        const err = errorOf(await client.callTool('docker_remove_container', { container_id: c.name }));
        expect(err.kind).toBe('policy_denied');
        expect(err.message).toContain('cannot ask its user');
        expect(err.message).toContain('--confirm-fallback allow');
        expect(await containerExists(c.id)).toBe(true);
      } finally {
        await client.close();
      }
    });

  it('are not asked for a moderate call unless --confirm all', async () => {
    const c = await makeContainer({ start: false });
    for (const [mode, asks] of [
      ['destructive', 0],
      ['all', 1],
    ] as const) {
      const client = await askingClient({ kind: 'v1', answer: () => 'decline', args: ['--confirm', mode] });
      try {
        const result = await client.callTool('docker_start_container', { container_id: c.name });
        expect(client.asked).toHaveLength(asks);
        if (asks) expect(textOf(result)).toContain('the user declined');
        else await docker.getContainer(c.id).stop({ t: 0 });
      } finally {
        await client.close();
      }
    }
  });

  it('are not asked at all under --confirm none', async () => {
    const c = await makeContainer({ start: false });
    const client = await askingClient({
      kind: 'v1',
      answer: () => 'decline',
      env: DESTRUCTIVE,
      args: ['--confirm', 'none'],
    });
    try {
      const result = await client.callTool('docker_remove_container', { container_id: c.name });
      expect(client.asked).toHaveLength(0);
      expect(structured<{ removed: boolean }>(result).removed).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('a prune question lists what label and label! select', () => {
  it('lists only the stopped containers the filters select, and the user declines', async () => {
    const tag = uniqueName('mcpt-lprune');
    const a = await makeContainer({ start: false, labels: { 'mcpt-confirm': tag } });
    const kept = await makeContainer({ start: false, labels: { 'mcpt-confirm': tag, 'mcpt-keep': 'yes' } });
    const client = await askingClient({ kind: 'v1', env: DESTRUCTIVE, answer: () => 'decline' });
    try {
      const result = await client.callTool('docker_prune_containers', {
        filters: { label: [`mcpt-confirm=${tag}`], 'label!': ['mcpt-keep'] },
      });
      const q = client.asked[0]?.message ?? '';
      expect(q).toContain(a.name);
      expect(q).not.toContain(kept.name);
      expect(errorOf(result).kind).toBe('cancelled');
      expect(await containerExists(a.id)).toBe(true);
      expect(await containerExists(kept.id)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('refuses a filter key the engine’s prune does not know, naming it, before asking', async () => {
    const client = await askingClient({ kind: 'v1', env: DESTRUCTIVE, answer: () => 'decline' });
    try {
      for (const tool of ['docker_prune_containers', 'docker_prune_images', 'docker_prune_networks']) {
        const err = errorOf(await client.callTool(tool, { filters: { status: ['exited'] } }));
        expect(err.kind).toBe('invalid_argument');
        expect(err.message).toContain(`invalid argument 'filters': this prune takes no 'status' filter`);
      }
      const vol = errorOf(
        await client.callTool('docker_prune_volumes', { all: true, filters: { until: ['24h'] } }),
      );
      expect(vol.message).toContain(`invalid argument 'filters': this prune takes no 'until' filter`);
      expect(client.asked).toHaveLength(0);
    } finally {
      await client.close();
    }
  });
});

describe('the question for Compose content (--confirm all)', () => {
  it('masks environment values and keeps the services, images and ports readable', async () => {
    const client = await askingClient({ kind: 'v1', answer: () => 'decline', args: ['--confirm', 'all'] });
    try {
      const content = [
        'services:',
        '  web:',
        `    image: ${TEST_IMAGE}`,
        "    ports: ['127.0.0.1:18080:80']",
        '    environment: {MY_VAR: askflow-secret-1}',
        '  side:',
        `    image: ${TEST_IMAGE}`,
        '    environment:',
        '      PLAIN: askblock-secret-2',
        '      LIST: x',
      ].join('\n');
      const result = await client.callTool('docker_compose_up', { content, project_name: 'mcpt-askenv' });
      expect(textOf(result)).toContain('the user declined');
      const q = client.asked[0]?.message ?? '';
      expect(q).not.toContain('askflow-secret-1');
      expect(q).not.toContain('askblock-secret-2');
      for (const shown of ['web:', 'side:', TEST_IMAGE, '127.0.0.1:18080:80', 'MY_VAR', 'PLAIN'])
        expect(q).toContain(shown);
    } finally {
      await client.close();
    }
  });
});
