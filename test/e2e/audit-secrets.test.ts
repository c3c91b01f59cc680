/**
 * The audit log the compiled binary writes over stdio holds no secret a call was given in a value
 * with no secret name: exec's stdin and environment, the content copied into a container, a created
 * container's environment. Each is `***` in the line; the call itself still gets them whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer, structured } from '../helpers/client.ts';
import { cleanupContainers, makeContainer, TEST_IMAGE, testLabels, uniqueName } from '../helpers/engine.ts';

// Words found nowhere else: their absence from the audit file is the test.
const STDIN = 'stdinsecret-plain-1';
const ENV = 'envsecret-plain-2';
const CONTENT = 'filesecret-plain-3';
const CREATE_ENV = 'createenvsecret-4';

let work: string;
let audit: string;
let box: { id: string; name: string };
let server: RunningServer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mcpt-audit-'));
  audit = join(work, 'audit.jsonl');
  box = await makeContainer({ name: uniqueName('mcpt-audit') });
  server = await startServer({ client: 'v1', args: ['--audit-log', audit] });
});
afterAll(async () => {
  await server?.close();
  await cleanupContainers();
  rmSync(work, { recursive: true, force: true });
});

const call = async <T>(name: string, args: Record<string, unknown>) => {
  const result = await server.client.callTool(name, args);
  expect(result.isError).toBeFalsy();
  return structured<T>(result);
};

describe('audit log of the compiled binary', () => {
  it('masks exec stdin and environment, copied content and a new container env', async () => {
    // The command reads both, so the secrets did reach it.
    const ran = await call<{ stdout: string }>('docker_exec_command', {
      container_id: box.name,
      command: 'cat; echo "$MY_VAR"',
      stdin: `${STDIN}\n`,
      environment: [`MY_VAR=${ENV}`],
    });
    expect(ran.stdout).toContain('stdinsecret');
    await call('docker_copy_to_container', {
      container_id: box.name,
      path: '/tmp/creds.txt',
      content: `user=app\nvalue=${CONTENT}\n`,
    });
    await call('docker_create_container', {
      image: TEST_IMAGE,
      name: uniqueName('mcpt-audit-made'),
      environment: { APP_SETTING: CREATE_ENV },
      network_mode: 'none',
      labels: testLabels(),
    });
    await server.close();

    const text = readFileSync(audit, 'utf8');
    for (const secret of [STDIN, ENV, CONTENT, CREATE_ENV]) expect(text).not.toContain(secret);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { tool?: string; args?: Record<string, unknown> });
    const argsOf = (tool: string) => lines.find((l) => l.tool === tool)?.args;
    expect(argsOf('docker_exec_command')).toMatchObject({ stdin: '***', environment: '***' });
    expect(argsOf('docker_copy_to_container')).toMatchObject({ path: '/tmp/creds.txt', content: '***' });
    expect(argsOf('docker_create_container')).toMatchObject({ environment: '***' });
  });
});

describe('audit log of Compose content', () => {
  it('masks environment values, build args and inline secrets, and keeps services, images and ports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-audit-compose-'));
    const log = join(dir, 'audit.jsonl');
    const own = await startServer({ client: 'v1', args: ['--audit-log', log] });
    try {
      const flow = `{services: {web: {environment: {MY_VAR: composeflow-secret-5}, image: ${TEST_IMAGE}, ports: ['127.0.0.1:8080:80']}}}`;
      const block = [
        'services:',
        '  api:',
        '    environment:',
        '      - PLAIN=composelist-secret-6',
        `    image: ${TEST_IMAGE}`,
        '    build: {context: ., args: {TOKEN: composearg-secret-7}}',
        'secrets:',
        '  s: {content: composeinline-secret-8}',
      ].join('\n');
      await own.client.callTool('docker_compose_config', { content: flow });
      await own.client.callTool('docker_compose_config', { content: block });
      // Refused (the swarm toolset is off), and audited all the same.
      const refused = await own.client.callTool('docker_stack_deploy', {
        content: flow,
        project_name: 'mcpt-x',
      });
      expect(refused.isError).toBe(true);
    } finally {
      await own.close();
    }
    const text = readFileSync(log, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    for (const secret of [
      'composeflow-secret-5',
      'composelist-secret-6',
      'composearg-secret-7',
      'composeinline-secret-8',
    ])
      expect(text).not.toContain(secret);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { tool?: string; args?: { content?: string } });
    const contents = lines.filter((l) => l.args?.content !== undefined).map((l) => l.args?.content ?? '');
    expect(contents).toHaveLength(3);
    expect(contents[0]).toContain('services: { web: { environment: { MY_VAR: "***" }');
    expect(contents[1]).toContain('PLAIN=***');
    expect(lines.some((l) => l.tool === 'docker_stack_deploy')).toBe(true);
  });
});
