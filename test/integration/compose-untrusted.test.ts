/**
 * Compose from a caller the server does not trust, through the real pipeline on the shared engine: a
 * `.env` that would fill memory, secrets behind interpolation, an empty host_ip, a relative
 * extends.file in inline content, the host network anywhere in a service's list, and a connect to it.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose interpolation, not templates.
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Outcome, runPipeline } from '../../src/pipeline/run.ts';
import { catalogue } from '../../src/tools/index.ts';
import {
  cleanupContainers,
  RUN_ID,
  TEST_IMAGE,
  TEST_LABEL,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';
import { callErr, callOk, pipelineEnv } from '../helpers/pipeline.ts';

const dirs: string[] = [];
const projects: string[] = [];
afterAll(async () => {
  for (const name of projects)
    await callOk('docker_compose_down', { project_name: name }).catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await cleanupContainers();
});

function projectDir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'mcpt-untrusted-'));
  dirs.push(d);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}

const newProject = () => {
  const name = uniqueName('mcptu').replace(/[^a-z0-9-]/g, '');
  projects.push(name);
  return name;
};

const readOnly = { profile: { readOnly: true, allowModerate: false, allowDestructive: false } };

describe('a .env whose lines double each other', () => {
  it('is refused at once, naming the file, the variable and the limit, by a read-only caller', async () => {
    const env = ['A0=xxxxxxxxxx', ...Array.from({ length: 30 }, (_, i) => `A${i + 1}=$A${i}$A${i}`)];
    const dir = projectDir({
      '.env': `${env.join('\n')}\n`,
      'compose.yaml': `services:\n  a:\n    image: ${TEST_IMAGE}\n    command: ["\${A30}"]\n`,
    });
    const started = performance.now();
    const err = await callErr('docker_compose_config', { project_dir: dir }, readOnly);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain(`${dir}/.env: A19: interpolating A18 makes a value over 4 MiB`);
  });
});

describe('secrets behind interpolation in docker_compose_config', () => {
  it('shows values of secret-named .env variables as *** in command, entrypoint and healthcheck', async () => {
    const dir = projectDir({
      '.env': 'DB_PASSWORD=hunter2\nAPI_TOKEN=tok-abc\nTAG=latest\n',
      'compose.yaml': [
        'services:',
        '  app:',
        `    image: "${TEST_IMAGE.split(':')[0]}:\${TAG}"`,
        '    command: ["${DB_PASSWORD}", "${API_TOKEN}"]',
        '    entrypoint: "run --token=${API_TOKEN}"',
        '    healthcheck: { test: ["CMD", "check", "${DB_PASSWORD}"] }',
        '    environment: { DB_PASSWORD: "${DB_PASSWORD}" }',
        '',
      ].join('\n'),
    });
    const cfg = await callOk<{ services: Record<string, Record<string, unknown>> }>(
      'docker_compose_config',
      { project_dir: dir },
      readOnly,
    );
    expect(JSON.stringify(cfg)).not.toMatch(/hunter2|tok-abc/);
    expect(cfg.services.app).toMatchObject({
      image: TEST_IMAGE,
      command: ['***', '***'],
      entrypoint: 'run --token=***',
      healthcheck: { test: ['CMD', 'check', '***'] },
      environment: ['DB_PASSWORD'],
    });
  });

  it("shows the server's own secret-named variables as *** over stdio", async () => {
    const tool = catalogue.find((t) => t.name === 'docker_compose_config') as (typeof catalogue)[number];
    const env = pipelineEnv();
    const stdio = {
      ...env,
      host: { ...env.host, environ: { ...env.host.environ, GITHUB_TOKEN: 'ghp_fxcs' } },
    };
    const out: Outcome = await runPipeline(
      tool,
      { content: 'services:\n  a:\n    image: x\n    command: ["$GITHUB_TOKEN"]\n', project_name: 'fxcs' },
      stdio,
      {},
    );
    if (!out.ok) throw new Error(out.error.message);
    expect((out.data as { services: { a: { command: string[] } } }).services.a.command).toEqual(['***']);
  });
});

describe('an empty host_ip', () => {
  const yaml = `services:\n  a:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    network_mode: bridge\n    stop_grace_period: 1s\n    labels: { ${TEST_LABEL}: "${RUN_ID}" }\n    ports:\n      - { target: 84, host_ip: "\${BIND_IP}", published: "0" }\n      - "\${BIND_IP}::87"\n`;

  it('is shown by config as 127.0.0.1, the short form included', async () => {
    const cfg = await callOk<{ services: { a: { ports: string[] } } }>('docker_compose_config', {
      content: yaml,
      project_name: 'fxcsports',
    });
    expect(cfg.services.a.ports).toEqual(['127.0.0.1:0:84/tcp', '127.0.0.1::87/tcp']);
  });

  it('binds 127.0.0.1 on up, not every interface', async () => {
    const name = newProject();
    await callOk('docker_compose_up', { content: yaml, project_name: name });
    const [made] = await testDocker().listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${name}`] },
    });
    const info = await testDocker()
      .getContainer(made?.Id as string)
      .inspect();
    const ips = Object.values(info.HostConfig.PortBindings ?? {}).flatMap((b) =>
      (b as { HostIp: string }[]).map((x) => x.HostIp),
    );
    expect(ips).toEqual(['127.0.0.1', '127.0.0.1']);
  });
});

describe('a relative extends.file in inline content', () => {
  it("is refused without project_dir, naming no directory of the server's", async () => {
    const err = await callErr(
      'docker_compose_config',
      {
        content: 'services:\n  a:\n    extends: { file: compose.yaml, service: b }\n',
        project_name: 'fxcsext',
      },
      readOnly,
    );
    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain('relative extends.file "compose.yaml" needs project_dir');
    expect(err.message).not.toContain(process.cwd());
  });
});

describe('the host network after a service’s first network', () => {
  const yaml = `services:\n  a:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    networks: [default, hn]\n    labels: { ${TEST_LABEL}: "${RUN_ID}" }\nnetworks:\n  hn: { external: true, name: host }\n`;

  it('is refused by config', async () => {
    const cfg = await callOk<{ refused?: Record<string, string[]> }>('docker_compose_config', {
      content: yaml,
      project_name: 'fxcshost',
    });
    expect(cfg.refused?.a).toEqual([expect.stringMatching(/^service "a": networks\.hn: 'host' is refused/)]);
  });

  it('is refused by up before anything is made', async () => {
    const name = newProject();
    const err = await callErr('docker_compose_up', { content: yaml, project_name: name });
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toMatch(/service "a": networks\.hn: 'host' is refused/);
    const made = await testDocker().listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${name}`] },
    });
    expect(made).toEqual([]);
  });
});

describe('a connect to the host network', () => {
  it('is refused at the engine boundary, by name and by ID', async () => {
    // On the default bridge (not started): a container on 'none' is refused a connect before the engine is asked.
    const c = await testDocker().createContainer({
      name: uniqueName('mcpt'),
      Image: TEST_IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: 'bridge' },
    });
    const host = await testDocker().getNetwork('host').inspect();
    for (const network_id of ['host', host.Id as string]) {
      const err = await callErr('docker_connect_container', { network_id, container_id: c.id });
      expect(err.kind).toBe('policy_denied');
      expect(err.message).toMatch(/host network|'host' is refused/);
    }
  });
});

describe('a project name with no usable character', () => {
  it('is refused by ps and down as by config', async () => {
    for (const tool of ['docker_compose_ps', 'docker_compose_down', 'docker_compose_config']) {
      const args =
        tool === 'docker_compose_config'
          ? { content: 'services: {}', project_name: '!!!' }
          : { project_name: '!!!' };
      const err = await callErr(tool, args);
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain(`invalid argument 'project_name': "!!!" is not a Compose project name`);
    }
  });
});
