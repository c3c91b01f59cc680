/**
 * Compose on the shared engine, natively and against Docker Compose 1.29: up, idempotent up, a changed
 * service recreated alone, logs, a refused project leaving nothing behind, interoperability both ways,
 * and `config` agreeing with `docker-compose config` on the real-world fixtures.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type Outcome, runPipeline } from '../../src/pipeline/run.ts';
import { catalogue } from '../../src/tools/index.ts';
import {
  cleanupContainers,
  found,
  makeContainer,
  RUN_ID,
  TEST_IMAGE,
  TEST_LABEL,
  testDocker,
  testSocket,
  uniqueName,
} from '../helpers/engine.ts';
import { connectInProcess, fences, firstText } from '../helpers/in-process.ts';
import { callErr, callOk, pipelineEnv } from '../helpers/pipeline.ts';
import { type RecordedRequest, type RecordingEngine, recordingEngine } from '../helpers/recording-engine.ts';

const dirs: string[] = [];
const projects: string[] = [];
afterAll(async () => {
  for (const name of projects)
    await callOk('docker_compose_down', { project_name: name }).catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const LABEL = `${TEST_LABEL}: "${RUN_ID}"`;
/** A project of two sleeping services on the project network, no published ports; web waits for db's health. */
const compose = (webCmd: string) => `
services:
  db:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "echo db-ready; exec sleep 3600"]
    healthcheck: { test: ["CMD", "true"], interval: 1s, retries: 30 }
    stop_grace_period: 1s
    labels: { ${LABEL} }
  web:
    image: ${TEST_IMAGE}
    command: ${webCmd}
    environment: ["GREETING=\${GREETING:-hello}"]
    depends_on: { db: { condition: service_healthy } }
    stop_grace_period: 1s
    labels: { ${LABEL} }
`;

function projectDir(yaml: string): string {
  const d = mkdtempSync(join(tmpdir(), 'mcpt-compose-'));
  dirs.push(d);
  writeFileSync(join(d, 'compose.yaml'), yaml);
  return d;
}

const newProject = () => {
  const name = uniqueName('mcptc').replace(/[^a-z0-9-]/g, '');
  projects.push(name);
  return name;
};

function dockerCompose(args: string[], cwd?: string) {
  const r = spawnSync('docker-compose', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env },
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`docker-compose ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface Ps {
  containers: { name: string; service: string; number: number; state: string; health?: string }[];
}
const ids = async (name: string) =>
  Object.fromEntries(
    (
      await testDocker().listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${name}`] },
      })
    ).map((c) => [c.Labels['com.docker.compose.service'], c.Id]),
  );

describe('compose up, ps, logs and down', () => {
  const name = newProject();
  const dir = projectDir(compose('["sh", "-c", "echo $$GREETING from web; exec sleep 3600"]'));
  const args = { project_dir: dir, project_name: name };

  it('brings the project up in dependency order, with Compose v2 names and labels', async () => {
    const progress: string[] = [];
    const up = await callOk<{ steps: string[] }>('docker_compose_up', args, {
      onProgress: (p) => progress.push(p.message ?? ''),
    });
    expect(up.steps).toEqual([
      `network ${name}_default created`,
      `container ${name}-db-1 created`,
      `container ${name}-web-1 created`,
    ]);
    expect(progress.length).toBeGreaterThan(0);
    const db = await testDocker().getContainer(`${name}-db-1`).inspect();
    const web = await testDocker().getContainer(`${name}-web-1`).inspect();
    // web started only once db was healthy.
    expect(db.State.Health?.Status).toBe('healthy');
    expect(web.Config.Labels).toMatchObject({
      'com.docker.compose.project': name,
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.project.working_dir': dir,
      'com.docker.compose.project.config_files': join(dir, 'compose.yaml'),
      'com.docker.compose.depends_on': 'db:service_healthy:false',
      [TEST_LABEL]: RUN_ID,
    });
    expect(web.Config.Labels['com.docker.compose.config-hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(web.NetworkSettings.Networks[`${name}_default`]?.Aliases).toContain('web');

    const ps = await callOk<Ps>('docker_compose_ps', { project_name: name });
    expect(ps.containers.map((c) => [c.service, c.number, c.state])).toEqual([
      ['db', 1, 'running'],
      ['web', 1, 'running'],
    ]);
    expect(ps.containers[0]?.health).toBe('healthy');
  });

  it('touches nothing on a second up, and recreates only a changed service', async () => {
    const before = await ids(name);
    const again = await callOk<{ steps: string[] }>('docker_compose_up', args);
    expect(again.steps).toEqual([`container ${name}-db-1 unchanged`, `container ${name}-web-1 unchanged`]);
    expect(await ids(name)).toEqual(before);

    const changed = await callOk<{ steps: string[] }>('docker_compose_up', {
      ...args,
      env: { GREETING: 'bonjour' },
    });
    expect(changed.steps).toEqual([`container ${name}-db-1 unchanged`, `container ${name}-web-1 recreated`]);
    const after = await ids(name);
    expect(after.db).toBe(before.db as string);
    expect(after.web).not.toBe(before.web as string);
  });

  it('merges the services’ logs, each line prefixed by its service, with grep', async () => {
    const logs = await callOk<{ lines: string[] }>('docker_compose_logs', { project_name: name });
    expect(logs.lines).toContain('db | db-ready');
    expect(logs.lines).toContain('web | bonjour from web');
    const only = await callOk<{ lines: string[]; note?: string }>('docker_compose_logs', {
      project_name: name,
      grep: '/^bon/',
    });
    expect(only.lines).toEqual(['web | bonjour from web']);
    expect(only.note).toBeUndefined();
    // grep searches up to --max-log-lines of each container, and says when that was not all of them.
    const short = await callOk<{ count: number; note?: string }>(
      'docker_compose_logs',
      { project_name: name, grep: 'no-such-line' },
      { limits: { maxLogLines: 1 } },
    );
    expect(short.count).toBe(0);
    expect(short.note).toBe(
      'searched only the newest 1 lines of each container (--max-log-lines); older ones were not searched: give until (and since) to search an earlier stretch',
    );
  });

  it('is seen by Docker Compose 1.29 as its own project', async () => {
    const listed = dockerCompose(['-f', join(dir, 'compose.yaml'), '-p', name, 'ps', '-q'], dir)
      .trim()
      .split('\n')
      .sort();
    expect(listed).toEqual(
      Object.values(await ids(name))
        .map(String)
        .sort(),
    );
    expect(listed).toHaveLength(2);
  });

  it('stops, starts and restarts, and down removes containers and network', async () => {
    const stopped = await callOk<{ containers: string[] }>('docker_compose_stop', { project_name: name });
    expect(stopped.containers).toHaveLength(2);
    expect(
      (await callOk<Ps>('docker_compose_ps', { project_name: name })).containers.map((c) => c.state),
    ).toEqual(['exited', 'exited']);
    await callOk('docker_compose_start', { project_name: name, services: ['db'] });
    const ps = await callOk<Ps>('docker_compose_ps', { project_name: name });
    expect(ps.containers.map((c) => c.state)).toEqual(['running', 'exited']);
    await callOk('docker_compose_restart', { project_name: name });
    const down = await callOk<{ steps: string[] }>('docker_compose_down', { project_name: name });
    expect(down.steps).toContain(`network ${name}_default removed`);
    expect(await ids(name)).toEqual({});
    expect(await testDocker().listNetworks({ filters: { name: [`${name}_default`] } })).toEqual([]);
  });
});

describe('declared networks, named volumes, replicas and orphans', () => {
  it('creates them with Compose names and labels, removes orphans when asked, and volumes only with volumes: true', async () => {
    const name = newProject();
    const svc = (extra: string) =>
      `    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    labels: { ${LABEL} }\n${extra}`;
    const yaml = (withOld: boolean) =>
      `services:\n  app:\n${svc('    networks: { back: { aliases: [api] }, front: {} }\n    volumes: [data:/data]\n    deploy: { replicas: 2 }\n')}` +
      (withOld ? `  old:\n${svc('')}` : '') +
      `networks:\n  back: { internal: true }\n  front: {}\nvolumes:\n  data: { labels: { ${LABEL} } }\n`;
    const first = await callOk<{ steps: string[] }>('docker_compose_up', {
      content: yaml(true),
      project_name: name,
    });
    expect(first.steps).toEqual([
      `network ${name}_back created`,
      `network ${name}_front created`,
      `network ${name}_default created`,
      `volume ${name}_data created`,
      `container ${name}-app-1 created`,
      `container ${name}-app-2 created`,
      `container ${name}-old-1 created`,
    ]);
    const app = await testDocker().getContainer(`${name}-app-2`).inspect();
    expect(Object.keys(app.NetworkSettings.Networks).sort()).toEqual([`${name}_back`, `${name}_front`]);
    expect(app.NetworkSettings.Networks[`${name}_back`]?.Aliases).toEqual(
      expect.arrayContaining(['app', 'api']),
    );
    expect((await testDocker().getNetwork(`${name}_back`).inspect()).Internal).toBe(true);
    expect(app.Mounts.find((m) => m.Destination === '/data')?.Name).toBe(`${name}_data`);
    const vol = await testDocker().getVolume(`${name}_data`).inspect();
    expect(vol.Labels).toMatchObject({
      'com.docker.compose.project': name,
      'com.docker.compose.volume': 'data',
    });

    // Without remove_orphans the old service stays, named as an orphan; with it, it goes (and the call is destructive).
    const kept = await callOk<{ steps: string[] }>('docker_compose_up', {
      content: yaml(false),
      project_name: name,
    });
    expect(kept.steps.filter((s) => s.includes('old'))).toEqual([
      `container ${name}-old-1 orphan: its service is not in the files; remove_orphans: true removes it`,
    ]);
    expect(Object.keys(await ids(name))).toContain('old');
    const refused = await callErr(
      'docker_compose_up',
      { content: yaml(false), project_name: name, remove_orphans: true },
      { profile: { allowDestructive: false } },
    );
    expect(refused.kind).toBe('policy_denied');
    const removed = await callOk<{ steps: string[] }>('docker_compose_up', {
      content: yaml(false),
      project_name: name,
      remove_orphans: true,
    });
    expect(removed.steps).toContain(`container ${name}-old-1 removed`);

    const ls = await callOk<{ projects: { name: string; status: string }[] }>('docker_compose_ls');
    expect(ls.projects.find((p) => p.name === name)?.status).toBe('running(2)');

    await callOk('docker_compose_down', { project_name: name });
    expect(await found(testDocker().getVolume(`${name}_data`).inspect())).toBe(true);
    await callOk('docker_compose_down', { project_name: name, volumes: true });
    expect(await found(testDocker().getVolume(`${name}_data`).inspect())).toBe(false);
  });

  it('refuses a named volume or network the top level does not declare, in config and up, making nothing', async () => {
    const name = newProject();
    for (const [extra, said] of [
      ['    volumes: ["typo-vol:/d"]\n', 'service "a": volumes: volume "typo-vol" is not declared'],
      ['    networks: [typo-net]\n', 'service "a": networks: network "typo-net" is not declared'],
    ] as const) {
      const content = `services:\n  a:\n    image: ${TEST_IMAGE}\n    labels: { ${LABEL} }\n${extra}`;
      for (const tool of ['docker_compose_config', 'docker_compose_up']) {
        const e = await callErr(tool, { content, project_name: name });
        expect(e.kind).toBe('invalid_argument');
        expect(e.message).toContain(said);
        expect(e.hint).toContain('Declare it under');
      }
    }
    expect(await ids(name)).toEqual({});
    expect(
      await testDocker().listNetworks({ filters: { label: [`com.docker.compose.project=${name}`] } }),
    ).toEqual([]);
    expect(await found(testDocker().getVolume(`${name}_typo-vol`).inspect())).toBe(false);
  });
});

describe('what a second up leaves running', () => {
  it('keeps a container whose service only gained depends_on or an active profile, as Compose v2', async () => {
    const name = newProject();
    const yaml = (extra: string) =>
      `services:\n  a:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    network_mode: none\n    stop_grace_period: 1s\n    labels: { ${LABEL} }\n${extra}` +
      `  b:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    network_mode: none\n    stop_grace_period: 1s\n    labels: { ${LABEL} }\n`;
    const up = (extra: string) =>
      callOk<{ steps: string[] }>('docker_compose_up', {
        content: yaml(extra),
        project_name: name,
        profiles: ['p1'],
      });
    await up('');
    const before = await ids(name);
    for (const extra of ['    depends_on: [b]\n', '    depends_on: [b]\n    profiles: [p1]\n']) {
      const again = await up(extra);
      expect(again.steps).toEqual([`container ${name}-b-1 unchanged`, `container ${name}-a-1 unchanged`]);
    }
    expect(await ids(name)).toEqual(before);
    // A change to what runs still recreates.
    expect((await up('    environment: { V: "2" }\n')).steps).toContain(`container ${name}-a-1 recreated`);
  });
});

describe('what docker_compose_config shows', () => {
  it('every key a service sets that changes what runs, with secrets and configs by origin, never their values', async () => {
    const yaml = [
      'services:',
      '  db:',
      `    image: ${TEST_IMAGE}`,
      '    container_name: fxcfg-db',
      '    user: postgres',
      '    expose: ["5432"]',
      '    labels: { team: data }',
      '    cap_add: [NET_ADMIN]',
      '    logging: { driver: syslog, options: { syslog-address: "tcp://127.0.0.1:514" } }',
      '    sysctls: { net.core.somaxconn: 1024 }',
      '    working_dir: /w',
      '    read_only: true',
      '    build: { context: /tmp, target: dev, args: { BUILD_PW: build-arg-value } }',
      '    environment: { PGPASS: env-value }',
      '    secrets: [db-password]',
      '    configs: [{ source: conf, target: /etc/app.conf }]',
      '    x-note: ignored',
      'secrets:',
      '  db-password: { file: /tmp/pw.txt }',
      'configs:',
      '  conf: { content: inline-config-text }',
      '',
    ].join('\n');
    const cfg = await callOk<{
      services: { db: Record<string, unknown> };
      secrets: { name: string; from: string }[];
      configs: { name: string; from: string }[];
    }>('docker_compose_config', { content: yaml, project_name: 'fxcfgshow' });
    expect(cfg.services.db).toMatchObject({
      container_name: 'fxcfg-db',
      user: 'postgres',
      expose: ['5432'],
      labels: { team: 'data' },
      cap_add: ['NET_ADMIN'],
      logging: { driver: 'syslog', options: { 'syslog-address': 'tcp://127.0.0.1:514' } },
      sysctls: { 'net.core.somaxconn': '1024' },
      working_dir: '/w',
      read_only: true,
      build: { context: '/tmp', target: 'dev', args: ['BUILD_PW'] },
      environment: ['PGPASS'],
      secrets: ['db-password'],
      configs: ['conf:/etc/app.conf'],
    });
    expect(cfg.secrets).toEqual([{ name: 'db-password', from: 'file /tmp/pw.txt' }]);
    expect(cfg.configs).toEqual([{ name: 'conf', from: 'content' }]);
    expect(JSON.stringify(cfg)).not.toMatch(/build-arg-value|env-value|inline-config-text|x-note/);
  });
});

describe("a network's ipam", () => {
  it("gives a network the subnet and gateway it asks for, and a second up keeps it (its own bridge's route is the engine's)", async () => {
    const name = newProject();
    const base = `10.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}`;
    const yaml =
      `services:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n` +
      `    labels: { ${LABEL} }\n    networks: [front]\n` +
      `networks:\n  front:\n    internal: true\n    ipam:\n      config:\n        - subnet: ${base}.0/24\n          gateway: ${base}.1\n`;
    const first = await callOk<{ steps: string[] }>('docker_compose_up', {
      content: yaml,
      project_name: name,
    });
    expect(first.steps).toContain(`network ${name}_front created`);
    const net = await testDocker().getNetwork(`${name}_front`).inspect();
    expect(net.IPAM?.Config).toEqual([{ Subnet: `${base}.0/24`, Gateway: `${base}.1` }]);
    const again = await callOk<{ steps: string[] }>('docker_compose_up', {
      content: yaml,
      project_name: name,
    });
    expect(again.steps.some((s) => s.includes('network'))).toBe(false);
    await callOk('docker_compose_down', { project_name: name });
    expect(await found(testDocker().getNetwork(`${name}_front`).inspect())).toBe(false);
  });
});

describe('pulling missing images', () => {
  const REGISTRY = process.env.MCP_DOCKER_TEST_REGISTRY ?? '';
  it('pulls a missing image (pull: missing), and refuses with pull: never before creating anything', async () => {
    if (!REGISTRY) throw new Error('MCP_DOCKER_TEST_REGISTRY is not set: run through `npm test`');
    const docker = testDocker();
    const tag = uniqueName('c')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '');
    const ref = `${REGISTRY}/mcpt-compose:${tag}`;
    await docker.getImage(TEST_IMAGE).tag({ repo: `${REGISTRY}/mcpt-compose`, tag });
    await callOk('docker_push_image', { image: ref });
    await docker.getImage(ref).remove();
    try {
      const name = newProject();
      const yaml = `services:\n  app:\n    image: ${ref}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    labels: { ${LABEL} }\n`;
      const never = await callErr('docker_compose_up', { content: yaml, project_name: name, pull: 'never' });
      expect(never.kind).toBe('not_found');
      expect(never.message).toContain(`image ${ref} is not on the engine`);
      expect(await ids(name)).toEqual({});
      // Not even the project's network: it was neither made nor still being made when the call answered.
      const projectLabel = { label: [`com.docker.compose.project=${name}`] };
      expect(await docker.listNetworks({ filters: projectLabel })).toEqual([]);
      const up = await callOk<{ steps: string[] }>('docker_compose_up', {
        content: yaml,
        project_name: name,
      });
      expect(up.steps).toContain(`image ${ref} pulled`);
      expect(up.steps).toContain(`container ${name}-app-1 created`);
      await callOk('docker_compose_down', { project_name: name });
    } finally {
      await docker
        .getImage(ref)
        .remove()
        .catch(() => undefined);
    }
  });
});

/** A recording proxy in front of the test engine (see recordingEngine) for `fn`, closed after it. */
async function throughRecorder(
  opts: Parameters<typeof recordingEngine>[1],
  fn: (rec: RecordingEngine) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpt-compose-rec-'));
  const rec = await recordingEngine(join(dir, 'engine.sock'), { upstream: testSocket(), ...opts });
  try {
    await fn(rec);
  } finally {
    await rec.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('an image the call may not pull', () => {
  it('is looked at before any network or volume is made', async () => {
    // A refusal that raced a network's creation left it being made after the call answered; the next
    // up then made a second network of the same name, which no container can join.
    await throughRecorder({}, async (rec) => {
      const name = newProject();
      const yaml = `services:\n  app:\n    image: mcp-test/not-on-this-engine:${name}\n    volumes: [data:/data]\nvolumes:\n  data: {}\n`;
      const never = await callErr(
        'docker_compose_up',
        { content: yaml, project_name: name, pull: 'never' },
        { engine: rec.engineHandle() },
      );
      expect(never.kind).toBe('not_found');
      const asked = rec.calls().map((r) => `${r.method} ${r.path}`);
      expect(asked.some((r) => r.includes('/images/mcp-test/not-on-this-engine'))).toBe(true);
      // The policy may look a named volume up; nothing may look for the network, or make either.
      expect(asked.filter((r) => r.includes('/networks') || r.startsWith('POST /volumes'))).toEqual([]);
    });
  });
});

describe('a failed up', () => {
  it('pulls every image before it makes a network: a failed pull leaves nothing', async () => {
    // The network's create used to race the pull (nothing listens on 127.0.0.1:1); now, as Compose v2,
    // every image is there before anything is made, so the answer is the pull's error and nothing exists.
    await throughRecorder({}, async (rec) => {
      const name = newProject();
      const yaml = `services:\n  app:\n    image: 127.0.0.1:1/mcp-test/nowhere:${name}\n`;
      const failed = await callErr(
        'docker_compose_up',
        { content: yaml, project_name: name },
        { engine: rec.engineHandle() },
      );
      expect(failed.message).toContain(`127.0.0.1:1/mcp-test/nowhere:${name}`);
      expect(failed.message).not.toContain('done before it stopped');
      expect(rec.calls().filter((r) => r.method === 'POST' && !r.path.includes('/images/create'))).toEqual(
        [],
      );
      expect(await testDocker().listNetworks({ filters: { name: [`${name}_default`] } })).toEqual([]);
    });
  });

  it('says a container created while another failed exists, not started', async () => {
    // a's create is slow to answer; b's is refused at once (its name is taken). a's create used to be
    // cut and the answer was b's bare error, with a's container left on the engine unmentioned.
    const taken = await makeContainer({ start: false });
    const hold = {
      holdAnswer: (r: RecordedRequest) =>
        r.method === 'POST' && r.path.includes('/containers/create') && r.path.includes('-a-1') ? 1000 : 0,
    };
    await throughRecorder(hold, async (rec) => {
      const name = newProject();
      const yaml = `services:
  a: { image: ${TEST_IMAGE}, network_mode: none, labels: { ${LABEL} } }
  b: { image: ${TEST_IMAGE}, network_mode: none, container_name: ${taken.name}, labels: { ${LABEL} } }
`;
      const failed = await callErr(
        'docker_compose_up',
        { content: yaml, project_name: name },
        { engine: rec.engineHandle() },
      );
      expect(failed.message).toContain(`done before it stopped: container ${name}-a-1 created`);
      expect(failed.message).toContain(`created but not started: ${name}-a-1`);
      expect(failed.hint).toContain('docker_compose_down');
      const left = await testDocker().listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${name}`] },
      });
      expect(left.map((c) => [c.Names[0], c.State])).toEqual([[`/${name}-a-1`, 'created']]);
    });
  });
});

describe('the generate_compose prompt', () => {
  it('writes a file docker_compose_config loads without errors', async () => {
    const c = await makeContainer({ env: ['API_TOKEN=hunter2', 'PRICE=$5', 'MODE=demo'] });
    const mcp = await connectInProcess();
    try {
      const out = firstText(
        await mcp.client.getPrompt({ name: 'generate_compose', arguments: { container_ids: c.name } }),
      );
      const [fence] = fences(out);
      const content = fence?.lines.join('\n') ?? '';
      expect(content).toContain(c.name);
      const cfg = await callOk<{ services: Record<string, { image: string; environment: string[] }> }>(
        'docker_compose_config',
        { content, project_name: 'generated', env: { API_TOKEN: 'x' } },
      );
      expect(cfg.services[c.name]).toMatchObject({
        image: TEST_IMAGE,
        environment: ['API_TOKEN', 'PRICE', 'MODE'],
      });
    } finally {
      await mcp.close();
      await cleanupContainers();
    }
  });
});

describe('services with build:', () => {
  it('are built through the build-context path when their image is missing, then reused', async () => {
    const name = newProject();
    const dir = projectDir(
      `services:\n  app:\n    build: ./ctx\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    labels: { ${LABEL} }\n`,
    );
    mkdirSync(join(dir, 'ctx'));
    writeFileSync(join(dir, 'ctx', 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL ${TEST_LABEL}=${RUN_ID}\n`);
    try {
      const first = await callOk<{ steps: string[] }>('docker_compose_up', {
        project_dir: dir,
        project_name: name,
      });
      expect(first.steps).toEqual([
        `network ${name}_default created`,
        `image ${name}-app built`,
        `container ${name}-app-1 created`,
      ]);
      const again = await callOk<{ steps: string[] }>('docker_compose_up', {
        project_dir: dir,
        project_name: name,
      });
      expect(again.steps).toEqual([`container ${name}-app-1 unchanged`]);
      await callOk('docker_compose_down', { project_name: name });
    } finally {
      await testDocker()
        .getImage(`${name}-app`)
        .remove()
        .catch(() => undefined);
    }
  });

  it('refuses a build context the host-path rule refuses', async () => {
    const name = newProject();
    const dir = projectDir(`services:\n  app:\n    build: /etc\n    labels: { ${LABEL} }\n`);
    const err = await callErr('docker_compose_up', { project_dir: dir, project_name: name });
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toContain('build.context');
    expect(await ids(name)).toEqual({});
    expect(
      await testDocker().listNetworks({ filters: { label: [`com.docker.compose.project=${name}`] } }),
    ).toEqual([]);
  });
});

describe('a failure part-way through up', () => {
  it('says what exists when a dependency fails its condition', async () => {
    const name = newProject();
    const yaml = `services:
  migrate:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "exit 3"]
    labels: { ${LABEL} }
  app:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    depends_on: { migrate: { condition: service_completed_successfully } }
    labels: { ${LABEL} }
`;
    const err = await callErr('docker_compose_up', { content: yaml, project_name: name });
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(
      'service "app" waits for "migrate" (service_completed_successfully), which failed',
    );
    expect(err.message).toContain(
      `done before it stopped: network ${name}_default created, container ${name}-migrate-1 created, container ${name}-app-1 created`,
    );
    expect(err.message).toContain(`created but not started: ${name}-app-1`);
    // As Compose v2: app's container was created with the others, and never started.
    const app = await testDocker().getContainer(`${name}-app-1`).inspect();
    expect(app.State.Status).toBe('created');
  });
});

describe('interpolation sources', () => {
  // The image is only shown, never pulled: config reads it from the process environment or not.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, literally
  const yaml = 'services:\n  a:\n    image: "img${HOME:-unset}"\n';
  const args = { content: yaml, project_name: 'interp' };
  const tool = catalogue.find((t) => t.name === 'docker_compose_config') as (typeof catalogue)[number];
  const imageOf = (out: Outcome) => {
    if (!out.ok) throw new Error(out.error.message);
    return (out.data as { services: Record<string, { image?: string }> }).services.a?.image;
  };

  it('reads the process environment over stdio, env winning over it', async () => {
    const home = process.env.HOME as string;
    expect(home).toBeTruthy();
    expect(imageOf(await runPipeline(tool, args, pipelineEnv(), {}))).toBe(`img${home}`);
    expect(imageOf(await runPipeline(tool, { ...args, env: { HOME: '/e' } }, pipelineEnv(), {}))).toBe(
      'img/e',
    );
  });

  it('never reads it for a remote (HTTP) caller', async () => {
    const remote = { ...pipelineEnv(), remote: { log: () => undefined } };
    expect(imageOf(await runPipeline(tool, args, remote, {}))).toBe('imgunset');
    expect(imageOf(await runPipeline(tool, { ...args, env: { HOME: '/e' } }, remote, {}))).toBe('img/e');
  });
});

describe('compose safety', () => {
  it('refuses a privileged service before anything is created, naming the service and key', async () => {
    const name = newProject();
    const yaml = `${compose('["sleep", "3600"]')}  root:\n    image: ${TEST_IMAGE}\n    privileged: true\n    command: ["sleep", "3600"]\n`;
    const err = await callErr('docker_compose_up', { content: yaml, project_name: name });
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toMatch(/service "root" \(key privileged\)/);
    expect(await ids(name)).toEqual({});
    expect(
      await testDocker().listNetworks({ filters: { label: [`com.docker.compose.project=${name}`] } }),
    ).toEqual([]);
  });

  it('reports in config every refusal of every service, and redacts environment values', async () => {
    const yaml = `services:\n  root:\n    image: ${TEST_IMAGE}\n    privileged: true\n    cap_add: [CHOWN, SYS_ADMIN]\n    pid: host\n    environment: { SECRET: hunter2 }\n  sock:\n    image: ${TEST_IMAGE}\n    volumes: ["/var/run/docker.sock:/s", "/etc:/e"]\n  fine:\n    image: ${TEST_IMAGE}\n`;
    const cfg = await callOk<{
      services: Record<string, { environment: string[] }>;
      refused: Record<string, string[]>;
    }>('docker_compose_config', { content: yaml, project_name: 'cfgcheck' });
    expect(cfg.services.root?.environment).toEqual(['SECRET']);
    expect(JSON.stringify(cfg)).not.toContain('hunter2');
    expect(Object.keys(cfg.refused).sort()).toEqual(['root', 'sock']);
    expect(cfg.refused.root).toHaveLength(3);
    expect(cfg.refused.root?.[0]).toMatch(/^service "root" \(key privileged\): .*privileged/);
    expect(cfg.refused.root?.[1]).toMatch(
      /^service "root" \(key cap_add\): HostConfig\.CapAdd\[1\]: capability 'SYS_ADMIN'/,
    );
    expect(cfg.refused.root?.[2]).toMatch(/^service "root" \(key pid\): .*host's pid namespace/);
    expect(cfg.refused.sock).toHaveLength(2);
    expect(cfg.refused.sock?.every((m) => m.startsWith('service "sock" (key volumes)'))).toBe(true);
  });

  it('lists in config the names up would refuse, beside the policy refusals', async () => {
    const yaml = `services:\n  root:\n    image: ${TEST_IMAGE}\n    privileged: true\n    networks: [odd]\n  fine:\n    image: ${TEST_IMAGE}\nnetworks:\n  odd:\n    name: "x/../../containers/json#"\n`;
    const cfg = await callOk<{ refused: Record<string, string[]> }>('docker_compose_config', {
      content: yaml,
      project_name: 'cfgnames',
    });
    expect(cfg.refused).toEqual({
      root: [
        'service "root": network "odd" is named "x/../../containers/json#", which is not a network name',
        expect.stringMatching(/^service "root" \(key privileged\): /),
      ],
    });
  });

  it('refuses up naming every refusal at once', async () => {
    const name = newProject();
    const yaml = `services:\n  a:\n    image: ${TEST_IMAGE}\n    privileged: true\n  b:\n    image: ${TEST_IMAGE}\n    network_mode: host\n`;
    const err = await callErr('docker_compose_up', { content: yaml, project_name: name });
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toMatch(/service "a" \(key privileged\).*; service "b" \(key network_mode\)/);
    expect(await ids(name)).toEqual({});
  });
});

describe('a project brought up by docker-compose 1.29', () => {
  it('is shown by our ps, ls and logs and removed by our down', async () => {
    const name = newProject();
    const dir = projectDir(
      compose('["sh", "-c", "echo from-1.29; exec sleep 3600"]').replace(/ *depends_on: .*\n/, ''),
    );
    dockerCompose(['-f', join(dir, 'compose.yaml'), '-p', name, 'up', '-d'], dir);
    const ps = await callOk<Ps>('docker_compose_ps', { project_name: name });
    expect(ps.containers.map((c) => [c.service, c.state])).toEqual([
      ['db', 'running'],
      ['web', 'running'],
    ]);
    const ls = await callOk<{ projects: { name: string; status: string; config_files: string }[] }>(
      'docker_compose_ls',
    );
    expect(ls.projects.find((p) => p.name === name)).toMatchObject({ status: 'running(2)' });
    let lines: string[] = [];
    for (let i = 0; i < 20 && !lines.includes('web | from-1.29'); i++) {
      lines = (await callOk<{ lines: string[] }>('docker_compose_logs', { project_name: name })).lines;
      await Bun.sleep(100);
    }
    expect(lines).toContain('web | from-1.29');
    await callOk('docker_compose_down', { project_name: name });
    expect(await ids(name)).toEqual({});
    expect(await testDocker().listNetworks({ filters: { name: [`${name}_default`] } })).toEqual([]);
  });
});

describe('docker_compose_config agrees with docker-compose config on the fixtures', () => {
  const root = '/work/shared/fixtures/compose/awesome-compose';
  const fixtures = existsSync(root) ? readdirSync(root).filter((d) => d !== 'LICENSE') : [];
  it('has fixtures to compare', () => expect(fixtures.length).toBeGreaterThan(20));

  type Svc = {
    image?: string;
    ports?: string[];
    volumes?: string[];
    networks?: string[];
    depends_on?: Record<string, string>;
  };
  for (const fx of fixtures)
    it(fx, async () => {
      const dir = join(root, fx);
      const file = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'].find((f) =>
        existsSync(join(dir, f)),
      ) as string;
      const text = Bun.file(join(dir, file));
      const raw = parse(await text.text()) as Record<string, unknown>;
      // 1.29 rejects a top-level name:; give it a copy without it.
      let f129 = join(dir, file);
      if (raw.name !== undefined) {
        const tmp = mkdtempSync(join(tmpdir(), 'mcpt-fx-'));
        dirs.push(tmp);
        delete raw.name;
        mkdirSync(tmp, { recursive: true });
        f129 = join(tmp, 'compose.yaml');
        writeFileSync(f129, JSON.stringify(raw));
      }
      const theirs = parse(dockerCompose(['-f', f129, '--project-directory', dir, 'config'], dir)) as {
        services: Record<string, Record<string, unknown>>;
      };
      const ours = await callOk<{ services: Record<string, Svc> }>(
        'docker_compose_config',
        { project_dir: dir },
        { policy: { mountAllowlist: [root, tmpdir()] } },
      );
      expect(Object.keys(ours.services).sort()).toEqual(Object.keys(theirs.services).sort());
      for (const [n, t] of Object.entries(theirs.services)) {
        const o = ours.services[n] as Svc;
        expect(o.image).toBe(t.image as string | undefined);
        const ports = ((t.ports as Record<string, unknown>[] | undefined) ?? []).map(
          (p) => `${p.published ?? ''}:${p.target}/${p.protocol ?? 'tcp'}`,
        );
        expect((o.ports ?? []).map((p) => p.replace(/^[^:]*:/, ''))).toEqual(ports);
        const volumes = ((t.volumes as (string | Record<string, unknown>)[] | undefined) ?? []).map((v) =>
          typeof v === 'string' ? (v.split(':')[1] ?? v) : String(v.target),
        );
        expect((o.volumes ?? []).map((v) => v.replace(/:ro$/, '').split(':').at(-1))).toEqual(volumes);
        const nets = t.network_mode
          ? undefined
          : Object.keys((t.networks as object | undefined) ?? { default: {} }).sort();
        expect(o.networks?.slice().sort()).toEqual(nets as string[]);
        const deps = Array.isArray(t.depends_on)
          ? Object.fromEntries(t.depends_on.map((d) => [d, 'service_started']))
          : Object.fromEntries(
              Object.entries((t.depends_on as Record<string, { condition: string }> | undefined) ?? {}).map(
                ([d, c]) => [d, c.condition],
              ),
            );
        expect(o.depends_on ?? {}).toEqual(deps);
      }
    });
});
