/**
 * Compose keys that used to be ignored or refused, through the compiled binary on the real engine:
 * deploy.restart_policy, memswap_limit, links, volumes_from and label_file reach the engine as Docker
 * Compose v2 sends them, services they name start first, and a second up touches nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, testDocker, uniqueName } from '../helpers/engine.ts';

let server: RunningServer;
const name = uniqueName('mcptc').replace(/[^a-z0-9-]/g, '');
const dir = mkdtempSync(join(tmpdir(), 'mcpt-compose-'));

const service = (extra: string) => `    image: ${TEST_IMAGE}
    command: ["sh", "-c", "exec sleep 3600"]
    stop_grace_period: 1s
    labels: { ${TEST_LABEL}: "${RUN_ID}" }
${extra}`;

const yaml = `services:
  data:
${service('    volumes: ["/shared"]\n')}
  db:
${service(`    mem_limit: 64m
    memswap_limit: 128m
    deploy: { restart_policy: { condition: on-failure, max_attempts: 2 } }
`)}
  web:
${service(`    links: ["db:database"]
    volumes_from: ["data:ro"]
    label_file: ./web.labels
    read_only: true
    tmpfs: [/run]
    init: true
    ulimits: { nofile: 512 }
    extra_hosts: ["h:10.0.0.3"]
    healthcheck: { test: "test -d /shared", interval: 1s, retries: 5 }
`)}`;

beforeAll(async () => {
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  writeFileSync(join(dir, 'web.labels'), '# from a file\ntier=front\nowner=web-team\n');
  server = await startServer({ args: ['--allow-destructive'] }); // for down
});

afterAll(async () => {
  await server?.client
    .callTool('docker_compose_down', { project_name: name, volumes: true })
    .catch(() => undefined);
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const up = async () =>
  structured<{ steps: string[] }>(
    await server.client.callTool('docker_compose_up', { project_dir: dir, project_name: name }),
  );
const inspect = (service: string) => testDocker().getContainer(`${name}-${service}-1`).inspect();

describe('compose keys applied as Docker Compose v2 applies them', () => {
  it('starts the services links and volumes_from name first, and hands the engine each key', async () => {
    const out = await up();
    const created = out.steps.filter((s) => s.startsWith('container'));
    expect(created.indexOf(`container ${name}-web-1 created`)).toBe(2); // after data and db

    const db = await inspect('db');
    expect(db.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
    expect(db.HostConfig.Memory).toBe(64 * 1024 ** 2);
    expect(db.HostConfig.MemorySwap).toBe(128 * 1024 ** 2);

    const web = await inspect('web');
    const hc = web.HostConfig as typeof web.HostConfig & Record<string, unknown>;
    expect(hc.VolumesFrom).toEqual([`${name}-data-1:ro`]);
    expect(web.NetworkSettings.Networks[`${name}_default`]?.Links).toEqual([`${name}-db-1:database`]);
    expect(web.Config.Labels).toMatchObject({ tier: 'front', owner: 'web-team', [TEST_LABEL]: RUN_ID });
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.Tmpfs).toEqual({ '/run': '' });
    expect(hc.Init).toBe(true);
    expect(hc.Ulimits).toEqual([{ Name: 'nofile', Soft: 512, Hard: 512 }]);
    expect(hc.ExtraHosts).toEqual(['h:10.0.0.3']);
    // data's anonymous volume is web's, read-only.
    const shared = web.Mounts.find((m) => m.Destination === '/shared');
    expect(shared?.RW).toBe(false);
  });

  it('reaches health through volumes_from, and touches nothing on a second up', async () => {
    const waited = structured<{ met: boolean }>(
      await server.client.callTool('docker_wait_container', {
        container_id: `${name}-web-1`,
        until: 'healthy',
        timeout: 30,
      }),
    );
    expect(waited.met).toBe(true);
    const before = (await inspect('web')).Id;

    const again = await up();

    expect(again.steps).toEqual(['data', 'db', 'web'].map((s) => `container ${name}-${s}-1 unchanged`));
    expect((await inspect('web')).Id).toBe(before);
  });

  it('removes the project with down, volumes_from and links notwithstanding', async () => {
    structured(await server.client.callTool('docker_compose_down', { project_name: name, volumes: true }));
    const left = await testDocker().listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${name}`] },
    });
    expect(left).toEqual([]);
    expect((await testDocker().listNetworks({ filters: { name: [`${name}_default`] } })).length).toBe(0);
  });

  it('refuses a link to a service the project does not define, naming the key', async () => {
    const err = errorOf(
      await server.client.callTool('docker_compose_config', {
        content: `services:\n  a:\n    image: ${TEST_IMAGE}\n    links: [nope]\n`,
        project_name: `${name}-bad`,
      }),
    );
    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain('service "a": links names undefined service "nope"');
  });
});
