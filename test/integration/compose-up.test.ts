/**
 * docker_compose_up when things change under it or it is stopped: a cancel through a real client
 * mid-healthy-wait stops before the next step; a call stopped mid-healthy-wait or mid-pull (during
 * its first step) answers with what exists; a rebuilt image with the same tag recreates its container;
 * secrets and configs backed by an environment variable or inline content; pulls with the registry
 * credentials of the Docker config, as docker_pull_image.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errorOf, startServer } from '../helpers/client.ts';
import {
  cleanupContainers,
  makeContainer,
  RUN_ID,
  TEST_IMAGE,
  TEST_LABEL,
  testDocker,
  uniqueName,
} from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';
import { startRaw } from '../helpers/raw-stdio.ts';

const LONG = 60_000;
const docker = testDocker();
const projects: string[] = [];
const images: string[] = [];
const temps: string[] = [];
afterAll(async () => {
  for (const name of projects)
    await callOk('docker_compose_down', { project_name: name }).catch(() => undefined);
  for (const ref of images)
    await docker
      .getImage(ref)
      .remove({ force: true })
      .catch(() => undefined);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
  await cleanupContainers();
});

const newProject = () => {
  const name = uniqueName('mcptu').replace(/[^a-z0-9-]/g, '');
  projects.push(name);
  return name;
};
const LABEL = `labels: { ${TEST_LABEL}: "${RUN_ID}" }`;

/** db never gets healthy (its check always fails, with many retries); web waits for it. */
const neverHealthy = `
services:
  db:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    network_mode: none
    healthcheck: { test: ["CMD", "false"], interval: 1s, retries: 1000 }
    stop_grace_period: 1s
    ${LABEL}
  web:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    network_mode: none
    depends_on: { db: { condition: service_healthy } }
    ${LABEL}
`;

const services = async (name: string) =>
  (
    await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${name}`] } })
  ).map((c) => c.Labels['com.docker.compose.service']);

/** Each service's container state (one container per service here). */
const states = async (name: string) =>
  Object.fromEntries(
    (
      await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${name}`] } })
    ).map((c) => [c.Labels['com.docker.compose.service'], c.State]),
  );

async function until(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

const textOf = (answer: Record<string, unknown>) =>
  ((answer.result as { content?: { text?: string }[] })?.content ?? []).map((c) => c.text ?? '').join('');

/** Starts the binary, calls up with `args`, waits for `ready`, then closes stdin: the call is answered cancelled. */
async function upStoppedBy(args: Record<string, unknown>, ready: (progress: string[]) => Promise<boolean>) {
  const s = startRaw({ DOCKER_HOST: process.env.DOCKER_HOST ?? '' }, ['--shutdown-grace', '1']);
  await s.request({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  await s.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  await s.write(
    `${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'docker_compose_up', arguments: args, _meta: { progressToken: 'up' } } })}\n`,
  );
  const progress = () =>
    s.messages
      .filter((m) => m.method === 'notifications/progress')
      .map((m) => String((m.params as { message?: string }).message ?? ''));
  await until('the step to stop in', () => ready(progress()));
  s.child.stdin.end();
  const answer = await s.waitFor(2, 15_000);
  await s.close().catch(() => undefined);
  return answer;
}

describe('docker_compose_up stopped part-way', () => {
  it(
    'stops at the next step when a real client cancels mid-healthy-wait: web is created, never started',
    async () => {
      const name = newProject();
      const server = await startServer({ client: 'v2' });
      try {
        const abort = new AbortController();
        const call = server.client.callTool(
          'docker_compose_up',
          { content: neverHealthy, project_name: name },
          {
            signal: abort.signal,
            timeout: LONG,
            onprogress: (p) => {
              // web is created once db started (while db's first healthcheck runs), then waits for it healthy.
              if (p.message?.includes(`${name}-web-1 created`)) setTimeout(() => abort.abort(), 300);
            },
          },
        );
        await expect(call).rejects.toThrow();
        // web is created ahead of its start, and started only once db is healthy.
        expect(await states(name)).toEqual({ db: 'running', web: 'created' });
        // Well past the next healthy poll: nothing more was made or started after the cancel.
        await Bun.sleep(1500);
        expect(await states(name)).toEqual({ db: 'running', web: 'created' });
      } finally {
        await server.close();
      }
    },
    LONG,
  );

  it(
    'answers a call stopped mid-healthy-wait with what exists and what it was waiting for',
    async () => {
      const name = newProject();
      const answer = await upStoppedBy({ content: neverHealthy, project_name: name }, async (progress) =>
        progress.includes(`container ${name}-web-1 created`),
      );
      const text = textOf(answer);
      expect((answer.result as { isError?: boolean }).isError).toBe(true);
      expect(text).toContain('cancelled');
      expect(text).toContain(
        `done before it stopped: container ${name}-db-1 created, container ${name}-web-1 created`,
      );
      expect(text).toContain('it stopped while waiting for "db" (service_healthy) before "web"');
      expect(text).toContain(`created but not started: ${name}-web-1`);
      expect(text).toContain('docker_compose_down');
      expect(await states(name)).toEqual({ db: 'running', web: 'created' });
    },
    LONG,
  );

  it(
    'says nothing was made when stopped during its first step, a pull that stalls',
    async () => {
      // A "registry" on loopback that accepts and never answers: the pull hangs in flight.
      const sockets: Socket[] = [];
      const stall = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
      const port = (stall.address() as { port: number }).port;
      const image = `127.0.0.1:${port}/stall:1`;
      const name = newProject();
      try {
        const answer = await upStoppedBy(
          {
            content: `services:\n  app:\n    image: ${image}\n    network_mode: none\n    ${LABEL}\n`,
            project_name: name,
          },
          async () => sockets.length > 0,
        );
        const text = textOf(answer);
        expect(text).toContain('cancelled');
        expect(text).toContain(`nothing was created or changed; it stopped while pulling image ${image}`);
        expect(await services(name)).toEqual([]);
      } finally {
        for (const s of sockets) s.destroy();
        stall.close();
      }
    },
    LONG,
  );
});

describe('docker_compose_up with an image it cannot pull', () => {
  it(
    'makes nothing, as Compose v2: every image is pulled before any container is created',
    async () => {
      // A "registry" that accepts and hangs up after a moment: ok and after (which waits for bad) were
      // created meanwhile and stayed, in state created, while the answer was the bare pull error.
      const stall = createServer((socket) => setTimeout(() => socket.destroy(), 500));
      await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
      const port = (stall.address() as { port: number }).port;
      const name = newProject();
      const content = `
services:
  ok: { image: ${TEST_IMAGE}, command: ["sleep", "3600"], network_mode: none, ${LABEL} }
  bad: { image: "127.0.0.1:${port}/mcpt-gone:1", network_mode: none, ${LABEL} }
  after: { image: ${TEST_IMAGE}, network_mode: none, depends_on: [bad], ${LABEL} }
`;
      const server = await startServer({ client: 'v2' });
      try {
        const result = await server.client.callTool(
          'docker_compose_up',
          { content, project_name: name },
          { timeout: LONG },
        );
        const failed = errorOf(result);
        expect(failed.message).toContain(`127.0.0.1:${port}/mcpt-gone:1`);
        expect(failed.message).not.toContain('done before it stopped');
        expect(await services(name)).toEqual([]);
      } finally {
        await server.close();
        stall.close();
      }
    },
    LONG,
  );
});

describe('docker_compose_up and what it runs', () => {
  it(
    'recreates a container whose image was rebuilt under the same tag, and only then',
    async () => {
      const name = newProject();
      const repo = `mcpt-retag-${RUN_ID}`.toLowerCase().replace(/[^a-z0-9-]/g, '');
      images.push(`${repo}:1`);
      await docker.getImage(TEST_IMAGE).tag({ repo, tag: '1' });
      const content = `services:\n  app:\n    image: ${repo}:1\n    command: ["sleep", "3600"]\n    network_mode: none\n    ${LABEL}\n`;
      const args = { content, project_name: name, pull: 'never' };
      await callOk('docker_compose_up', args);
      const again = await callOk<{ steps: string[] }>('docker_compose_up', args);
      expect(again.steps).toEqual([`container ${name}-app-1 unchanged`]);

      // "Rebuild": a new image under the same tag.
      const base = await makeContainer({ cmd: ['sh', '-c', 'echo rebuilt > /marker'], start: true });
      await docker.getContainer(base.id).wait();
      await docker.getContainer(base.id).commit({ repo, tag: '1' });
      const rebuilt = await callOk<{ steps: string[] }>('docker_compose_up', args);
      expect(rebuilt.steps).toEqual([`container ${name}-app-1 recreated`]);
      const info = await docker.getContainer(`${name}-app-1`).inspect();
      expect(info.Image).toBe((await docker.getImage(`${repo}:1`).inspect()).Id);
      const third = await callOk<{ steps: string[] }>('docker_compose_up', args);
      expect(third.steps).toEqual([`container ${name}-app-1 unchanged`]);
    },
    LONG,
  );

  it(
    'puts secrets backed by an environment variable and inline configs where Compose does',
    async () => {
      const name = newProject();
      const content = `
services:
  app:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "cat /run/secrets/token; echo; cat /etc/app.conf; echo; exec sleep 3600"]
    network_mode: none
    secrets: [token]
    configs: [{ source: conf, target: /etc/app.conf }]
    ${LABEL}
secrets:
  token: { environment: APP_TOKEN }
configs:
  conf: { content: "mode=\${APP_MODE}" }
`;
      const env = { APP_TOKEN: 's3cret-from-env', APP_MODE: 'fast' };
      await callOk('docker_compose_up', { content, project_name: name, env });
      const ctr = docker.getContainer(`${name}-app-1`);
      let logs = '';
      await until('the secret in the logs', async () => {
        logs = (await ctr.logs({ stdout: true, stderr: true })).toString();
        return logs.includes('mode=fast');
      });
      expect(logs).toContain('s3cret-from-env');
      expect(logs).toContain('mode=fast');

      const unset = await callErr('docker_compose_config', { content, project_name: name });
      expect(unset.kind).toBe('invalid_argument');
      expect(unset.message).toContain('"token" reads environment variable APP_TOKEN, which is not set');
    },
    LONG,
  );
});

describe('docker_compose_up pulls with the Docker config credentials', () => {
  const AUTH_REGISTRY = process.env.MCP_DOCKER_TEST_AUTH_REGISTRY ?? '';
  const USER = process.env.MCP_DOCKER_TEST_AUTH_USER ?? '';
  const PASSWORD = process.env.MCP_DOCKER_TEST_AUTH_PASSWORD ?? '';

  function dockerConfig(config: object): string {
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-cfg-'));
    temps.push(dir);
    mkdirSync(join(dir, '.docker'));
    writeFileSync(join(dir, '.docker', 'config.json'), JSON.stringify(config));
    return join(dir, '.docker');
  }

  it(
    'refuses as registry_auth without them and pulls with them',
    async () => {
      expect(AUTH_REGISTRY).not.toBe('');
      const repo = `${AUTH_REGISTRY}/${uniqueName('mcpt-cpriv')}`;
      const ref = `${repo}:v1`;
      images.push(ref);
      await docker.getImage(TEST_IMAGE).tag({ repo, tag: 'v1' });
      const push = (await docker.getImage(repo).push({
        tag: 'v1',
        authconfig: { username: USER, password: PASSWORD, serveraddress: AUTH_REGISTRY },
      })) as Readable;
      let pushed = '';
      for await (const chunk of push) pushed += chunk.toString();
      expect(pushed).not.toContain('errorDetail');
      await docker.getImage(ref).remove();

      const name = newProject();
      const args = {
        content: `services:\n  app:\n    image: ${ref}\n    command: ["sleep", "3600"]\n    network_mode: none\n    ${LABEL}\n`,
        project_name: name,
      };
      const refused = await callErr('docker_compose_up', args, { dockerConfigDir: dockerConfig({}) });
      expect(refused.kind).toBe('registry_auth');
      expect(refused.message).toContain('service "app"');

      const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
      const up = await callOk<{ steps: string[] }>('docker_compose_up', args, {
        dockerConfigDir: dockerConfig({ auths: { [AUTH_REGISTRY]: { auth: basic } } }),
      });
      expect(up.steps).toEqual([`image ${ref} pulled`, `container ${name}-app-1 created`]);
      expect(JSON.stringify(up)).not.toContain(PASSWORD);
    },
    LONG,
  );
});

describe('anonymous volumes across a recreate and a down', () => {
  /** Writes /data/f and /vol/f once (with V), then prints them: a recreated container shows what it kept. */
  const content = (repo: string, v: string) => `
services:
  db:
    image: ${repo}:1
    command: ["sh", "-c", "for d in /data /vol; do [ -f $$d/f ] || echo kept-$$V > $$d/f; cat $$d/f; done; exec sleep 3600"]
    network_mode: none
    environment: { V: "${v}" }
    volumes: ["/data"]
    stop_grace_period: 1s
    ${LABEL}
`;
  const logsOf = async (id: string, want: RegExp) => {
    let logs = '';
    await until('the files in the logs', async () => {
      logs = (await docker.getContainer(id).logs({ stdout: true, stderr: true })).toString();
      return want.test(logs);
    });
    return logs;
  };
  // Every volume made, removed after the file whatever happened (a failed run leaves them dangling).
  const made: string[] = [];
  afterAll(async () => {
    await cleanupContainers();
    for (const v of made)
      await docker
        .getVolume(v)
        .remove()
        .catch(() => undefined);
  });
  const anonymous = async (id: string) =>
    ((await docker.getContainer(id).inspect()).Mounts ?? [])
      .filter((m) => m.Type === 'volume')
      .map((m) => ({ name: m.Name as string, at: m.Destination }))
      .sort((a, b) => a.at.localeCompare(b.at));

  it(
    'keeps a service’s and an image’s anonymous volumes when up recreates, and down with volumes removes them',
    async () => {
      const name = newProject();
      // An image with a VOLUME, as postgres or redis have.
      const repo = `mcpt-vol-${RUN_ID}`.toLowerCase().replace(/[^a-z0-9-]/g, '');
      images.push(`${repo}:1`);
      const base = await makeContainer({ cmd: ['true'], start: false });
      await docker.getContainer(base.id).commit({ repo, tag: '1', changes: 'VOLUME /vol' });

      await callOk('docker_compose_up', { content: content(repo, '1'), project_name: name, pull: 'never' });
      const first = await docker.getContainer(`${name}-db-1`).inspect();
      made.push(...(first.Mounts ?? []).map((m) => m.Name as string));
      await logsOf(first.Id, /kept-1[\s\S]*kept-1/);
      const before = await anonymous(first.Id);
      expect(before.map((m) => m.at)).toEqual(['/data', '/vol']);

      const again = await callOk<{ steps: string[] }>('docker_compose_up', {
        content: content(repo, '2'),
        project_name: name,
        pull: 'never',
      });
      expect(again.steps).toEqual([`container ${name}-db-1 recreated`]);
      const second = await docker.getContainer(`${name}-db-1`).inspect();
      made.push(...(second.Mounts ?? []).map((m) => m.Name as string));
      expect(second.Id).not.toBe(first.Id);
      expect(await logsOf(second.Id, /kept-\d[\s\S]*kept-\d/)).not.toContain('kept-2');
      expect(await anonymous(second.Id)).toEqual(before);

      const down = await callOk<{ steps: string[] }>('docker_compose_down', {
        project_name: name,
        volumes: true,
      });
      for (const m of before) expect(down.steps).toContain(`volume ${m.name} removed`);
      for (const m of before)
        expect(
          await docker
            .getVolume(m.name)
            .inspect()
            .then(
              () => 'there',
              () => 'gone',
            ),
        ).toBe('gone');
    },
    LONG,
  );
});

describe('down with volumes and a volume named like an anonymous one', () => {
  const hex = () =>
    Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
  const made: string[] = [];
  afterAll(async () => {
    await cleanupContainers();
    for (const v of made)
      await docker
        .getVolume(v)
        .remove()
        .catch(() => undefined);
  });
  const there = (v: string) =>
    docker
      .getVolume(v)
      .inspect()
      .then(
        () => true,
        () => false,
      );

  it(
    'keeps an external one and one a container outside the project uses, removing only its own',
    async () => {
      const name = newProject();
      const external = hex();
      made.push(external);
      await docker.createVolume({ Name: external, Labels: { [TEST_LABEL]: RUN_ID } });
      const content = `
services:
  a:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    network_mode: none
    volumes: ["${external}:/x", "/data", "/shared"]
    stop_grace_period: 1s
    ${LABEL}
volumes:
  ${external}: { external: true }
`;
      await callOk('docker_compose_up', { content, project_name: name });
      const mounts = (await docker.getContainer(`${name}-a-1`).inspect()).Mounts ?? [];
      const at = (d: string) => mounts.find((m) => m.Destination === d)?.Name as string;
      made.push(at('/data'), at('/shared'));
      // Another container, not the project's, mounts one of its anonymous volumes too.
      const other = await docker.createContainer({
        name: uniqueName('mcpt-other'),
        Image: TEST_IMAGE,
        Cmd: ['true'],
        Labels: { [TEST_LABEL]: RUN_ID },
        HostConfig: { NetworkMode: 'none', Binds: [`${at('/shared')}:/s`] },
      });
      const down = await callOk<{ steps: string[] }>('docker_compose_down', {
        project_name: name,
        volumes: true,
      });
      expect(down.steps).toContain(`volume ${at('/data')} removed`);
      expect(JSON.stringify(down.steps)).not.toContain(external);
      expect(JSON.stringify(down.steps)).not.toContain(at('/shared'));
      expect([await there(external), await there(at('/shared')), await there(at('/data'))]).toEqual([
        true,
        true,
        false,
      ]);
      await docker
        .getContainer(other.id)
        .remove({ force: true })
        .catch(() => undefined);
    },
    LONG,
  );
});

describe('service_healthy on a dependency with no healthcheck', () => {
  it(
    'fails at once, naming both services, instead of waiting out the timeout',
    async () => {
      const name = newProject();
      const content = `
services:
  dep:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    network_mode: none
    stop_grace_period: 1s
    ${LABEL}
  app:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    network_mode: none
    depends_on: { dep: { condition: service_healthy } }
    ${LABEL}
`;
      const started = performance.now();
      const e = await callErr('docker_compose_up', { content, project_name: name });
      expect(performance.now() - started).toBeLessThan(15_000);
      expect(e.kind).toBe('conflict');
      expect(e.message).toContain(
        `service "app" waits for "dep" to be healthy (service_healthy), but its container ${name}-dep-1 has no healthcheck configured`,
      );
      expect(e.hint).toContain('condition: service_started');
    },
    LONG,
  );
});
