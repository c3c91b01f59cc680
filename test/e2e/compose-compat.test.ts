/**
 * docker_compose_* through the compiled binary where it must act as docker compose does: the project
 * name and profiles in `.env`, a bind to a missing directory, interpolated booleans, a bare environment
 * name, `!reset`, `pid`/`ipc` of another service, orphans (named, asked about, profiles kept) and
 * `depends_on.restart`.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose interpolation, not templates.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { askingClient } from '../helpers/elicit.ts';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, testDocker, uniqueName } from '../helpers/engine.ts';

const docker = testDocker();
const projects: string[] = [];
const temps: string[] = [];
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ args: ['--allow-destructive'] });
});
afterAll(async () => {
  for (const p of projects)
    await server.client.callTool('docker_compose_down', { project_name: p }).catch(() => undefined);
  await server?.close();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const newName = () => {
  const n = uniqueName('mcpt-cc').replace(/[^a-z0-9-]/g, '');
  projects.push(n);
  return n;
};
const tempDir = (files: Record<string, string> = {}) => {
  const d = mkdtempSync(join(tmpdir(), 'mcpt-compat-'));
  temps.push(d);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
};
const svc = (extra = '') =>
  `{ image: ${TEST_IMAGE}, command: [sleep, "600"], network_mode: none, stop_grace_period: 1s, labels: { ${TEST_LABEL}: "${RUN_ID}" }${extra} }`;

type Up = { project: string; steps: string[] };
const up = async (args: Record<string, unknown>) =>
  structured<Up>(await server.client.callTool('docker_compose_up', args));
const inspect = async (project: string, service: string) => {
  const [c] = await docker.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`] },
  });
  return c ? docker.getContainer(c.Id).inspect() : undefined;
};

describe('a project in a directory', () => {
  it('is named and profiled by COMPOSE_PROJECT_NAME and COMPOSE_PROFILES in .env, and ps and down find it', async () => {
    const name = newName();
    const dir = tempDir({
      'compose.yaml': `services:\n  a: ${svc()}\n  d: ${svc(', profiles: [dev]')}\n`,
      '.env': `COMPOSE_PROJECT_NAME=${name}\nCOMPOSE_PROFILES=dev\n`,
    });
    const out = await up({ project_dir: dir });
    expect(out.project).toBe(name);
    expect(out.steps).toContain(`container ${name}-d-1 created`);
    const ps = structured<{ project: string }>(
      await server.client.callTool('docker_compose_ps', { project_dir: dir }),
    );
    expect(ps.project).toBe(name);
    const down = structured<Up>(await server.client.callTool('docker_compose_down', { project_dir: dir }));
    expect(down.steps).toContain(`container ${name}-a-1 removed`);
  });

  it('makes a bind source directory that does not exist yet, as docker compose does', async () => {
    const dir = tempDir({ 'compose.yaml': `services:\n  a: ${svc(', volumes: ["./newdir/sub:/d"]')}\n` });
    const name = newName();
    await up({ project_dir: dir, project_name: name });
    expect(existsSync(join(dir, 'newdir/sub'))).toBe(true);
    expect((await inspect(name, 'a'))?.State.Running).toBe(true);
  });

  it('resolves a bare environment name from .env', async () => {
    const dir = tempDir({
      'compose.yaml': `services:\n  a: ${svc(', environment: [FOO, BARE_UNSET]')}\n`,
      '.env': 'FOO=from-dotenv\n',
    });
    const name = newName();
    await up({ project_dir: dir, project_name: name });
    const env = (await inspect(name, 'a'))?.Config.Env ?? [];
    expect(env).toContain('FOO=from-dotenv');
    expect(env.filter((e) => e.startsWith('BARE_UNSET'))).toEqual([]);
  });
});

describe('interpolated values', () => {
  it('read booleans as booleans (read_only, init), and a privileged that becomes true is still refused', async () => {
    const name = newName();
    await up({
      content: `services:\n  a: ${svc(', read_only: "${RO:-true}", init: "${INIT}"')}\n`,
      project_name: name,
      env: { INIT: 'yes' },
    });
    const c = await inspect(name, 'a');
    expect([c?.HostConfig.ReadonlyRootfs, c?.HostConfig.Init]).toEqual([true, true]);
    const refused = errorOf(
      await server.client.callTool('docker_compose_up', {
        content: `services:\n  p: ${svc(', privileged: "${P}"')}\n`,
        project_name: newName(),
        env: { P: 'TRUE' },
      }),
    );
    expect(refused.kind).toBe('policy_denied');
    const bad = errorOf(
      await server.client.callTool('docker_compose_config', {
        content: `services:\n  p: ${svc(', tty: "${T}"')}\n`,
        project_name: 'x',
        env: { T: 'maybe' },
      }),
    );
    expect([bad.kind, bad.message]).toEqual([
      'invalid_argument',
      expect.stringContaining('services.p.tty: must be a boolean'),
    ]);
  });

  it('refuses a scale or ulimit that is no whole number once interpolated, naming the key, and makes nothing', async () => {
    for (const [extra, env, said] of [
      [', scale: "${N}"', { N: 'abc' }, 'services.a.scale: must be an integer'],
      [', scale: "${N}"', {}, 'services.a.scale: must be an integer'],
      [', scale: -1', {}, 'service "a": scale must be a whole number, 0 or more'],
      [', ulimits: {nofile: "${N}"}', { N: 'abc' }, 'services.a.ulimits.nofile: must be an integer'],
    ] as const) {
      const name = newName();
      const res = errorOf(
        await server.client.callTool('docker_compose_up', {
          content: `services:\n  a: ${svc(extra)}\n`,
          project_name: name,
          env,
        }),
      );
      expect([res.kind, res.message]).toEqual(['invalid_argument', expect.stringContaining(said)]);
      expect(await inspect(name, 'a')).toBeUndefined();
    }
  });

  it('drops a port an override resets with !reset', async () => {
    const dir = tempDir({
      'compose.yaml': `services:\n  a: ${svc(', ports: ["18730:80"]')}\n`,
      'compose.override.yaml': 'services:\n  a:\n    ports: !reset []\n',
    });
    const cfg = structured<{ services: { ports?: string[] }[] }>(
      await server.client.callTool('docker_compose_config', { project_dir: dir, project_name: 'x' }),
    );
    expect(JSON.stringify(cfg)).not.toContain('18730');
  });
});

describe('pid and ipc of another service', () => {
  it("join that service's container, made first", async () => {
    const name = newName();
    const out = await up({
      content: `services:\n  y: ${svc(', ipc: "service:x", pid: "service:x"')}\n  x: ${svc(', ipc: shareable')}\n`,
      project_name: name,
    });
    expect(out.steps.indexOf(`container ${name}-x-1 created`)).toBeLessThan(
      out.steps.indexOf(`container ${name}-y-1 created`),
    );
    const x = await inspect(name, 'x');
    const y = await inspect(name, 'y');
    expect(y?.State.Running).toBe(true);
    expect([y?.HostConfig.IpcMode, y?.HostConfig.PidMode]).toEqual([
      `container:${x?.Id}`,
      `container:${x?.Id}`,
    ]);
  });
});

describe('orphans', () => {
  it('are named by up, asked about by remove_orphans, and the containers of profiles left out are kept', async () => {
    const name = newName();
    const two = `services:\n  a: ${svc()}\n  b: ${svc()}\n  dbg: ${svc(', profiles: [debug]')}\n`;
    await up({ content: two, project_name: name, profiles: ['debug'] });
    const one = `services:\n  a: ${svc()}\n  dbg: ${svc(', profiles: [debug]')}\n`;
    const plain = await up({ content: one, project_name: name });
    expect(plain.steps).toContain(
      `container ${name}-b-1 orphan: its service is not in the files; remove_orphans: true removes it`,
    );
    expect(plain.steps.join('\n')).not.toContain('dbg');
    const asking = await askingClient({
      kind: 'v2-legacy',
      answer: () => 'accept',
      args: ['--allow-destructive'],
    });
    try {
      const r = await asking.callTool('docker_compose_up', {
        content: one,
        project_name: name,
        remove_orphans: true,
      });
      expect(asking.asked[0]?.message).toContain(`container ${name}-b-1 (running)`);
      // Among what goes; the content below names every service, dbg too.
      expect(asking.asked[0]?.message.split('\n')[1]).not.toContain('dbg');
      // And what is brought up, as the question without remove_orphans shows it.
      expect(asking.asked[0]?.message).toContain('The call: docker_compose_up with {"content":"services:');
      expect(asking.asked[0]?.message).toContain('sleep');
      expect(structured<Up>(r).steps).toContain(`container ${name}-b-1 removed`);
    } finally {
      await asking.close();
    }
    expect((await inspect(name, 'dbg'))?.State.Running).toBe(true);
    expect(await inspect(name, 'b')).toBeUndefined();
  });
});

describe('depends_on with restart: true', () => {
  it('restarts the dependent when its dependency is recreated', async () => {
    const name = newName();
    const file = (v: string) =>
      `services:\n  a: ${svc(', depends_on: { b: { condition: service_started, restart: true } }')}\n  b: ${svc(`, environment: { V: "${v}" }`)}\n`;
    await up({ content: file('1'), project_name: name });
    const before = (await inspect(name, 'a'))?.State.StartedAt;
    const out = await up({ content: file('2'), project_name: name });
    expect(out.steps).toContain(`container ${name}-b-1 recreated`);
    expect(out.steps).toContain(
      `container ${name}-a-1 restarted: a dependency with restart: true was updated`,
    );
    expect((await inspect(name, 'a'))?.State.StartedAt).not.toBe(before);
    // Nothing changed: nothing restarts.
    const again = await up({ content: file('2'), project_name: name });
    expect(again.steps).toEqual([`container ${name}-b-1 unchanged`, `container ${name}-a-1 unchanged`]);
  });
});
