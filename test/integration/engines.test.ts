/**
 * Several engines in one server, in-process against the real engine: 'a' and 'ro' (read-only) both
 * reach DOCKER_HOST, 'down' is a dead socket and 'slow' a socket that accepts and never answers. The
 * same call on each engine says which answered; a write names its engine; a read-only engine refuses
 * writes while its neighbour accepts; an engine that is down or slow never delays another; resources,
 * completions and prompts carry the engine; an HTTP credential limited to one engine sees only it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { NO_CEILING } from '../../src/core/engine.ts';
import type { DiscoveryInput } from '../../src/docker/discovery.ts';
import { Engine } from '../../src/docker/engine.ts';
import { type EngineHandle, engineRegistry } from '../../src/docker/engines.ts';
import { createLogger } from '../../src/log.ts';
import { buildServer } from '../../src/server.ts';
import { catalogue } from '../../src/tools/index.ts';
import { PROBE_TIMEOUT_MS } from '../../src/tools/system/engines.ts';
import { Credentials, CredentialsError } from '../../src/transport/http/credentials.ts';
import { hashToken, tokenVerifier } from '../../src/transport/http/token.ts';
import { createHttpApp } from '../../src/transport/http.ts';
import { VERSION } from '../../src/version.ts';
import { cleanupContainers, makeContainer, testDocker, uniqueName } from '../helpers/engine.ts';
import { connectInProcess, firstText, type InProcess } from '../helpers/in-process.ts';
import { pipelineEnv } from '../helpers/pipeline.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-engines-'));
const at = (host: string): DiscoveryInput => ({
  dockerHost: host,
  dockerConfigDir: '/nonexistent/.docker',
  tlsVerify: false,
  home: '/nonexistent',
  platform: 'linux',
});
const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
const slowPath = join(dir, 'slow.sock');
const held: Socket[] = [];
let slowServer: NetServer;

const registry = () =>
  engineRegistry<EngineHandle>([
    new Engine(at(DOCKER_HOST), { name: 'a', description: 'the dev engine' }),
    new Engine(at(DOCKER_HOST), { name: 'ro', ceiling: { ...NO_CEILING, readOnly: true } }),
    new Engine(at(`unix://${join(dir, 'nothing-here.sock')}`), { name: 'down' }),
    new Engine(at(`unix://${slowPath}`), { name: 'slow' }),
  ]);
const engines = registry();

let mcp: InProcess;
let box: { id: string; name: string };
const volumes: string[] = [];

type CallResult = {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
};
const call = async (name: string, args: Record<string, unknown> = {}, via = mcp) =>
  (await via.client.callTool({ name, arguments: args })) as CallResult;
const text = (r: CallResult) => r.content.map((c) => c.text ?? '').join('');

beforeAll(async () => {
  // Accepts and never answers: a hung engine.
  slowServer = createServer((s) => void held.push(s));
  await new Promise<void>((resolve) => slowServer.listen(slowPath, resolve));
  box = await makeContainer({
    name: uniqueName('mcpt-engines'),
    cmd: ['sh', '-c', 'echo hello-from-a; sleep 3600'],
  });
  mcp = await connectInProcess({ engines });
});

afterAll(async () => {
  await mcp?.close();
  await cleanupContainers();
  for (const v of volumes)
    await testDocker()
      .getVolume(v)
      .remove()
      .catch(() => {});
  for (const s of held) s.destroy();
  slowServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tools on several engines', () => {
  it('lists the engine argument: every engine for reads, those allowing it for writes', async () => {
    const { tools } = await mcp.client.listTools();
    const prop = (n: string) =>
      (tools.find((t) => t.name === n)?.inputSchema.properties as Record<string, { enum?: string[] }>)
        ?.engine;
    expect(prop('docker_version')?.enum).toEqual(['a', 'ro', 'down', 'slow']);
    expect(prop('docker_create_volume')?.enum).toEqual(['a', 'down', 'slow']);
    expect(tools.find((t) => t.name === 'docker_create_volume')?.inputSchema.required).toContain('engine');
  });

  it('runs the same call on each engine and says which one answered', async () => {
    const onA = await call('docker_container_logs', { container_id: box.name, engine: 'a' });
    const onRo = await call('docker_container_logs', { container_id: box.name, engine: 'ro' });
    const byDefault = await call('docker_container_logs', { container_id: box.name });
    expect(onA.isError).toBeUndefined();
    expect(onA.structuredContent?.engine).toBe('a');
    expect(onRo.structuredContent?.engine).toBe('ro');
    expect(byDefault.structuredContent?.engine).toBe('a');
    expect(text(onRo)).toContain('hello-from-a');
  });

  it('refuses a write that names no engine, listing the engines', async () => {
    const r = await call('docker_create_volume', { name: uniqueName('mcpt-vol') });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe(
      "invalid_argument: docker_create_volume changes state: name the engine it acts on — Add the argument 'engine'. Use one of: a, ro, down, slow.",
    );
  });

  it('refuses a write on the read-only engine and makes it on its neighbour', async () => {
    const name = uniqueName('mcpt-vol');
    volumes.push(name);
    const refused = await call('docker_create_volume', { name, engine: 'ro' });
    expect(text(refused)).toStartWith(
      "policy_denied: engine 'ro': docker_create_volume changes state and engine 'ro' is read-only.",
    );
    expect((await testDocker().listVolumes()).Volumes?.some((v) => v.Name === name)).toBe(false);
    const made = await call('docker_create_volume', { name, engine: 'a' });
    expect(made.isError).toBeUndefined();
    expect(made.structuredContent).toMatchObject({ name, engine: 'a' });
  });

  it('fails fast on an engine at a dead socket while the other answers at once', async () => {
    const started = performance.now();
    const [down, up] = await Promise.all([
      call('docker_version', { engine: 'down' }),
      call('docker_version', { engine: 'a' }),
    ]);
    expect(performance.now() - started).toBeLessThan(PROBE_TIMEOUT_MS);
    expect(down.isError).toBe(true);
    expect(text(down)).toStartWith("engine_unreachable: engine 'down': ");
    expect(up.structuredContent?.engine).toBe('a');
  });

  it('answers on one engine while a call on a hung engine is still waiting', async () => {
    const hung = call('docker_version', { engine: 'slow' });
    const started = performance.now();
    const up = await call('docker_version', { engine: 'a' });
    expect(performance.now() - started).toBeLessThan(1500);
    expect(up.structuredContent?.engine).toBe('a');
    void hung.catch(() => {});
  });

  it('docker_list_engines reports every engine within its probe timeout', async () => {
    const started = performance.now();
    const r = await call('docker_list_engines');
    const took = performance.now() - started;
    expect(took).toBeLessThan(PROBE_TIMEOUT_MS + 1000);
    const rows = (r.structuredContent?.engines ?? []) as Record<string, unknown>[];
    expect(rows.map((e) => e.name)).toEqual(['a', 'ro', 'down', 'slow']);
    const [a, ro, down, slow] = rows;
    const version = (await testDocker().version()) as { Version: string };
    expect(a).toMatchObject({
      name: 'a',
      default: true,
      reachable: true,
      version: version.Version,
      read_only: false,
      allow_destructive: true,
      description: 'the dev engine',
    });
    expect(['none', 'worker', 'manager']).toContain(a?.swarm as string);
    expect(typeof a?.api_version).toBe('string');
    expect(ro).toMatchObject({ reachable: true, read_only: true, allow_destructive: false });
    expect(ro?.default).toBeUndefined();
    expect(down).toMatchObject({ reachable: false, kind: 'unknown' });
    expect(typeof down?.error).toBe('string');
    expect(slow).toMatchObject({ reachable: false, kind: 'unknown' });
  });
});

describe('resources, completions and prompts on several engines', () => {
  it('lists the {engine} templates beside today’s URIs', async () => {
    const { resourceTemplates } = await mcp.client.listResourceTemplates();
    const uris = resourceTemplates.map((t) => t.uriTemplate);
    expect(uris).toContain('container://logs/{container_id}');
    expect(uris).toContain('container://{engine}/logs/{container_id}');
    expect(uris).toContain('container://{engine}/stats/{container_id}');
    expect(uris).toContain('docker://{engine}/containers');
  });

  it('reads on the engine the URI names; today’s URI means the default engine', async () => {
    expect(
      await firstText(await mcp.client.readResource({ uri: `container://ro/logs/${box.name}` })),
    ).toContain('hello-from-a');
    expect(firstText(await mcp.client.readResource({ uri: `container://logs/${box.name}` }))).toContain(
      'hello-from-a',
    );
    expect(firstText(await mcp.client.readResource({ uri: 'docker://a/containers' }))).toContain(box.name);
    const failed = mcp.client.readResource({ uri: 'docker://down/containers' });
    await expect(failed).rejects.toThrow("engine 'down':");
    await expect(mcp.client.readResource({ uri: 'docker://nope/containers' })).rejects.toThrow(
      "no engine named 'nope'",
    );
  });

  it('subscribes on the engine the URI names, refusing an unknown one (initialize era)', async () => {
    const legacy = await connectInProcess({ engines, negotiation: 'legacy' });
    try {
      await legacy.client.subscribeResource({ uri: `container://a/logs/${box.name}` });
      await expect(legacy.client.subscribeResource({ uri: 'docker://nope/containers' })).rejects.toThrow(
        "no engine named 'nope'",
      );
      await expect(
        legacy.client.subscribeResource({ uri: 'container://a/logs/mcpt-no-such-box' }),
      ).rejects.toThrow("engine 'a':");
    } finally {
      await legacy.close();
    }
  });

  it('completes engine names and containers on the chosen engine', async () => {
    const ref = { type: 'ref/resource' as const, uri: 'container://{engine}/logs/{container_id}' };
    const names = await mcp.client.complete({ ref, argument: { name: 'engine', value: '' } });
    expect(names.completion.values).toEqual(['a', 'ro', 'down', 'slow']);
    const onA = await mcp.client.complete({
      ref,
      argument: { name: 'container_id', value: box.name.slice(0, 8) },
      context: { arguments: { engine: 'a' } },
    });
    expect(onA.completion.values).toContain(box.name);
    const onDown = await mcp.client.complete({
      ref,
      argument: { name: 'container_id', value: box.name.slice(0, 8) },
      context: { arguments: { engine: 'down' } },
    });
    expect(onDown.completion.values).toEqual([]);
  });

  it('gives every prompt an optional engine argument, used by prompts/get', async () => {
    const { prompts } = await mcp.client.listPrompts();
    for (const p of prompts)
      expect(p.arguments?.find((a) => a.name === 'engine')).toMatchObject({ required: false });
    const got = await mcp.client.getPrompt({
      name: 'optimize_container',
      arguments: { container_id: box.name, engine: 'ro' },
    });
    expect(firstText(got)).toContain(box.name);
    await expect(
      mcp.client.getPrompt({
        name: 'optimize_container',
        arguments: { container_id: box.name, engine: 'down' },
      }),
    ).rejects.toThrow("engine 'down':");
  });
});

describe('an HTTP credential limited to one engine', () => {
  const TOKEN = 'only-a-token-0123456789';
  const authFile = join(dir, 'auth.json');
  const env = pipelineEnv({ engines });

  it('sees only its engine, cannot call or read on another, and unknown names stop start-up', async () => {
    writeFileSync(
      authFile,
      JSON.stringify({
        profiles: { only_a: { base: 'moderate', engines: ['a'] } },
        clients: { bot: { profile: 'only_a', tokens: [hashToken(TOKEN)] } },
      }),
    );
    const log = createLogger('fatal');
    const credentials = new Credentials(authFile, env.profile, log, engines.names());
    const app = createHttpApp({
      serverFor: (_request, principal) =>
        buildServer({ catalogue, env: { ...env, profile: principal.profile }, version: VERSION }),
      auth: { verifiers: [tokenVerifier({ credentials, oauthEnabled: false })], serverProfile: env.profile },
      loopback: true,
      port: () => 8000,
      tls: false,
      allowedHosts: [],
      allowedOrigins: [],
      maxBodyBytes: 64 * 1024,
      sessionIdleSeconds: 900,
      healthDetails: async () => ({ version: VERSION }),
      log,
    });
    const fetchAs = (url: string | URL, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${TOKEN}`);
      return app.handle(new Request(String(url), { ...init, headers }));
    };
    const client = new V2Client({ name: 'engines-http', version: '0.0.0' });
    await client.connect(new V2Http(new URL('http://127.0.0.1:8000/mcp'), { fetch: fetchAs }));
    try {
      const { tools } = await client.listTools();
      for (const t of tools)
        expect((t.inputSchema.properties as Record<string, { enum?: string[] }>).engine?.enum).toEqual(['a']);
      const onA = (await client.callTool({
        name: 'docker_version',
        arguments: { engine: 'a' },
      })) as CallResult;
      expect(onA.structuredContent?.engine).toBe('a');
      const onRo = (await client.callTool({
        name: 'docker_version',
        arguments: { engine: 'ro' },
      })) as CallResult;
      expect(text(onRo)).toBe("invalid_argument: no engine named 'ro' — Use one of: a.");
      await expect(client.readResource({ uri: `container://ro/logs/${box.name}` })).rejects.toThrow(
        "no engine named 'ro'",
      );
      const listed = (await client.callTool({ name: 'docker_list_engines', arguments: {} })) as CallResult;
      const rows = listed.structuredContent?.engines as { name: string }[];
      expect(rows.map((r) => r.name)).toEqual(['a']);
      expect(text(listed)).not.toContain(DOCKER_HOST.replace(/^unix:\/\//, ''));
    } finally {
      await client.close();
      credentials.close();
    }
    writeFileSync(
      authFile,
      JSON.stringify({ profiles: { x: { engines: ['a', 'prod'] } }, clients: { bot: { profile: 'x' } } }),
    );
    expect(() => new Credentials(authFile, env.profile, log, engines.names())).toThrow(CredentialsError);
    expect(() => new Credentials(authFile, env.profile, log, engines.names())).toThrow(
      "profiles.x.engines: unknown engine 'prod'",
    );
  });
});
