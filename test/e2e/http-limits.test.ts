/**
 * Abuse limits, client filtering and the audit log, end to end: the compiled binary serving HTTP on
 * 127.0.0.1, driven with raw fetch so every status, header and byte is the server's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashToken } from '../../src/transport/http/token.ts';
import { startServer } from '../helpers/client.ts';
import { cleanupContainers, makeContainer } from '../helpers/engine.ts';
import { call, freePort, killSpawned, rpc, serveHttp, spawnBinary } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-http-limits-'));
const RAW_HEADERS = {
  accept: 'application/json, text/event-stream',
  'content-type': 'application/json',
  'mcp-protocol-version': '2026-07-28',
};
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'mcpt-limits', version: '0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
/** Each case its own server, configured through the environment as an operator would. */
const serve = (env: Record<string, string> = {}) => serveHttp([], { env });

afterAll(async () => {
  killSpawned();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

describe('tool calls per minute', () => {
  it('answers the 4th tool call in a minute at 3 rpm with 429, Retry-After and which limit', async () => {
    const r = await serve({ SECURITY_RATE_LIMIT_RPM: '3' });
    for (let i = 0; i < 3; i++) expect((await call(r.base, 'docker_version')).status).toBe(200);
    const refused = await call(r.base, 'docker_version');
    expect(refused.status).toBe(429);
    const retry = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retry) && retry >= 1 && retry <= 60).toBe(true);
    expect(JSON.parse(refused.text)).toMatchObject({
      limit: 'tool_calls_per_minute',
      retry_after_seconds: retry,
    });
    // Listing does not spend the tool-call budget.
    expect((await rpc(r.base, 'tools/list')).status).toBe(200);
  });

  it('holds whatever the path or the method spelling: /mcp/, tools\\/call, tools\\u002fcall', async () => {
    const r = await serve({ SECURITY_RATE_LIMIT_RPM: '2' });
    for (let i = 0; i < 2; i++) expect((await call(r.base, 'docker_version')).status).toBe(200);
    const params = `"params":{"name":"docker_version","arguments":{},"_meta":${JSON.stringify(META)}}`;
    const variants = [
      ['/mcp/', '"tools/call"'],
      ['/mcp', String.raw`"tools\/call"`],
      ['/mcp', String.raw`"tools\u002fcall"`],
    ];
    for (const [path, method] of variants) {
      const res = await fetch(`${r.base}${path}`, {
        method: 'POST',
        headers: { ...RAW_HEADERS, 'mcp-method': 'tools/call', 'mcp-name': 'docker_version' },
        body: `{"jsonrpc":"2.0","id":7,"method":${method},${params}}`,
      });
      expect(`${path} ${method} ${res.status}`).toBe(`${path} ${method} 429`);
      expect(JSON.parse(await res.text()).limit).toBe('tool_calls_per_minute');
    }
  });

  it('lets every call through when rate limiting is off', async () => {
    const r = await serve({ SECURITY_RATE_LIMIT_RPM: '1', SECURITY_RATE_LIMIT_ENABLED: 'false' });
    for (let i = 0; i < 3; i++) expect((await call(r.base, 'docker_version')).status).toBe(200);
  });
});

describe('tool calls at once', () => {
  let box: { name: string };
  beforeAll(async () => {
    box = await makeContainer();
  });

  it('refuses a second call while one runs at a cap of 1, and admits again when it ends', async () => {
    const r = await serve({ SECURITY_RATE_LIMIT_CONCURRENT: '1' });
    const slow = call(r.base, 'docker_exec_command', { container_id: box.name, command: 'sleep 2' });
    await Bun.sleep(500);
    const refused = await call(r.base, 'docker_version');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(refused.text).limit).toBe('concurrent_calls');
    expect((await slow).status).toBe(200);
    expect((await call(r.base, 'docker_version')).status).toBe(200);
  });

  it('counts a legacy /messages call while it runs, though its POST was answered at once', async () => {
    const r = await serve({ SECURITY_RATE_LIMIT_CONCURRENT: '1' });
    const stream = await fetch(`${r.base}/sse`, { headers: { accept: 'text/event-stream' } });
    const reader = stream.body?.getReader();
    if (!reader) throw new Error('no SSE body');
    let seen = '';
    const until = async (needle: string) => {
      while (!seen.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        seen += new TextDecoder().decode(value);
      }
    };
    await until('sessionId=');
    const endpoint = /data: (\/messages\?sessionId=[\w-]+)/.exec(seen)?.[1];
    const post = (body: object) =>
      fetch(`${r.base}${endpoint}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', ...body }),
      });
    const init = { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 't', version: '0' } };
    expect((await post({ id: 1, method: 'initialize', params: init })).status).toBe(202);
    await until('"id":1');
    await post({ method: 'notifications/initialized' });
    const args = { container_id: box.name, command: 'sleep 2' };
    expect(
      (await post({ id: 2, method: 'tools/call', params: { name: 'docker_exec_command', arguments: args } }))
        .status,
    ).toBe(202);
    await Bun.sleep(500);
    const refused = await post({
      id: 3,
      method: 'tools/call',
      params: { name: 'docker_version', arguments: {} },
    });
    expect(refused.status).toBe(429);
    await until('"id":2');
    expect(
      (await post({ id: 4, method: 'tools/call', params: { name: 'docker_version', arguments: {} } })).status,
    ).toBe(202);
    await until('"id":4');
    await reader.cancel();
  });
});

describe('request bodies in flight', () => {
  it('refuses a client 429 before reading its body once (concurrent calls + 2) full bodies are in flight', async () => {
    const r = await serve({ SECURITY_RATE_LIMIT_CONCURRENT: '1', MCP_DOCKER_MAX_BODY_BYTES: '100000' });
    // Three uploads of a full body that never finish: each holds what it declared while it is read.
    const sockets = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const socket = await Bun.connect({ hostname: '127.0.0.1', port: r.port, socket: { data() {} } });
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\ncontent-type: application/json\r\n` +
            'accept: application/json, text/event-stream\r\ncontent-length: 100000\r\n\r\n{"jsonrpc":',
        );
        return socket;
      }),
    );
    await Bun.sleep(300);
    const refused = await rpc(r.base, 'tools/list');
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).limit).toBe('body_bytes_in_flight');
    for (const s of sockets) s.end();
    let again = refused;
    for (let i = 0; i < 20 && again.status !== 200; i++) {
      await Bun.sleep(100);
      again = await rpc(r.base, 'tools/list');
    }
    expect(again.status).toBe(200);
  });
});

describe('event streams', () => {
  it('refuses a third open stream at a cap of 2 with 429, and admits one when a stream closes', async () => {
    const r = await serve({ SECURITY_RATE_LIMIT_STREAMS: '2' });
    const open = () => fetch(`${r.base}/sse`, { headers: { accept: 'text/event-stream' } });
    const first = await open();
    const second = await open();
    expect([first.status, second.status]).toEqual([200, 200]);
    const refused = await open();
    expect(refused.status).toBe(429);
    expect(JSON.parse(await refused.text()).limit).toBe('open_streams');
    await first.body?.cancel();
    let again = refused;
    for (let i = 0; i < 20 && again.status !== 200; i++) {
      await Bun.sleep(50);
      again = await open();
    }
    expect(again.status).toBe(200);
    await second.body?.cancel();
    await again.body?.cancel();
  });
});

describe('event streams under another path spelling', () => {
  it('counts GET /sse/ against the same cap as /sse', async () => {
    const r = await serve({ SECURITY_RATE_LIMIT_STREAMS: '1' });
    const first = await fetch(`${r.base}/sse`, { headers: { accept: 'text/event-stream' } });
    expect(first.status).toBe(200);
    const second = await fetch(`${r.base}/sse/`, { headers: { accept: 'text/event-stream' } });
    expect(second.status).toBe(429);
    await second.body?.cancel();
    await first.body?.cancel();
  });
});

describe('sessions per client', () => {
  it('refuses a client its 3rd session at a quota of 2, naming the limit and DELETE /mcp, while another client opens one', async () => {
    const tokens = { alice: 'mcpt-alice-token-0123456789abcdef', bob: 'mcpt-bob-token-0123456789abcdefg' };
    const authFile = join(dir, 'auth-sessions.json');
    writeFileSync(
      authFile,
      JSON.stringify({
        clients: {
          alice: { profile: 'read-only', tokens: [hashToken(tokens.alice)] },
          bob: { profile: 'read-only', tokens: [hashToken(tokens.bob)] },
        },
      }),
    );
    const r = await serve({ SECURITY_AUTH_FILE: authFile, SECURITY_RATE_LIMIT_SESSIONS: '2' });
    const init = (token: string) =>
      fetch(`${r.base}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json, text/event-stream',
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'mcpt', version: '0' },
          },
        }),
      });
    const opened = await Promise.all([init(tokens.alice), init(tokens.alice), init(tokens.alice)]);
    const statuses = opened.map((o) => o.status).sort();
    expect(statuses).toEqual([200, 200, 429]);
    const refused = opened.find((o) => o.status === 429) as Response;
    const body = (await refused.json()) as { error: string; limit: string };
    expect(body.limit).toBe('open_sessions');
    expect(body.error).toContain('DELETE /mcp');
    expect((await init(tokens.bob)).status).toBe(200);
    const first = opened.find((o) => o.status === 200) as Response;
    const id = first.headers.get('mcp-session-id') ?? '';
    const closed = await fetch(`${r.base}/mcp`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${tokens.alice}`,
        'mcp-session-id': id,
        'mcp-protocol-version': '2025-06-18',
      },
    });
    expect(closed.status).toBe(200);
    expect((await init(tokens.alice)).status).toBe(200);
  });
});

describe('failed authentication', () => {
  it('does not count requests with no credential as failures, and keeps /healthz answering during a lockout', async () => {
    const token = 'mcpt-good-token-0123456789abcdef';
    const authFile = join(dir, 'auth-bare.json');
    writeFileSync(
      authFile,
      JSON.stringify({ clients: { ops: { profile: 'moderate', tokens: [hashToken(token)] } } }),
    );
    const r = await serve({ SECURITY_AUTH_FILE: authFile, SECURITY_AUTH_FAILURES_PER_MINUTE: '3' });
    for (let i = 0; i < 10; i++) expect((await rpc(r.base, 'tools/list')).status).toBe(401);
    const good = { authorization: `Bearer ${token}` };
    expect((await rpc(r.base, 'tools/list', {}, good)).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await rpc(r.base, 'tools/list', {}, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await rpc(r.base, 'tools/list', {}, good)).status).toBe(429);
    const health = await fetch(`${r.base}/healthz`, { headers: good });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('locks an IP out after N failures a minute, even with a good token', async () => {
    const token = 'mcpt-good-token-0123456789abcdef';
    const authFile = join(dir, 'auth.json');
    writeFileSync(
      authFile,
      JSON.stringify({ clients: { ops: { profile: 'moderate', tokens: [hashToken(token)] } } }),
    );
    const audit = join(dir, 'auth-audit.jsonl');
    const r = await serve({
      SECURITY_AUTH_FILE: authFile,
      SECURITY_AUTH_FAILURES_PER_MINUTE: '3',
      SECURITY_AUDIT_LOG_FILE: audit,
    });
    const good = { authorization: `Bearer ${token}` };
    expect((await rpc(r.base, 'tools/list', {}, good)).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await rpc(r.base, 'tools/list', {}, { authorization: 'Bearer wrong' })).status).toBe(401);
    const locked = await rpc(r.base, 'tools/list', {}, good);
    expect(locked.status).toBe(429);
    expect(JSON.parse(locked.text).limit).toBe('auth_failures');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(50);
    r.proc.kill('SIGTERM');
    await r.proc.exited;
    const events = readFileSync(audit, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => `${e.event}:${e.outcome}`)).toEqual([
      ...Array(3).fill('auth_failure:unauthenticated'),
      'rate_limited:auth_failures',
    ]);
    expect(JSON.stringify(events)).not.toContain('wrong');
  });
});

describe('tools/list answer cache', () => {
  it("answers each profile its own list, the same every time, with the caller's id", async () => {
    const [reader, operator] = ['mcpt-reader-token-0123456789abcdef', 'mcpt-operator-token-0123456789abcd'];
    const authFile = join(dir, 'auth-profiles.json');
    writeFileSync(
      authFile,
      JSON.stringify({
        clients: {
          reader: { profile: 'read-only', tokens: [hashToken(reader)] },
          operator: { profile: 'moderate', tokens: [hashToken(operator)] },
        },
      }),
    );
    const r = await serve({ SECURITY_AUTH_FILE: authFile });
    const names = async (token: string) => {
      const res = await rpc(r.base, 'tools/list', {}, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(200);
      const data = res.text.split('\n').find((l) => l.startsWith('data: ')) ?? '';
      const msg = JSON.parse(data.slice(6)) as { id: number; result: { tools: { name: string }[] } };
      expect(msg.id).toBe(res.id);
      return msg.result.tools.map((t) => t.name);
    };
    const first = { reader: await names(reader), operator: await names(operator) };
    expect(first.reader).not.toContain('docker_stop_container');
    expect(first.operator).toContain('docker_stop_container');
    for (let i = 0; i < 2; i++) {
      expect(await names(reader)).toEqual(first.reader);
      expect(await names(operator)).toEqual(first.operator);
    }
  });
});

describe('client addresses', () => {
  it('refuses 127.0.0.1 with 403 when only 10.0.0.0/8 is allowed, on every route', async () => {
    const r = await serve({ SECURITY_ALLOWED_CLIENT_IPS: '10.0.0.0/8' });
    expect((await rpc(r.base, 'tools/list')).status).toBe(403);
    const health = await fetch(`${r.base}/healthz`);
    expect(health.status).toBe(403);
    expect(((await health.json()) as { error: string }).error).toContain('allowlist');
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const r = await serve({
      SECURITY_ALLOWED_CLIENT_IPS: '10.0.0.0/8',
      SECURITY_TRUSTED_PROXIES: '127.0.0.1',
    });
    expect((await rpc(r.base, 'tools/list', {}, { 'x-forwarded-for': '10.1.2.3' })).status).toBe(200);
    // The right-most untrusted hop decides, not what the client put first.
    expect((await rpc(r.base, 'tools/list', {}, { 'x-forwarded-for': '10.1.2.3, 192.0.2.7' })).status).toBe(
      403,
    );
    const untrusted = await serve({
      SECURITY_ALLOWED_CLIENT_IPS: '10.0.0.0/8',
      SECURITY_TRUSTED_PROXIES: '192.0.2.1',
    });
    expect((await rpc(untrusted.base, 'tools/list', {}, { 'x-forwarded-for': '10.1.2.3' })).status).toBe(403);
  });

  it('refuses to start on a malformed CIDR, naming the setting and the entry', async () => {
    const { proc, stderr } = spawnBinary(
      ['--transport', 'http', '--host', '127.0.0.1', '--port', String(await freePort())],
      { env: { SECURITY_ALLOWED_CLIENT_IPS: '10.0.0.0/8,10.0.0.0/33' } },
    );
    expect(await proc.exited).not.toBe(0);
    expect(stderr()).toContain("'10.0.0.0/33' is not an IP address or CIDR");
    expect(stderr()).toContain('SECURITY_ALLOWED_CLIENT_IPS');
  });
});

describe('audit log', () => {
  it('records each call and refusal in a 0600 JSONL file without the secrets passed', async () => {
    const box = await makeContainer();
    const path = join(dir, 'audit.jsonl');
    const r = await serve({ SECURITY_AUDIT_LOG_FILE: path, SECURITY_RATE_LIMIT_RPM: '3' });
    expect((await call(r.base, 'docker_list_containers', { all: true })).status).toBe(200);
    const secretCall = await call(r.base, 'docker_exec_command', {
      container_id: box.name,
      command: 'true',
      environment: ['PASSWORD=hunter2', 'MODE=test'],
    });
    expect(secretCall.status).toBe(200);
    expect(
      (await call(r.base, 'docker_inspect_container', { container_id: 'mcpt-no-such-thing' })).status,
    ).toBe(200);
    expect((await call(r.base, 'docker_version')).status).toBe(429);
    r.proc.kill('SIGTERM');
    expect(await r.proc.exited).toBe(0);

    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('hunter2');
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const calls = lines.filter((l) => l.event === 'tool_call');
    expect(calls.map((l) => l.tool)).toEqual([
      'docker_list_containers',
      'docker_exec_command',
      'docker_inspect_container',
    ]);
    expect(calls[0]).toMatchObject({
      client_id: '127.0.0.1',
      ip: '127.0.0.1',
      safety: 'safe',
      outcome: 'ok',
    });
    expect(typeof calls[0].duration_ms).toBe('number');
    // An environment is declared secret whole: values that are not secret-named are masked too.
    expect(calls[1].args.environment).toBe('***');
    expect(calls[1].args.container_id).toBe(box.name);
    expect(calls[2].outcome).toBe('not_found');
    expect(lines.at(-1)).toMatchObject({ event: 'rate_limited', outcome: 'tool_calls_per_minute' });
    // Audit lines never go to the application log.
    expect(r.stderr()).not.toContain('tool_call');
  });
});

describe('audit log over stdio', () => {
  it('records stdio tool calls as client "stdio", with secrets masked', async () => {
    const path = join(dir, 'stdio-audit.jsonl');
    const server = await startServer({ env: { SECURITY_AUDIT_LOG_FILE: path } });
    // A label filter that matches nothing: the call needs no container, and its argument holds a secret.
    const r = await server.client.callTool('docker_list_containers', {
      all: true,
      filters: { label: ['PASSWORD=hunter2'] },
    });
    expect(r.isError).toBeFalsy();
    await server.close();
    let text = '';
    for (let i = 0; i < 50 && !text.includes('\n'); i++) {
      await Bun.sleep(50);
      text = readFileSync(path, 'utf8');
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toMatchObject({
      event: 'tool_call',
      client_id: 'stdio',
      tool: 'docker_list_containers',
      outcome: 'ok',
      args: { filters: { label: ['PASSWORD=***'] } },
    });
  });
});
