/**
 * The compiled binary serving HTTP on 127.0.0.1 (a free port), driven by real clients of both SDK
 * generations over Streamable HTTP and legacy SSE, plain and with TLS from a certificate made here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, type HttpServer, killSpawned, serveHttp, spawnBinary } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-http-e2e-'));
const info = { name: 'mcp-docker-http-e2e', version: '0.0.0' };

afterAll(async () => {
  killSpawned();
  rmSync(dir, { recursive: true, force: true });
});

let plain: HttpServer;
beforeAll(async () => {
  plain = await serveHttp();
});

describe('mcp-docker --transport http', () => {
  it('serves a v2 client over /mcp: tools and docker_list_containers', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new V2Http(new URL(`${plain.base}/mcp`)));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('docker_list_containers');
    const r = await client.callTool({ name: 'docker_list_containers', arguments: { all: true } });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toHaveProperty('count');
    await client.close();
  });

  it('serves a v1 client over /mcp and over legacy /sse', async () => {
    for (const transport of [
      new V1Http(new URL(`${plain.base}/mcp`)),
      new V1Sse(new URL(`${plain.base}/sse`)),
    ]) {
      const client = new V1Client(info);
      await client.connect(transport);
      expect((await client.listTools()).tools.length).toBeGreaterThan(10);
      const r = await client.callTool({ name: 'docker_list_containers', arguments: {} });
      expect(r.isError).toBeFalsy();
      await client.close();
    }
  });

  it('refuses a foreign Host with 403, answers /healthz with nothing but status', async () => {
    const res = await fetch(`${plain.base}/healthz`, { headers: { host: 'evil.example' } });
    expect(res.status).toBe(403);
    const ok = await fetch(`${plain.base}/healthz`);
    expect(await ok.text()).toBe('{"status":"ok"}');
    expect(ok.headers.get('x-frame-options')).toBe('DENY');
  });

  it('refuses a foreign Origin with 403 and no CORS grant, before any MCP handling', async () => {
    const res = await fetch(`${plain.base}/mcp`, {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(await res.text()).not.toContain('docker_list_containers');
    // The same request from the server's own origin is answered.
    const own = await fetch(`${plain.base}/healthz`, { headers: { origin: plain.base } });
    expect(own.status).toBe(200);
  });

  it('answers an oversize body with 413', async () => {
    const small = await serveHttp(['--max-body-bytes', '2048']);
    const res = await fetch(`${small.base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: 'x'.repeat(4096),
    });
    expect(res.status).toBe(413);
  });

  it('exits 0 on SIGTERM', async () => {
    const r = await serveHttp();
    r.proc.kill('SIGTERM');
    expect(await r.proc.exited).toBe(0);
  });

  it('refuses a non-loopback bind without the override, exiting non-zero with the reason', async () => {
    const { proc, stderr } = spawnBinary([
      '--transport',
      'http',
      '--host',
      '0.0.0.0',
      '--port',
      String(await freePort()),
    ]);
    expect(await proc.exited).not.toBe(0);
    expect(stderr()).toContain('non-loopback');
  });

  it('says which port is in use', async () => {
    const port = Number(new URL(plain.base).port);
    const { proc, stderr } = spawnBinary(['--transport', 'http', '--port', String(port)]);
    expect(await proc.exited).not.toBe(0);
    expect(stderr()).toContain(`port ${port}`);
  });

  it('names an unreadable certificate file', async () => {
    const { proc, stderr } = spawnBinary([
      '--transport',
      'http',
      '--port',
      '0',
      '--tls',
      '--tls-cert',
      join(dir, 'nope.pem'),
      '--tls-key',
      join(dir, 'nope.key'),
    ]);
    expect(await proc.exited).not.toBe(0);
    expect(stderr()).toContain('nope.pem');
  });
});

describe("the seed's transport name, sse", () => {
  for (const [how, transportArgs, env] of [
    ['--transport sse', ['--transport', 'sse'], {}],
    ['MCP_TRANSPORT=sse', [], { MCP_TRANSPORT: 'sse' }],
  ] as const) {
    it(`${how} serves HTTP: a v1 client over legacy /sse and a v2 client over /mcp`, async () => {
      const r = await serveHttp([], { transportArgs: [...transportArgs], env });
      expect(r.stderr()).toContain(`serving MCP at ${r.base}/mcp`);
      const v1 = new V1Client(info);
      await v1.connect(new V1Sse(new URL(`${r.base}/sse`)));
      const listed = await v1.callTool({ name: 'docker_list_containers', arguments: { all: true } });
      expect(listed.isError).toBeFalsy();
      expect(listed.structuredContent).toHaveProperty('count');
      await v1.close();
      const v2 = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
      await v2.connect(new V2Http(new URL(`${r.base}/mcp`)));
      expect((await v2.listTools()).tools.map((t) => t.name)).toContain('docker_list_containers');
      const version = await v2.callTool({ name: 'docker_version', arguments: {} });
      expect(version.isError).toBeFalsy();
      await v2.close();
    });
  }
});

describe('HTTPS', () => {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  let tls: HttpServer;
  /** Bun's fetch trusting only the certificate made here: every client below goes through it. */
  const tlsFetch = (url: string | URL, init?: RequestInit) =>
    fetch(url, { ...init, tls: { ca: Bun.file(cert) } } as RequestInit);

  beforeAll(async () => {
    const gen = Bun.spawnSync([
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    expect(gen.exitCode).toBe(0);
    tls = await serveHttp(['--tls', '--tls-cert', cert, '--tls-key', key], { scheme: 'https' });
  });

  it('answers only over TLS, with HSTS; a client that does not trust the certificate is refused', async () => {
    expect(tls.base.startsWith('https://')).toBe(true);
    const health = await tlsFetch(`${tls.base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('strict-transport-security')).toContain('max-age');
    // Without the test's CA the handshake fails: the certificate is really checked.
    await expect(fetch(`${tls.base}/healthz`)).rejects.toThrow();
    // Plain HTTP on the TLS port gets no MCP answer.
    const plainOnTls = await fetch(`http://127.0.0.1:${tls.port}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plainOnTls).not.toBe(200);
  });

  it('serves a v2 client over /mcp', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new V2Http(new URL(`${tls.base}/mcp`), { fetch: tlsFetch }));
    const res = await client.callTool({ name: 'docker_list_containers', arguments: {} });
    expect(res.isError).toBeFalsy();
    await client.close();
  });

  it('serves a v1 client over /mcp (Streamable HTTP) and over legacy /sse', async () => {
    for (const transport of [
      new V1Http(new URL(`${tls.base}/mcp`), { fetch: tlsFetch }),
      new V1Sse(new URL(`${tls.base}/sse`), { fetch: tlsFetch }),
    ]) {
      const client = new V1Client(info);
      await client.connect(transport);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('docker_list_containers');
      const res = await client.callTool({ name: 'docker_list_containers', arguments: { all: true } });
      expect(res.isError).toBeFalsy();
      expect(res.structuredContent).toHaveProperty('count');
      await client.close();
    }
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const other = join(dir, 'other.pem');
    Bun.spawnSync(['openssl', 'genrsa', '-out', other, '2048']);
    const { proc, stderr } = spawnBinary([
      '--transport',
      'http',
      '--port',
      String(await freePort()),
      '--tls',
      '--tls-cert',
      join(dir, 'cert.pem'),
      '--tls-key',
      other,
    ]);
    expect(await proc.exited).not.toBe(0);
    expect(stderr()).toContain('--tls-key');
  });
});
