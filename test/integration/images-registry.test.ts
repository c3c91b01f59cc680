/**
 * Pull, push and build through the real pipeline against the real engine and the two loopback registries
 * `scripts/test.ts` starts: MCP_DOCKER_TEST_REGISTRY (open) and MCP_DOCKER_TEST_AUTH_REGISTRY (basic auth).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  cleanupContainers,
  imageExists as exists,
  makeContainer,
  removeImageIfPresent,
  TEST_IMAGE,
  testDocker,
  uniqueName,
} from '../helpers/engine.ts';
import { buildFixtures } from '../helpers/fixtures.ts';
import { call, callErr, callOk } from '../helpers/pipeline.ts';

const REGISTRY = process.env.MCP_DOCKER_TEST_REGISTRY ?? '';
const AUTH_REGISTRY = process.env.MCP_DOCKER_TEST_AUTH_REGISTRY ?? '';
const USER = process.env.MCP_DOCKER_TEST_AUTH_USER ?? '';
const PASSWORD = process.env.MCP_DOCKER_TEST_AUTH_PASSWORD ?? '';
const FIXTURES = buildFixtures();

/** bunfig's test timeout is not applied by this bun; registry and build calls get a minute. */
const LONG = 60_000;

type Progress = { progress: number; total?: number; message?: string };
const docker = testDocker();
const temps: string[] = [];
const refs: string[] = [];

/** A local tag this file made; afterAll removes it (never the test image itself). */
const track = (ref: string) => {
  refs.push(ref);
  return ref;
};

const untag = removeImageIfPresent;

/** An image with a layer no registry has yet (3 MB of random bytes), tagged `ref`. */
async function uniqueImage(ref: string): Promise<string> {
  const { id } = await makeContainer({ cmd: ['sh', '-c', 'head -c 3000000 /dev/urandom > /blob'] });
  await docker.getContainer(id).wait();
  const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
  const { Id } = (await docker.getContainer(id).commit({ repo, tag })) as { Id: string };
  await docker.getContainer(id).remove({ force: true });
  track(ref);
  return Id;
}

/** Pushes with the engine directly (setup, not the behaviour under test). */
async function enginePush(ref: string, auth?: object): Promise<void> {
  const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
  const stream = (await docker.getImage(repo).push({ tag, authconfig: auth ?? {} })) as Readable;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  if (text.includes('errorDetail')) throw new Error(`setup push of ${ref} failed: ${text}`);
}

/** A temp dir holding `.docker/config.json`, to use as HOME. */
function dockerHome(config: object): string {
  const home = mkdtempSync(join(tmpdir(), 'mcpt-home-'));
  temps.push(home);
  mkdirSync(join(home, '.docker'));
  writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify(config));
  return home;
}

/** Runs `fn` with env vars replaced (HOME → the config dir the test pipeline passes; PATH → credential helpers), restoring them after. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const basicAuth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const noPassword = (value: unknown) => expect(JSON.stringify(value)).not.toContain(PASSWORD);

beforeAll(() => {
  if (!REGISTRY || !AUTH_REGISTRY || !PASSWORD)
    throw new Error(
      'MCP_DOCKER_TEST_REGISTRY / MCP_DOCKER_TEST_AUTH_REGISTRY are not set: run through `npm test` (it starts the registries) or `bun scripts/registry.ts`',
    );
});

afterAll(async () => {
  await cleanupContainers();
  for (const ref of refs.reverse()) await untag(ref);
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('docker_push_image and docker_pull_image on the open registry', () => {
  const ref = `${REGISTRY}/${uniqueName('mcpt-push')}:v1`;
  let pushedDigest = '';

  it(
    'pushes a local tag and returns the digest the registry stores, its size and a status',
    async () => {
      await docker.getImage(TEST_IMAGE).tag({ repo: track(ref).replace(/:v1$/, ''), tag: 'v1' });

      const out = await callOk<{ image: string; digest: string; size: number; status: string }>(
        'docker_push_image',
        { image: ref },
      );

      expect(out.image).toBe(ref);
      expect(out.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(out.size).toBeGreaterThan(0);
      expect(out.status).toMatch(/pushed|already in/);
      const [host, path] = [
        ref.slice(0, ref.indexOf('/')),
        ref.slice(ref.indexOf('/') + 1).replace(/:v1$/, ''),
      ];
      const manifest = await fetch(`http://${host}/v2/${path}/manifests/v1`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      expect(manifest.headers.get('docker-content-digest')).toBe(out.digest);
      pushedDigest = out.digest;
    },
    LONG,
  );

  it(
    'pulls it back after the local tag is gone, then says it is up to date',
    async () => {
      await untag(ref);
      const busybox = await docker.getImage(TEST_IMAGE).inspect();

      const first = await callOk<Record<string, unknown>>('docker_pull_image', { image: ref });
      const again = await callOk<Record<string, unknown>>('docker_pull_image', {
        image: ref.replace(/:v1$/, ''),
        tag: 'v1',
      });

      expect(first).toMatchObject({ image: ref, id: busybox.Id.slice(7, 19), digest: pushedDigest });
      expect(first.tags).toContain(ref);
      expect(first.status).toMatch(/^Downloaded newer image for /);
      expect(again.status).toMatch(/^Image is up to date for /);
      expect(await exists(ref)).toBe(true);
    },
    LONG,
  );

  it(
    'reports byte progress while layers move, increasing and bounded by the total',
    async () => {
      const fresh = `${REGISTRY}/${uniqueName('mcpt-layers')}:v1`;
      await uniqueImage(fresh);
      const pushEvents: Progress[] = [];
      await callOk('docker_push_image', { image: fresh }, { onProgress: (p) => pushEvents.push(p) });
      await untag(fresh);
      const pullEvents: Progress[] = [];

      await callOk('docker_pull_image', { image: fresh }, { onProgress: (p) => pullEvents.push(p) });

      for (const events of [pushEvents, pullEvents]) {
        expect(events.length).toBeGreaterThan(0);
        const last = events.at(-1) as Progress;
        expect(last.message).toMatch(/^\d+\/\d+ layers, [\d.]+\/[\d.]+ MB$/);
        expect(last.total).toBeGreaterThanOrEqual(3_000_000);
        expect(last.progress).toBeLessThanOrEqual(last.total as number);
        const values = events.map((e) => e.progress);
        expect(values).toEqual([...values].sort((a, b) => a - b));
      }
    },
    LONG,
  );

  it(
    'answers a tag the registry does not have with not_found and a next step',
    async () => {
      const err = await callErr('docker_pull_image', { image: ref.replace(/:v1$/, ':absent') });

      expect(err.kind).toBe('not_found');
      expect(err.message).toContain(':absent');
      expect(err.hint).toContain('docker_list_images');
    },
    LONG,
  );

  it(
    'refuses a tag argument that contradicts the tag in image',
    async () => {
      const err = await callErr('docker_pull_image', { image: ref, tag: 'v2' });

      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain("'tag'");
    },
    LONG,
  );

  it(
    'answers a push of an image that does not exist locally with not_found and how to tag it',
    async () => {
      const err = await callErr('docker_push_image', { image: `${REGISTRY}/${uniqueName('mcpt-none')}:v1` });

      expect(err.kind).toBe('not_found');
      expect(err.hint).toContain('docker_tag_image');
    },
    LONG,
  );

  it(
    'answers a push of a tag missing from a local repository with not_found and how to tag it',
    async () => {
      const repo = `${REGISTRY}/${uniqueName('mcpt-notag')}`;
      await docker.getImage(TEST_IMAGE).tag({ repo: track(`${repo}:v1`).replace(/:v1$/, ''), tag: 'v1' });
      const err = await callErr('docker_push_image', { image: repo });

      expect(err.kind).toBe('not_found');
      expect(err.message).toContain(`'${repo}:latest' not found locally`);
      expect(err.hint).toContain('docker_tag_image');
    },
    LONG,
  );
});

describe('registry credentials on the auth registry', () => {
  const repo = `${AUTH_REGISTRY}/${uniqueName('mcpt-private')}`;
  const ref = `${repo}:v1`;
  const auth = () => ({ username: USER, password: PASSWORD });
  beforeAll(async () => {
    await docker.getImage(TEST_IMAGE).tag({ repo: track(ref).replace(/:v1$/, ''), tag: 'v1' });
  });

  it(
    'refuses a push without credentials as registry_auth, with a login hint',
    async () => {
      const err = await withEnv({ HOME: dockerHome({}) }, () => callErr('docker_push_image', { image: ref }));

      expect(err.kind).toBe('registry_auth');
      expect(err.message).toContain(ref);
      expect(err.hint).toMatch(/config\.json/);
      expect(err.hint).toContain('auth');
    },
    LONG,
  );

  it(
    'pushes with an explicit auth argument and never returns the password',
    async () => {
      const out = await call('docker_push_image', { image: ref, auth: auth() });

      expect(out.ok).toBe(true);
      noPassword(out);
    },
    LONG,
  );

  it(
    'refuses a pull without credentials as registry_auth, and pulls with them',
    async () => {
      const other = track(`${repo}:pulled`);
      await docker.getImage(TEST_IMAGE).tag({ repo, tag: 'pulled' });
      await enginePush(other, { ...auth(), serveraddress: AUTH_REGISTRY });
      await untag(other);

      const err = await withEnv({ HOME: dockerHome({}) }, () =>
        callErr('docker_pull_image', { image: other }),
      );
      const out = await call('docker_pull_image', { image: other, auth: auth() });

      expect(err.kind).toBe('registry_auth');
      expect(out.ok).toBe(true);
      expect(await exists(other)).toBe(true);
      noPassword([err, out]);
    },
    LONG,
  );

  it(
    'takes credentials from the base64 auth field of ~/.docker/config.json',
    async () => {
      const home = dockerHome({ auths: { [AUTH_REGISTRY]: { auth: basicAuth } } });

      const out = await withEnv({ HOME: home }, () => call('docker_push_image', { image: ref }));

      expect(out.ok).toBe(true);
      noPassword(out);
    },
    LONG,
  );

  it(
    'matches a config.json entry written as a URL, with username and password fields',
    async () => {
      const home = dockerHome({
        auths: { [`http://${AUTH_REGISTRY}/v2/`]: { username: USER, password: PASSWORD } },
      });

      const out = await withEnv({ HOME: home }, () => call('docker_push_image', { image: ref }));

      expect(out.ok).toBe(true);
    },
    LONG,
  );

  it(
    'lets an explicit auth argument win over wrong credentials in config.json',
    async () => {
      const wrong = Buffer.from(`${USER}:not-the-password`).toString('base64');
      const home = dockerHome({ auths: { [AUTH_REGISTRY]: { auth: wrong } } });

      const withConfig = await withEnv({ HOME: home }, () => call('docker_push_image', { image: ref }));
      const explicit = await withEnv({ HOME: home }, () =>
        call('docker_push_image', { image: ref, auth: auth() }),
      );

      expect(withConfig.ok ? 'ok' : withConfig.error.kind).toBe('registry_auth');
      expect(explicit.ok).toBe(true);
    },
    LONG,
  );

  it(
    'asks the credential helper named in credHelpers, passing the registry on stdin',
    async () => {
      const bin = mkdtempSync(join(tmpdir(), 'mcpt-bin-'));
      temps.push(bin);
      const asked = join(bin, 'asked');
      const helper = join(bin, 'docker-credential-mcpt-test');
      writeFileSync(
        helper,
        `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\necho "$server" > ${asked}\n` +
          `printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"\n`,
      );
      chmodSync(helper, 0o755);
      const home = dockerHome({ credsStore: 'absent-store', credHelpers: { [AUTH_REGISTRY]: 'mcpt-test' } });

      const out = await withEnv({ HOME: home, PATH: `${bin}:${process.env.PATH}` }, () =>
        call('docker_push_image', { image: ref }),
      );

      expect(out.ok).toBe(true);
      expect(readFileSync(asked, 'utf8').trim()).toBe(AUTH_REGISTRY);
      noPassword(out);
    },
    LONG,
  );

  it(
    'names a credential helper that is not installed, with what to do',
    async () => {
      const home = dockerHome({ credsStore: 'mcpt-not-installed' });

      const err = await withEnv({ HOME: home }, () => callErr('docker_push_image', { image: ref }));

      expect(err.kind).toBe('registry_auth');
      expect(err.message).toContain('docker-credential-mcpt-not-installed');
      expect(err.message).toContain('not installed');
      expect(err.hint).toContain('pass auth');
    },
    LONG,
  );

  it(
    'never quotes the password when the auth argument is malformed',
    async () => {
      const errors = [
        await callErr('docker_push_image', { image: ref, auth: { user: USER, password: PASSWORD } }),
        await callErr('docker_pull_image', { image: ref, auth: { username: '', password: PASSWORD } }),
      ];

      for (const err of errors) {
        expect(err.kind).toBe('invalid_argument');
        expect(err.message).toContain("'auth'");
      }
      noPassword(errors.map((e) => [e.message, e.hint]));
    },
    LONG,
  );

  it(
    'refuses an auth argument with a username but no password',
    async () => {
      const err = await callErr('docker_push_image', { image: ref, auth: { username: USER } });

      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain("'auth'");
    },
    LONG,
  );
});

describe('docker_build_image', () => {
  it(
    'builds a target stage with a build arg and labels; returns id, tags and the log tail',
    async () => {
      const [first, second] = [
        track(`${uniqueName('mcpt-build')}:v1`),
        track(`${uniqueName('mcpt-build')}:v2`),
      ];
      const greeting = uniqueName('hi');
      const events: Progress[] = [];

      const out = await callOk<{ id: string; tags: string[]; log: string[] }>(
        'docker_build_image',
        {
          path: join(FIXTURES, 'basic'),
          tag: first,
          tags: [second],
          build_args: { GREETING: greeting },
          labels: { 'mcpt.test': greeting },
          target: 'base',
        },
        { onProgress: (p) => events.push(p) },
      );

      expect(out.id).toMatch(/^[0-9a-f]{12}$/);
      expect(out.tags).toEqual([first, second]);
      expect(out.log.length).toBeLessThanOrEqual(20);
      const log = out.log.join('\n');
      expect(log).toContain(`greeting=${greeting}`);
      expect(log).toContain('context-ok'); // .dockerignore kept ignored.txt out
      expect(log).not.toContain('final-stage');
      const image = await docker.getImage(second).inspect();
      expect(image.Id.slice(7, 19)).toBe(out.id);
      expect(image.Config.Labels?.['mcpt.test']).toBe(greeting);
      expect(events.length).toBeGreaterThan(0);
      expect(events[0]?.message).toMatch(/^Step 1\/\d+: FROM /);
    },
    LONG,
  );

  it(
    'names the failing step, its exit code and its last output, and tags nothing',
    async () => {
      const tag = track(`${uniqueName('mcpt-fail')}:v1`);

      const err = await callErr('docker_build_image', { path: join(FIXTURES, 'failing'), tag });

      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain('Step 3/4: RUN echo "about to fail" && exit 3');
      expect(err.message).toContain('returned a non-zero code: 3');
      expect(err.message).toContain('about to fail');
      expect(err.hint).toContain('Dockerfile');
      expect(await exists(tag)).toBe(false);
    },
    LONG,
  );

  it(
    'refuses a context that is not an absolute directory, and a dockerfile outside it',
    async () => {
      const relative = await callErr('docker_build_image', { path: 'test/fixtures/build/basic' });
      const missing = await callErr('docker_build_image', { path: join(FIXTURES, 'absent') });
      const outside = await callErr('docker_build_image', {
        path: join(FIXTURES, 'basic'),
        dockerfile: '../failing/Dockerfile',
      });

      for (const err of [relative, missing]) {
        expect(err.kind).toBe('invalid_argument');
        expect(err.message).toContain("'path'");
      }
      expect(outside.kind).toBe('invalid_argument');
      expect(outside.message).toContain("'dockerfile'");
    },
    LONG,
  );

  it(
    'pulls a base image from the auth registry with credentials from config.json',
    async () => {
      const base = track(`${AUTH_REGISTRY}/${uniqueName('mcpt-base')}:v1`);
      await uniqueImage(base);
      await enginePush(base, { username: USER, password: PASSWORD, serveraddress: AUTH_REGISTRY });
      await untag(base);
      const tag = track(`${uniqueName('mcpt-from-private')}:v1`);
      const args = { path: join(FIXTURES, 'from-arg'), tag, build_args: { BASE: base }, pull: true };

      const anonymous = await withEnv({ HOME: dockerHome({}) }, () => callErr('docker_build_image', args));
      const home = dockerHome({ auths: { [AUTH_REGISTRY]: { auth: basicAuth } } });
      const out = await withEnv({ HOME: home }, () => callOk<{ log: string[] }>('docker_build_image', args));

      expect(anonymous.kind).toBe('registry_auth');
      expect(anonymous.message).toContain('FROM');
      expect(anonymous.hint).toContain(AUTH_REGISTRY);
      expect(anonymous.hint).not.toContain('pass auth'); // the build tool takes no auth argument
      expect(out.log.join('\n')).toContain('built from the private base');
      expect(await exists(tag)).toBe(true);
      noPassword(out);
    },
    LONG,
  );

  it(
    'stops the engine build when the call is cancelled: no tag, and the build container goes',
    async () => {
      const tag = track(`${uniqueName('mcpt-cancel')}:v1`);
      const nonce = uniqueName('nonce');
      const controller = new AbortController();
      const started = Date.now();
      const pending = call(
        'docker_build_image',
        { path: join(FIXTURES, 'slow'), tag, build_args: { NONCE: nonce } },
        { signal: controller.signal },
      );
      // The step's container gets the build arg as env, not in its command.
      const buildContainers = async () => {
        const steps = (await docker.listContainers({ all: true })).filter((c) =>
          c.Command.includes('slow build'),
        );
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
        return steps.filter((_, i) => envs[i]?.includes(`NONCE=${nonce}`));
      };
      // Cancel once the step's container runs `sleep 30`.
      for (let i = 0; i < 100 && (await buildContainers()).length === 0; i++) await Bun.sleep(100);
      expect((await buildContainers()).length).toBe(1);

      controller.abort();
      const out = await pending;

      expect(out.ok ? 'ok' : out.error.kind).toBe('cancelled');
      expect(Date.now() - started).toBeLessThan(15_000);
      for (let i = 0; i < 100 && (await buildContainers()).length > 0; i++) await Bun.sleep(100);
      expect(await buildContainers()).toEqual([]);
      expect(await exists(tag)).toBe(false);
    },
    LONG,
  );
});
