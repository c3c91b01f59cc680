/**
 * Progress and cancellation of long image operations as a real MCP client sees them, against the COMPILED
 * binary (MCP_DOCKER_BIN) over stdio, with both SDK generations. Pulls come from the loopback registry
 * MCP_DOCKER_TEST_REGISTRY that `scripts/test.ts` starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CLIENT_KINDS, type RunningServer, startServer, structured } from '../helpers/client.ts';
import {
  cleanupContainers,
  imageExists as exists,
  makeContainer,
  removeImageIfPresent,
  testDocker,
  uniqueName,
} from '../helpers/engine.ts';
import { buildFixtures } from '../helpers/fixtures.ts';

const REGISTRY = process.env.MCP_DOCKER_TEST_REGISTRY ?? '';
const FIXTURES = buildFixtures();
/** bunfig's test timeout is not applied by this bun; these calls get a minute. */
const LONG = 60_000;

type Progress = { progress: number; total?: number; message?: string };
const docker = testDocker();
const refs: string[] = [];

const untag = removeImageIfPresent;

/** In the registry only: a fresh 3 MB layer, pushed, then removed locally so a pull must download it. */
async function remoteOnlyImage(): Promise<string> {
  const repo = `${REGISTRY}/${uniqueName('mcpt-e2e-pull')}`;
  const { id } = await makeContainer({ cmd: ['sh', '-c', 'head -c 3000000 /dev/urandom > /blob'] });
  await docker.getContainer(id).wait();
  await docker.getContainer(id).commit({ repo, tag: 'v1' });
  await docker.getContainer(id).remove({ force: true });
  refs.push(`${repo}:v1`);
  const stream = (await docker.getImage(repo).push({ tag: 'v1', authconfig: {} })) as Readable;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  if (text.includes('errorDetail')) throw new Error(`setup push of ${repo} failed: ${text}`);
  await untag(`${repo}:v1`);
  return `${repo}:v1`;
}

/** Build containers of the slow fixture carrying this nonce (the build arg is in their env). */
async function slowBuildContainers(nonce: string): Promise<string[]> {
  const steps = (await docker.listContainers({ all: true })).filter((c) => c.Command.includes('slow build'));
  const envs = await Promise.all(
    steps.map((c) =>
      docker
        .getContainer(c.Id)
        .inspect()
        .then(
          (i): string[] => i.Config.Env ?? [],
          (): string[] => [],
        ),
    ),
  );
  return steps.filter((_, i) => envs[i]?.includes(`NONCE=${nonce}`)).map((c) => c.Id);
}

beforeAll(() => {
  if (!REGISTRY)
    throw new Error(
      'MCP_DOCKER_TEST_REGISTRY is not set: run through `npm test`, which starts the registries',
    );
});
afterAll(async () => {
  await cleanupContainers();
  for (const ref of refs) await untag(ref);
});

for (const kind of CLIENT_KINDS) {
  describe(`image progress with the ${kind} client`, () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ client: kind });
    });
    afterAll(() => server.close());

    it(
      'sends progress notifications while a pull downloads layers',
      async () => {
        const image = await remoteOnlyImage();
        const events: Progress[] = [];

        const result = await server.client.callTool(
          'docker_pull_image',
          { image },
          { onprogress: (p) => events.push(p) },
        );

        expect(structured<{ image: string }>(result).image).toBe(image);
        expect(events.length).toBeGreaterThan(0);
        // Loopback pulls are fast: the throttle (4/s) may pass only the first event, so shape, not count.
        for (const e of events) expect(e.message).toMatch(/^\d+\/\d+ layers(, [\d.]+(\/[\d.]+)? MB)?$/);
        const values = events.map((e) => e.progress);
        expect(new Set(values).size).toBe(values.length); // strictly increasing: no repeats
        expect(values).toEqual([...values].sort((a, b) => a - b));
      },
      LONG,
    );

    it(
      'sends build steps as progress notifications',
      async () => {
        const tag = `${uniqueName('mcpt-e2e-build')}:v1`;
        refs.push(tag);
        const events: Progress[] = [];

        const result = await server.client.callTool(
          'docker_build_image',
          { path: join(FIXTURES, 'basic'), tag, build_args: { GREETING: uniqueName('e2e') } },
          { onprogress: (p) => events.push(p) },
        );

        expect(structured<{ tags: string[] }>(result).tags).toEqual([tag]);
        expect(events[0]?.message).toMatch(/^Step 1\/\d+: FROM mcp-test\/busybox:latest/);
        for (const e of events) expect(e.message).toMatch(/^Step \d+\/\d+: /);
        for (const e of events) expect(e.progress).toBeLessThanOrEqual(e.total ?? 0);
      },
      LONG,
    );

    it(
      'stops a build when the client cancels mid-step: no tag, and its container goes',
      async () => {
        const tag = `${uniqueName('mcpt-e2e-cancel')}:v1`;
        refs.push(tag);
        const nonce = uniqueName('nonce');
        const controller = new AbortController();
        let progressed = false;
        const pending = server.client
          .callTool(
            'docker_build_image',
            { path: join(FIXTURES, 'slow'), tag, build_args: { NONCE: nonce } },
            {
              signal: controller.signal,
              onprogress: () => {
                progressed = true;
              },
            },
          )
          .then(
            () => 'finished',
            () => 'rejected',
          );
        // After the first progress, and once the step's `sleep 30` container runs.
        for (let i = 0; i < 100 && !(progressed && (await slowBuildContainers(nonce)).length > 0); i++)
          await Bun.sleep(100);
        expect(progressed).toBe(true);
        expect(await slowBuildContainers(nonce)).toHaveLength(1);
        const abortedAt = Date.now();

        controller.abort();

        expect(await pending).toBe('rejected');
        expect(Date.now() - abortedAt).toBeLessThan(2_000);
        for (let i = 0; i < 100 && (await slowBuildContainers(nonce)).length > 0; i++) await Bun.sleep(100);
        expect(await slowBuildContainers(nonce)).toEqual([]);
        expect(await exists(tag)).toBe(false);
        // The server is still there for the next call.
        expect((await server.client.listTools()).length).toBeGreaterThan(0);
      },
      LONG,
    );
  });
}
