/**
 * What the compiled binary's HTTP front door refuses, and what it lets through, seen as a browser or
 * a client sees it: a page on an allowed origin may send the 2026 era's headers (the CORS preflight
 * allows them); a compressed body is refused 415 naming its encoding; a Host, an Origin or a body
 * refused before authentication leaves an audit line and, at most once a minute per reason, a warning
 * in the server's log, with the client's value escaped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type HttpServer, killSpawned, rpc, serveHttp } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-refused-'));
const audit = join(dir, 'audit.jsonl');
const ORIGIN = 'https://app.example.com';
/** A Host a rebinding page might send, with a quote and more than is worth writing down. */
const HOST = `evil"x${'a'.repeat(150)}`;
const SHOWN = `Host "evil\\"x${'a'.repeat(94)}…(156 chars)" not allowed`;
let server: HttpServer;

beforeAll(async () => {
  server = await serveHttp(['--allowed-origins', ORIGIN, '--max-body-bytes', '100000', '--audit-log', audit]);
});
afterAll(() => {
  killSpawned();
  rmSync(dir, { recursive: true, force: true });
});

interface Line {
  event: string;
  ip?: string;
  outcome: string;
  detail?: string;
}
async function refusals(): Promise<Line[]> {
  await Bun.sleep(400);
  return readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.event === 'request_refused');
}

describe('a browser page on an allowed origin', () => {
  it('may send every header of the 2026-07-28 era, and read the session and version headers', async () => {
    const wanted = ['authorization', 'content-type', 'mcp-protocol-version', 'mcp-method', 'mcp-name'];
    const res = await fetch(`${server.base}/mcp`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': wanted.join(', '),
      },
    });
    expect(res.status).toBe(204);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').split(/\s*,\s*/);
    for (const h of wanted) expect(allowed).toContain(h);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    // And the request the preflight was for is answered, with what the page must read exposed.
    const call = await rpc(
      server.base,
      'tools/call',
      { name: 'docker_version', arguments: {} },
      { origin: ORIGIN },
    );
    expect(call.status).toBe(200);
    const exposed = (call.headers.get('access-control-expose-headers') ?? '').split(/\s*,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(['mcp-session-id', 'mcp-protocol-version']));
  });
});

describe('a compressed body', () => {
  it('is refused 415 naming the encoding, not as JSON that does not parse', async () => {
    const body = gzipSync(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
    const res = await fetch(`${server.base}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        accept: 'application/json, text/event-stream',
      },
      body,
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: string }).error).toBe(
      "unsupported Content-Encoding 'gzip': send the request body uncompressed",
    );
  });
});

describe('requests refused before authentication', () => {
  it('leave an audit line each and one warning a minute per reason, what the client sent escaped and cut', async () => {
    const hosts = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const res = await fetch(`${server.base}/healthz`, { headers: { host: HOST } });
        await res.text();
        return res.status;
      }),
    );
    expect(hosts).toEqual([403, 403, 403, 403, 403]);
    const origin = await fetch(`${server.base}/healthz`, { headers: { origin: 'https://evil.example' } });
    expect(origin.status).toBe(403);
    const big = await fetch(`${server.base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(150_000),
    });
    expect(big.status).toBe(413);
    const lines = await refusals();
    expect(lines.filter((l) => l.outcome === 'host_not_allowed')).toHaveLength(5);
    expect(lines.find((l) => l.outcome === 'host_not_allowed')).toMatchObject({
      ip: '127.0.0.1',
      detail: SHOWN,
    });
    expect(lines.find((l) => l.outcome === 'origin_not_allowed')?.detail).toBe(
      'Origin "https://evil.example" not allowed',
    );
    expect(lines.find((l) => l.outcome === 'body_too_large')?.detail).toContain('150000 bytes');
    const log = server.stderr();
    expect(log.match(/refused a request from 127\.0\.0\.1: Host/g)).toHaveLength(1);
    expect(log).toContain(SHOWN);
    expect(log).toContain('Origin "https://evil.example" not allowed');
  });
});
