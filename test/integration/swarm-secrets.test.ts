/**
 * docker_secret_* and docker_config_* on the test Swarm (test/helpers/swarm-cluster.ts): create, list, inspect, remove,
 * a name conflict and an object in use. A secret's value is a declared secret argument: the compiled
 * binary, run with an audit log and debug logging, never returns it, never writes it to the audit
 * log or stderr and never quotes it in an error, in plain text or base64. A config's contents do
 * come back, as text.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer, structured, textOf } from '../helpers/client.ts';
import { TEST_IMAGE } from '../helpers/engine.ts';
import { withSwarm } from '../helpers/swarm.ts';

const swarm = withSwarm();
const work = mkdtempSync(join(tmpdir(), 'mcpt-secrets-'));
// Names of this file's objects on the shared cluster.
const READER = `mcpt-reader-${process.pid}`;

afterAll(async () => {
  // What a failed test left on the shared cluster; each removal is a no-op when it is gone.
  for (const [kind, name] of [
    ['service', READER],
    ['secret', 'db_password'],
    ['config', 'nginx_conf'],
    ['config', 'env_conf'],
  ])
    await swarm()
      .raw('manager', 'DELETE', `/${kind}s/${name}`)
      .catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('docker_secret_*', () => {
  // A value no log, audit line or error would contain by chance.
  const VALUE = `s3cr3t-${Math.random().toString(36).slice(2)}-value`;
  const SHAPES = [VALUE, Buffer.from(VALUE).toString('base64')];
  let server: RunningServer;
  const audit = join(work, 'audit.jsonl');

  afterAll(async () => {
    await server?.close();
  });

  it('never returns, audits, logs or quotes the value, through the compiled binary', async () => {
    server = await startServer({
      env: { DOCKER_HOST: swarm().manager.host },
      args: [
        '--toolsets',
        'default,swarm',
        '--allow-destructive',
        '--audit-log',
        audit,
        '--log-level',
        'debug',
      ],
    });
    const { client } = server;
    const created = structured<{ id: string; name: string }>(
      await client.callTool('docker_secret_create', {
        name: 'db_password',
        data: VALUE,
        labels: { app: 'db' },
      }),
    );
    expect(created.name).toBe('db_password');
    expect(created.id).toMatch(/^[a-z0-9]{25}$/);
    // A second create under the same name is a conflict whose message says what to do, not the value.
    const again = await client.callTool('docker_secret_create', { name: 'db_password', data: VALUE });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toContain("secret 'db_password' already exists");
    const listed = await client.callTool('docker_secret_list', {});
    const inspected = await client.callTool('docker_secret_inspect', { secret: 'db_password' });
    const full = await client.callTool('docker_secret_inspect', { secret: created.id, full: true });
    expect(structured<{ name: string; labels: Record<string, string> }>(inspected)).toMatchObject({
      name: 'db_password',
      labels: { app: 'db' },
    });
    expect(structured<{ Spec: Record<string, unknown> }>(full).Spec.Data).toBeUndefined();
    // A service mounts it and the value reaches the task: it was stored as given.
    swarm().cli([
      'service',
      'create',
      '--detach',
      '--name',
      READER,
      '--secret',
      'db_password',
      '--stop-grace-period',
      '1s',
      TEST_IMAGE,
      'sh',
      '-c',
      'cat /run/secrets/db_password; echo; exec sleep 3600',
    ]);
    const end = Date.now() + 60_000;
    while (!swarm().cli(['service', 'logs', '--raw', READER]).includes(VALUE)) {
      if (Date.now() > end) throw new Error('the task never printed the secret');
      await Bun.sleep(250);
    }
    // In use: removal is refused with the next step.
    const inUse = await client.callTool('docker_secret_remove', { secret: 'db_password' });
    expect(inUse.isError).toBe(true);
    expect(textOf(inUse)).toContain('in use');
    swarm().cli(['service', 'rm', READER]);
    const removed = structured<{ removed: boolean }>(
      await client.callTool('docker_secret_remove', { secret: 'db_password' }),
    );
    expect(removed.removed).toBe(true);
    const gone = await client.callTool('docker_secret_inspect', { secret: 'db_passwrd' });
    expect(textOf(gone)).toContain('not_found');

    for (const r of [created, again, listed, inspected, full, inUse, removed, gone])
      for (const s of SHAPES) expect(JSON.stringify(r)).not.toContain(s);
    await server.close();
    const auditText = readFileSync(audit, 'utf8');
    expect(auditText).toContain('docker_secret_create');
    for (const s of SHAPES) {
      expect(auditText).not.toContain(s);
      expect(server.stderr()).not.toContain(s);
    }
  }, 120_000);
});

describe('docker_config_*', () => {
  it('creates, lists, shows the contents of and removes a config', async () => {
    const made = await swarm().ok<{ id: string }>('docker_config_create', {
      name: 'nginx_conf',
      data: 'worker_processes 2;\n',
      labels: { app: 'web' },
    });
    const list = await swarm().ok<{
      configs: { name: string; labels?: Record<string, string> }[];
      count: number;
    }>('docker_config_list', { filters: { label: ['app=web'] } });
    expect(list.configs).toEqual([expect.objectContaining({ name: 'nginx_conf', labels: { app: 'web' } })]);
    const shown = await swarm().ok<{ id: string; data: string }>('docker_config_inspect', {
      config: 'nginx_conf',
    });
    expect(shown).toMatchObject({ id: made.id, data: 'worker_processes 2;\n' });
    const missing = await swarm().err('docker_config_inspect', { config: 'nginx_cnf' });
    expect(missing.kind).toBe('not_found');
    expect(missing.hint).toContain("'nginx_conf'");
    expect(await swarm().ok('docker_config_remove', { config: made.id })).toEqual({
      engine: 'manager',
      name: 'nginx_conf',
      removed: true,
    });
    expect(swarm().cli(['config', 'ls', '-q', '--filter', 'name=nginx_conf']).trim()).toBe('');
  });

  it('redacts secret-looking values in returned contents', async () => {
    await swarm().ok('docker_config_create', { name: 'env_conf', data: 'PASSWORD=hunter2-hunter2\n' });
    const shown = await swarm().ok<{ data: string }>('docker_config_inspect', { config: 'env_conf' });
    expect(shown.data).not.toContain('hunter2-hunter2');
    await swarm().ok('docker_config_remove', { config: 'env_conf' });
  });

  it('is refused as destructive where only moderate tools are allowed', async () => {
    const e = await swarm().err(
      'docker_config_remove',
      { config: 'x' },
      { profile: { allowDestructive: false } },
    );
    expect(e.kind).toBe('policy_denied');
  });
});
