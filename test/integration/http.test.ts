/**
 * The HTTP app in-process: requests go straight to `app.handle` (no port), and real SDK clients of
 * both generations have their `fetch` pointed at it, against the real engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createLogger } from '../../src/log.ts';
import { buildServer } from '../../src/server.ts';
import { catalogue } from '../../src/tools/index.ts';
import { createHttpApp, type HttpApp, type HttpAppOptions } from '../../src/transport/http.ts';
import { VERSION } from '../../src/version.ts';
import { cleanupContainers, makeContainer, TEST_IMAGE } from '../helpers/engine.ts';
import { pipelineEnv } from '../helpers/pipeline.ts';

const BASE = 'http://127.0.0.1:8000';
const log = createLogger('fatal');
const env = pipelineEnv();
const dir = mkdtempSync(join(tmpdir(), 'mcpt-http-'));

function makeApp(o: Partial<HttpAppOptions> = {}): HttpApp {
  return createHttpApp({
    serverFor: () => buildServer({ catalogue, env, version: VERSION }),
    auth: { verifiers: [], serverProfile: env.profile },
    loopback: true,
    port: () => 8000,
    tls: false,
    allowedHosts: [],
    allowedOrigins: [],
    maxBodyBytes: 64 * 1024,
    log,
    ...o,
  });
}

const app = makeApp();
const fetchOf =
  (a: HttpApp) =>
  (url: string | URL, init?: RequestInit): Promise<Response> =>
    a.handle(new Request(String(url), init));
const info = { name: 'mcp-docker-http-tests', version: '0.0.0' };

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: info },
});
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  new Request(`${BASE}${path}`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
  });

let containerId = '';
beforeAll(async () => {
  containerId = (await makeContainer({ name: 'mcpt-http' })).id;
});
afterAll(async () => {
  await app.close();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

type Row = { id: string };
const rowsOf = (r: unknown) =>
  ((r as { structuredContent: { containers: Row[] } }).structuredContent.containers ?? []).map((c) => c.id);

describe('/mcp with real clients', () => {
  it('serves a v2 client on the 2026 era: lists tools and lists containers', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new V2Http(new URL(`${BASE}/mcp`), { fetch: fetchOf(app) }));
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('docker_list_containers');
    const result = await client.callTool({ name: 'docker_list_containers', arguments: { all: true } });
    expect(result.isError).toBeFalsy();
    expect(rowsOf(result)).toContain(containerId.slice(0, 12));
    await client.close();
  });

  it('serves a v2 client on the initialize era through a session', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'legacy' } });
    const transport = new V2Http(new URL(`${BASE}/mcp`), { fetch: fetchOf(app) });
    await client.connect(transport);
    expect(transport.sessionId).toBeString();
    const result = await client.callTool({ name: 'docker_list_containers', arguments: { all: true } });
    expect(rowsOf(result)).toContain(containerId.slice(0, 12));
    await transport.terminateSession();
    await client.close();
  });

  it('serves a v1 client: lists tools, lists containers, reports progress', async () => {
    const client = new V1Client(info);
    const transport = new V1Http(new URL(`${BASE}/mcp`), { fetch: fetchOf(app) });
    await client.connect(transport);
    expect((await client.listTools()).tools.length).toBeGreaterThan(10);
    const listed = await client.callTool({ name: 'docker_list_containers', arguments: { all: true } });
    expect(rowsOf(listed)).toContain(containerId.slice(0, 12));

    const progress: number[] = [];
    const saved = await client.callTool(
      { name: 'docker_save_image', arguments: { images: TEST_IMAGE, path: join(dir, 'save.tar') } },
      undefined,
      { onprogress: (p) => void progress.push(p.progress) },
    );
    expect(saved.isError).toBeFalsy();
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe((saved.structuredContent as { bytes: number }).bytes);
    await transport.terminateSession();
    await client.close();
  });

  it('cancels a call on the server when the client aborts it', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new V2Http(new URL(`${BASE}/mcp`), { fetch: fetchOf(app) }));
    const abort = new AbortController();
    const started = Date.now();
    const call = client.callTool(
      { name: 'docker_wait_container', arguments: { container_id: containerId, timeout: 60 } },
      { signal: abort.signal },
    );
    await Bun.sleep(300);
    expect(app.inflight.count).toBe(1);
    abort.abort();
    await expect(call).rejects.toThrow();
    // The server's side of the call ends too: nothing left in flight, long before the 60 s timeout.
    for (let i = 0; i < 50 && app.inflight.count > 0; i++) await Bun.sleep(100);
    expect(app.inflight.count).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await client.close();
  });

  it('answers a request for an unknown session with 404', async () => {
    const res = await app.handle(
      post('/mcp', initialize.replace('"initialize"', '"tools/list"'), {
        'mcp-session-id': 'nope',
      }),
    );
    expect(res.status).toBe(404);
  });
});

describe('legacy HTTP+SSE', () => {
  it('serves a v1 SSE client at /sse: lists tools and lists containers', async () => {
    const client = new V1Client(info);
    const fetch = fetchOf(app);
    await client.connect(new V1Sse(new URL(`${BASE}/sse`), { fetch, eventSourceInit: { fetch } }));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('docker_list_containers');
    const result = await client.callTool({ name: 'docker_list_containers', arguments: { all: true } });
    expect(rowsOf(result)).toContain(containerId.slice(0, 12));
    await client.close();
  });

  it('opens with an endpoint event naming /messages and a session', async () => {
    const res = await app.handle(new Request(`${BASE}/sse`));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^event: endpoint\ndata: \/messages\?sessionId=[0-9a-f-]{36}\n\n$/);
    // Streamed, not buffered, and our headers on the stream too.
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    await reader.cancel();
  });

  it('refuses messages for an unknown session and non-JSON content', async () => {
    expect((await app.handle(post('/messages?sessionId=nope', '{}'))).status).toBe(404);
    expect((await app.handle(post('/messages', '{}'))).status).toBe(400);
  });
});

describe('guards cover every route', () => {
  it('refuses a foreign Host header with 403 and a short JSON error', async () => {
    for (const path of ['/mcp', '/messages?sessionId=x']) {
      const res = await app.handle(post(path, initialize, { host: 'evil.example:8000' }));
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: expect.stringContaining('Host') });
    }
    expect((await app.handle(new Request(`${BASE}/sse`, { headers: { host: 'evil.example' } }))).status).toBe(
      403,
    );
  });

  it('refuses a cross-site Origin and accepts a loopback one', async () => {
    const bad = await app.handle(post('/mcp', initialize, { origin: 'https://evil.example' }));
    expect(bad.status).toBe(403);
    const good = await app.handle(post('/mcp', initialize, { origin: 'http://localhost:6274' }));
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBeNull();
    await good.body?.cancel();
  });

  it('answers CORS only for configured origins, echoing the origin and never with credentials', async () => {
    const corsApp = makeApp({ allowedOrigins: ['https://app.example.com'] });
    const pre = await corsApp.handle(
      new Request(`${BASE}/mcp`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com' } }),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(pre.headers.get('access-control-allow-headers')).toContain('mcp-session-id');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await corsApp.handle(post('/mcp', initialize, { origin: 'https://other.example' }));
    expect(other.status).toBe(403);
    await corsApp.close();
  });

  it('refuses an oversize body with 413 on /mcp and /messages, declared or streamed', async () => {
    const big = 'x'.repeat(70 * 1024);
    expect((await app.handle(post('/mcp', big))).status).toBe(413);
    const sse = await app.handle(new Request(`${BASE}/sse`));
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    const endpoint = /data: (\S+)/.exec(new TextDecoder().decode((await reader.read()).value))?.[1];
    const streamed = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res = await app.handle(
      new Request(`${BASE}${endpoint}`, {
        method: 'POST',
        body: streamed,
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(res.status).toBe(413);
    await reader.cancel();
  });

  it('sends the security headers on success and on refusals', async () => {
    for (const req of [new Request(`${BASE}/healthz`), post('/mcp', initialize, { host: 'evil.example' })]) {
      const res = await app.handle(req);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
    const tlsApp = makeApp({ tls: true });
    expect(
      (await tlsApp.handle(new Request(`${BASE}/healthz`))).headers.get('strict-transport-security'),
    ).toContain('max-age');
  });

  it('/healthz answers {status:"ok"} and nothing else', async () => {
    const res = await app.handle(new Request(`${BASE}/healthz`));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"ok"}');
    expect(res.headers.get('server')).toBeNull();
  });

  it('answers unknown paths and methods with short JSON errors', async () => {
    const missing = await app.handle(new Request(`${BASE}/etc/passwd`));
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toMatch(/\/src\/|at .*\.ts/);
    expect((await app.handle(new Request(`${BASE}/mcp`, { method: 'PUT' }))).status).toBe(405);
  });

  it('refuses new requests with 503 once draining', async () => {
    const draining = makeApp();
    draining.drain();
    expect((await draining.handle(new Request(`${BASE}/healthz`))).status).toBe(503);
  });
});
