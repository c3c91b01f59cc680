/**
 * Authentication and per-credential profiles in-process: real SDK clients of both generations with
 * bearer tokens against the HTTP app (`app.handle`, no port) and the real engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createLogger } from '../../src/log.ts';
import { buildServer } from '../../src/server.ts';
import { catalogue } from '../../src/tools/index.ts';
import { Credentials } from '../../src/transport/http/credentials.ts';
import { hashToken, tokenVerifier } from '../../src/transport/http/token.ts';
import { createHttpApp, type HttpApp } from '../../src/transport/http.ts';
import { VERSION } from '../../src/version.ts';
import { cleanupContainers, makeContainer } from '../helpers/engine.ts';
import { pipelineEnv } from '../helpers/pipeline.ts';

const BASE = 'http://127.0.0.1:8000';
const log = createLogger('fatal');
const env = pipelineEnv();
const dir = mkdtempSync(join(tmpdir(), 'mcpt-http-auth-'));
const authFile = join(dir, 'auth.json');
const MONITOR = 'monitor-token-0123456789';
const OPERATOR = 'operator-token-0123456789';
const clientsFile = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    profiles: { ops: { base: 'moderate', denied_tools: ['docker_exec_command'] } },
    clients: {
      monitor: { profile: 'read-only', tokens: [hashToken(MONITOR)] },
      operator: { profile: 'ops', tokens: [hashToken(OPERATOR)] },
      ...extra,
    },
  });
writeFileSync(authFile, clientsFile());
const credentials = new Credentials(authFile, env.profile, log).watch();

function makeApp(sessionIdleSeconds = 900, onRefused?: (request: Request) => void): HttpApp {
  return createHttpApp({
    serverFor: (_request, principal) =>
      buildServer({ catalogue, env: { ...env, profile: principal.profile }, version: VERSION }),
    auth: {
      verifiers: [tokenVerifier({ credentials, oauthEnabled: false })],
      serverProfile: env.profile,
      onRefused,
    },
    loopback: true,
    port: () => 8000,
    tls: false,
    allowedHosts: [],
    allowedOrigins: [],
    maxBodyBytes: 64 * 1024,
    sessionIdleSeconds,
    healthDetails: async () => ({ version: VERSION }),
    log,
  });
}
const app = makeApp();

/** A fetch into the app that sends this bearer token on every request (SSE GETs included). */
const fetchAs =
  (a: HttpApp, token?: string) =>
  (url: string | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    return a.handle(new Request(String(url), { ...init, headers }));
  };
const info = { name: 'mcp-docker-http-auth-tests', version: '0.0.0' };
const names = async (c: { listTools(): Promise<{ tools: { name: string }[] }> }) =>
  (await c.listTools()).tools.map((t) => t.name);
const post = (body: unknown, headers: Record<string, string>) =>
  new Request(`${BASE}/mcp`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
  });
const toolsList = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

let containerId = '';
beforeAll(async () => {
  containerId = (await makeContainer({ name: 'mcpt-http-auth' })).id;
});
afterAll(async () => {
  await app.close();
  credentials.close();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

describe('bearer tokens over /mcp and /sse', () => {
  it('refuses a request without a token: 401 with WWW-Authenticate naming Bearer', async () => {
    const res = await app.handle(post(toolsList, {}));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await res.json()) as { error: string }).error).toContain('Authorization: Bearer');
    // Guards' headers are on the refusal too.
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect((await app.handle(new Request(`${BASE}/sse`))).status).toBe(401);
  });

  it('guards every MCP route, and leaves /healthz and the OAuth metadata open', async () => {
    const messages = new Request(`${BASE}/messages?sessionId=x`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect((await app.handle(messages)).status).toBe(401);
    expect((await app.handle(new Request(`${BASE}/mcp`, { method: 'DELETE' }))).status).toBe(401);
    expect((await app.handle(new Request(`${BASE}/healthz`))).status).toBe(200);
    const withMetadata = createHttpApp({
      serverFor: () => {
        throw new Error('not reached');
      },
      auth: {
        verifiers: [tokenVerifier({ credentials, oauthEnabled: true })],
        serverProfile: env.profile,
        protectedResource: () => Response.json({ resource: `${BASE}/mcp` }),
      },
      loopback: true,
      port: () => 8000,
      tls: false,
      allowedHosts: [],
      allowedOrigins: [],
      maxBodyBytes: 1024,
      log,
    });
    const meta = await withMetadata.handle(new Request(`${BASE}/.well-known/oauth-protected-resource`));
    expect(meta.status).toBe(200);
    expect(await meta.json()).toEqual({ resource: `${BASE}/mcp` });
    expect((await withMetadata.handle(post(toolsList, {}))).status).toBe(401);
    await withMetadata.close();
  });

  it('refuses a wrong token with 401 invalid_token', async () => {
    const res = await app.handle(post(toolsList, { authorization: 'Bearer not-a-real-token' }));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('v2 client, read-only token: lists only safe tools and is refused a moderate call', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new V2Http(new URL(`${BASE}/mcp`), { fetch: fetchAs(app, MONITOR) }));
    const tools = (await client.listTools()).tools;
    expect(tools.map((t) => t.name)).toContain('docker_list_containers');
    expect(tools.map((t) => t.name)).not.toContain('docker_stop_container');
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    const refused = await client.callTool({
      name: 'docker_stop_container',
      arguments: { container_id: containerId },
    });
    expect(refused.isError).toBe(true);
    // The hint speaks to a client with a credential, not to the operator of the server.
    expect(JSON.stringify(refused.content)).toContain("profile 'read-only'");
    expect(JSON.stringify(refused.content)).not.toContain('Restart');
    const listed = await client.callTool({ name: 'docker_list_containers', arguments: { all: true } });
    expect(listed.isError).toBeFalsy();
    // The refused call never reached the engine: the container still runs.
    const inspect = await client.callTool({
      name: 'docker_inspect_container',
      arguments: { container_id: containerId },
    });
    expect(JSON.stringify(inspect.structuredContent)).toContain('running');
    await client.close();
  });

  it('v1 client, operator token: sees moderate tools but not the ones its profile denies', async () => {
    const client = new V1Client(info);
    const transport = new V1Http(new URL(`${BASE}/mcp`), { fetch: fetchAs(app, OPERATOR) });
    await client.connect(transport);
    const tools = await names(client);
    expect(tools).toContain('docker_stop_container');
    expect(tools).not.toContain('docker_exec_command');
    // The server-wide ceiling allows destructive tools; the operator's profile (moderate) does not.
    expect(tools).not.toContain('docker_remove_container');
    await transport.terminateSession();
    await client.close();
  });

  it('v1 client over legacy SSE with a token: read-only profile applies there too', async () => {
    const client = new V1Client(info);
    const fetch = fetchAs(app, MONITOR);
    await client.connect(new V1Sse(new URL(`${BASE}/sse`), { fetch, eventSourceInit: { fetch } }));
    const tools = await names(client);
    expect(tools).toContain('docker_list_containers');
    expect(tools).not.toContain('docker_stop_container');
    await client.close();
  });

  it('/healthz answers status alone without a credential, and version with one', async () => {
    expect(await (await app.handle(new Request(`${BASE}/healthz`))).json()).toEqual({ status: 'ok' });
    const wrong = await app.handle(
      new Request(`${BASE}/healthz`, { headers: { authorization: 'Bearer x' } }),
    );
    expect(await wrong.json()).toEqual({ status: 'ok' });
    const withToken = await app.handle(
      new Request(`${BASE}/healthz`, { headers: { authorization: `Bearer ${MONITOR}` } }),
    );
    expect(await withToken.json()).toEqual({ status: 'ok', version: VERSION });
  });

  it('counts a wrong credential sent to /healthz as a failed authentication (no free guessing)', async () => {
    const refused: string[] = [];
    const counted = makeApp(900, (r) => void refused.push(new URL(r.url).pathname));
    const wrong = await counted.handle(
      new Request(`${BASE}/healthz`, { headers: { authorization: 'Bearer guess' } }),
    );
    expect(wrong.status).toBe(200);
    expect(await counted.handle(new Request(`${BASE}/healthz`)).then((r) => r.status)).toBe(200);
    expect(refused).toEqual(['/healthz']);
    await counted.close();
  });
});

describe('sessions belong to their client', () => {
  it("refuses another client's credential on an initialize-era session id", async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'legacy' } });
    const transport = new V2Http(new URL(`${BASE}/mcp`), { fetch: fetchAs(app, OPERATOR) });
    await client.connect(transport);
    const id = transport.sessionId as string;
    expect(id).toBeString();
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
    const hijack = await app.handle(post(toolsList, { ...headers, authorization: `Bearer ${MONITOR}` }));
    expect(hijack.status).toBe(404);
    // Same request with the owner's token goes through: the 404 was the ownership check.
    const own = await app.handle(post(toolsList, { ...headers, authorization: `Bearer ${OPERATOR}` }));
    expect(own.status).toBe(200);
    await own.body?.cancel();
    // The owner still can.
    expect((await names(client)).length).toBeGreaterThan(10);
    await transport.terminateSession();
    await client.close();
  });

  it("refuses another client's credential on a legacy SSE session", async () => {
    const res = await fetchAs(app, OPERATOR)(`${BASE}/sse`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const endpoint = /data: (\S+)/.exec(new TextDecoder().decode((await reader.read()).value))?.[1];
    const body = JSON.stringify(toolsList);
    const send = (token: string) =>
      fetchAs(app, token)(`${BASE}${endpoint}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
    expect((await send(MONITOR)).status).toBe(404);
    expect((await send(OPERATOR)).status).toBe(202);
    await reader.cancel();
  });

  it('closes an idle session; its id then answers 404 "session expired"', async () => {
    const quick = makeApp(0.5);
    const client = new V2Client(info, { versionNegotiation: { mode: 'legacy' } });
    const transport = new V2Http(new URL(`${BASE}/mcp`), { fetch: fetchAs(quick, OPERATOR) });
    await client.connect(transport);
    const id = transport.sessionId as string;
    await Bun.sleep(1200);
    const res = await quick.handle(
      post(toolsList, {
        'mcp-session-id': id,
        'mcp-protocol-version': '2025-06-18',
        authorization: `Bearer ${OPERATOR}`,
      }),
    );
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe('session expired; initialize again');
    await client.close().catch(() => {});
    await quick.close();
  });
});

describe('auth file hot reload', () => {
  it('accepts a token added to the file without a restart', async () => {
    const NEW = 'new-client-token-0123456789';
    const ask = () => fetchAs(app, NEW)(`${BASE}/sse`);
    const before = await ask();
    expect(before.status).toBe(401);
    writeFileSync(authFile, clientsFile({ newbie: { profile: 'read-only', tokens: [hashToken(NEW)] } }));
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await Bun.sleep(100);
      const res = await ask();
      status = res.status;
      await res.body?.cancel();
    }
    expect(status).toBe(200);
  });

  it("stops answering a client's open session once its profile changes, so the new profile holds", async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'legacy' } });
    const transport = new V2Http(new URL(`${BASE}/mcp`), { fetch: fetchAs(app, OPERATOR) });
    await client.connect(transport);
    expect(await names(client)).toContain('docker_stop_container');
    const headers = {
      'mcp-session-id': transport.sessionId as string,
      'mcp-protocol-version': '2025-06-18',
      authorization: `Bearer ${OPERATOR}`,
    };
    writeFileSync(
      authFile,
      JSON.stringify({ clients: { operator: { profile: 'read-only', tokens: [hashToken(OPERATOR)] } } }),
    );
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      await Bun.sleep(100);
      const res = await app.handle(post(toolsList, headers));
      status = res.status;
      await res.body?.cancel();
    }
    expect(status).toBe(404);
    const demoted = new V2Client(info, { versionNegotiation: { mode: 'legacy' } });
    await demoted.connect(new V2Http(new URL(`${BASE}/mcp`), { fetch: fetchAs(app, OPERATOR) }));
    expect(await names(demoted)).not.toContain('docker_stop_container');
    await demoted.close();
    await client.close().catch(() => {});
    writeFileSync(authFile, clientsFile());
  });
});
