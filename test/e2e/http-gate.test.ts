/**
 * One gate for tools, prompts and resources, on the compiled binary over HTTP: a credential limited to
 * one tool, or to one toolset, sees and reads nothing else (listings, prompt gets, resource reads,
 * completions), and every get and read leaves one audit line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { cleanupContainers, makeContainer, uniqueName } from '../helpers/engine.ts';
import { killSpawned, serveHttp, spawnBinary } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-http-gate-e2e-'));
const auditFile = join(dir, 'audit.jsonl');
const info = { name: 'mcp-docker-http-gate-e2e', version: '0.0.0' };

async function newToken() {
  const r = spawnBinary(['hash-token']);
  await r.proc.exited;
  await Bun.sleep(20);
  return {
    token: /token: (\S+)/.exec(r.stdout())?.[1] as string,
    hash: /hash: +(\S+)/.exec(r.stdout())?.[1] as string,
  };
}

let base = '';
const tokens: Record<'logs' | 'images' | 'reader', string> = { logs: '', images: '', reader: '' };
let box: { id: string; name: string };

beforeAll(async () => {
  box = await makeContainer({
    name: uniqueName('mcpt-e2e-gate'),
    cmd: ['sh', '-c', 'echo hello; sleep 3600'],
  });
  const made = { logs: await newToken(), images: await newToken(), reader: await newToken() };
  for (const k of Object.keys(made) as (keyof typeof made)[]) tokens[k] = made[k].token;
  writeFileSync(
    join(dir, 'auth.yaml'),
    [
      'profiles:',
      '  logs-only: { base: read-only, allowed_tools: [docker_container_logs] }',
      '  images-only: { base: moderate, toolsets: [images] }',
      'clients:',
      `  logs: { profile: logs-only, tokens: ["${made.logs.hash}"] }`,
      `  images: { profile: images-only, tokens: ["${made.images.hash}"] }`,
      `  reader: { profile: read-only, tokens: ["${made.reader.hash}"] }`,
      '',
    ].join('\n'),
  );
  base = (await serveHttp(['--auth-file', join(dir, 'auth.yaml'), '--audit-log', auditFile])).base;
});
afterAll(async () => {
  killSpawned();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(token: string) {
  const client = new Client(info, { versionNegotiation: { mode: 'auto' } });
  const fetchWith = (url: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(url, { ...init, headers });
  };
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { fetch: fetchWith }));
  return client;
}

/** What a caller sees: tool, prompt, resource and template names. */
async function seen(client: Client) {
  return {
    tools: (await client.listTools()).tools.map((t) => t.name),
    prompts: (await client.listPrompts()).prompts.map((p) => p.name),
    resources: (await client.listResources()).resources.map((r) => r.uri),
    templates: (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate),
  };
}

/** The message a refused request rejects with ('' when it did not reject). */
const refusal = async (p: Promise<unknown>) =>
  p.then(
    () => '',
    (e: Error) => e.message,
  );

/** Audit lines of `event` for `client`, once the 200 ms flush has written them. */
async function auditLines(event: string, client: string, want: number) {
  let lines: Record<string, unknown>[] = [];
  for (let i = 0; i < 40; i++) {
    lines = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === event && l.client_id === client);
    if (lines.length >= want) break;
    await Bun.sleep(100);
  }
  return lines;
}

describe('a credential limited to one tool', () => {
  it('lists that tool and only the resource built on it, and no prompt', async () => {
    const client = await connect(tokens.logs);
    expect(await seen(client)).toEqual({
      tools: ['docker_container_logs'],
      prompts: [],
      resources: [],
      templates: ['container://logs/{container_id}'],
    });
    await client.close();
  });

  it('is refused a prompt get, a resource read and a completion built on other tools, and reads its own', async () => {
    const client = await connect(tokens.logs);
    const prompt = await refusal(
      client.getPrompt({ name: 'troubleshoot_container', arguments: { container_id: box.name } }),
    );
    expect(prompt).toContain('policy_denied');
    expect(prompt).toContain('docker_inspect_container');
    expect(await refusal(client.readResource({ uri: 'docker://containers' }))).toContain('policy_denied');
    expect(await refusal(client.readResource({ uri: `container://stats/${box.name}` }))).toContain(
      'policy_denied',
    );
    expect(
      await refusal(
        client.complete({
          ref: { type: 'ref/prompt', name: 'troubleshoot_container' },
          argument: { name: 'container_id', value: 'mcpt' },
        }),
      ),
    ).toContain('policy_denied');
    const own = await client.readResource({ uri: `container://logs/${box.name}` });
    expect(JSON.stringify(own.contents)).toContain('hello');
    await client.close();
  });

  it('leaves one audit line per prompt get and resource read, refused or not', async () => {
    const lines = await auditLines('resource_read', 'logs', 3);
    expect(lines.map((l) => [l.uri, l.outcome]).sort()).toEqual(
      [
        ['docker://containers', 'policy_denied'],
        [`container://logs/${box.name}`, 'ok'],
        [`container://stats/${box.name}`, 'policy_denied'],
      ].sort(),
    );
    const prompts = await auditLines('prompt_get', 'logs', 1);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({
      prompt: 'troubleshoot_container',
      args: { container_id: box.name },
      outcome: 'policy_denied',
    });
  });
});

describe('a credential limited to one toolset', () => {
  it('lists only that toolset’s tools, and no prompt or resource built on others', async () => {
    const client = await connect(tokens.images);
    const s = await seen(client);
    expect(s.tools).toContain('docker_pull_image');
    expect(s.tools.every((t) => /image/.test(t))).toBe(true);
    expect(s).toMatchObject({ prompts: [], resources: [], templates: [] });
    expect(
      await refusal(client.getPrompt({ name: 'security_audit', arguments: { container_id: box.name } })),
    ).toContain('policy_denied');
    expect(await refusal(client.readResource({ uri: `container://logs/${box.name}` }))).toContain(
      'policy_denied',
    );
    const call = await client.callTool({ name: 'docker_list_containers', arguments: {} });
    expect(call.isError).toBe(true);
    expect(JSON.stringify(call.content)).toContain("toolset 'containers'");
    await client.close();
  });
});

describe('a read-only credential', () => {
  it('still sees and gets the prompts and resources built on safe tools', async () => {
    const client = await connect(tokens.reader);
    const s = await seen(client);
    expect(s.prompts).toContain('troubleshoot_container');
    expect(s.resources).toEqual(['docker://containers', 'ui://mcp-docker/dashboard.html']);
    const got = await client.getPrompt({
      name: 'troubleshoot_container',
      arguments: { container_id: box.name },
    });
    expect(JSON.stringify(got.messages)).toContain(box.name);
    const lines = await auditLines('prompt_get', 'reader', 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ prompt: 'troubleshoot_container', outcome: 'ok' });
    await client.close();
  });
});
