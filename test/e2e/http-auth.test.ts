/**
 * The compiled binary with bearer-token authentication: a YAML auth file, real clients of both SDK
 * generations over /mcp and legacy /sse, the hash-token subcommand, and start-up errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { freePort, killSpawned, serveHttp, spawnBinary } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-http-auth-e2e-'));
const info = { name: 'mcp-docker-http-auth-e2e', version: '0.0.0' };
/** `mcp-docker hash-token`, optionally with `input` piped in. */
async function hashToken(input?: string, args: string[] = []) {
  const r = spawnBinary(['hash-token', ...args], { stdin: input === undefined ? 'ignore' : 'pipe' });
  if (r.stdin) {
    r.stdin.write(input ?? '');
    await r.stdin.end();
  }
  const code = await r.proc.exited;
  await Bun.sleep(20);
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

const withToken = (token: string) => (url: string | URL, init?: RequestInit) => {
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(url, { ...init, headers });
};

let server: { base: string; stderr: () => string };
let monitor = '';
let operator = '';
beforeAll(async () => {
  const made = [await hashToken(), await hashToken()].map((r) => ({
    token: /token: (\S+)/.exec(r.stdout)?.[1] as string,
    hash: /hash: +(\S+)/.exec(r.stdout)?.[1] as string,
  }));
  monitor = made[0]?.token as string;
  operator = made[1]?.token as string;
  const file = join(dir, 'auth.yaml');
  writeFileSync(
    file,
    `profiles:\n  ops: { base: moderate, denied_tools: [docker_exec_command] }\nclients:\n  monitor: { profile: read-only, tokens: ["${made[0]?.hash}"] }\n  operator: { profile: ops, tokens: ["${made[1]?.hash}"] }\n`,
  );
  server = await serveHttp(['--auth-file', file, '--allow-destructive']);
});
afterAll(() => {
  killSpawned();
  rmSync(dir, { recursive: true, force: true });
});

describe('hash-token', () => {
  it('makes a token whose printed hash is what hashing it again gives', async () => {
    const made = await hashToken();
    expect(made.code).toBe(0);
    const token = /token: (\S+)/.exec(made.stdout)?.[1] as string;
    expect(token).toMatch(/^[\w-]{43}$/);
    const again = await hashToken(`${token}\n`);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(/hash: +(\S+)/.exec(made.stdout)?.[1] as string);
    expect(again.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
  it('hashes the token given on stdin with --stdin, and says so when there is none', async () => {
    const r = await hashToken('abc', ['--stdin']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`sha256:${new Bun.CryptoHasher('sha256').update('abc').digest('hex')}\n`);
    const empty = await hashToken('', ['--stdin']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('nothing on stdin');
  });

  it('refuses a token given as an argument, saying why', async () => {
    const r = await hashToken(undefined, ['my-secret-token']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ps');
    expect(r.stdout).toBe('');
  });
});

describe('bearer tokens on the binary', () => {
  it('answers 401 with WWW-Authenticate without a token, and with a wrong one', async () => {
    const none = await fetch(`${server.base}/mcp`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await withToken('nope')(`${server.base}/sse`);
    expect(wrong.status).toBe(401);
  });

  it('v2 client with the read-only token sees only safe tools; a moderate call is refused', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new V2Http(new URL(`${server.base}/mcp`), { fetch: withToken(monitor) }));
    const tools = (await client.listTools()).tools;
    expect(tools.length).toBeGreaterThan(10);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    const r = await client.callTool({
      name: 'docker_stop_container',
      arguments: { container_id: 'mcpt-none' },
    });
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).not.toContain('No such container');
    await client.close();
  });

  it('v1 client over legacy SSE with the operator token sees moderate tools, not denied or destructive ones', async () => {
    const client = new V1Client(info);
    const fetch = withToken(operator);
    await client.connect(new V1Sse(new URL(`${server.base}/sse`), { fetch, eventSourceInit: { fetch } }));
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('docker_stop_container');
    expect(tools).not.toContain('docker_exec_command');
    expect(tools).not.toContain('docker_remove_container');
    await client.close();
  });

  it('/healthz tells an authenticated caller the version and engine, others only the status', async () => {
    expect(await (await fetch(`${server.base}/healthz`)).json()).toEqual({ status: 'ok' });
    const detail = (await (await withToken(monitor)(`${server.base}/healthz`)).json()) as Record<
      string,
      string
    >;
    expect(detail).toMatchObject({ status: 'ok', engine: 'reachable' });
    expect(detail.version).toMatch(/^\d+\.\d+/);
  });
});

describe('idle sessions', () => {
  it('closes an initialize-era session idle past --session-idle; its id then says to initialize again', async () => {
    const r = await serveHttp(['--auth-file', join(dir, 'auth.yaml'), '--session-idle', '10']);
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${monitor}`,
    };
    const init = await fetch(`${r.base}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: info },
      }),
    });
    const id = init.headers.get('mcp-session-id') as string;
    await init.body?.cancel();
    expect(id).toBeString();
    const list = () =>
      fetch(`${r.base}/mcp`, {
        method: 'POST',
        headers: { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
      });
    const alive = await list();
    expect(alive.status).toBe(200);
    await alive.body?.cancel();
    await Bun.sleep(14_000); // idle 10 s + a sweep every 2.5 s
    const expired = await list();
    expect(expired.status).toBe(404);
    expect(await expired.json()).toEqual({ error: 'session expired; initialize again' });
  }, 30_000);
});

describe('auth file changes', () => {
  it("accepts a token added to the running server's file, and drops a removed one", async () => {
    const file = join(dir, 'reload.json');
    const made = await hashToken();
    const token = /token: (\S+)/.exec(made.stdout)?.[1] as string;
    const hash = /hash: +(\S+)/.exec(made.stdout)?.[1] as string;
    const write = (clients: Record<string, unknown>) => writeFileSync(file, JSON.stringify({ clients }));
    write({ first: { profile: 'read-only', tokens: [(await hashToken(`${monitor}`)).stdout.trim()] } });
    const r = await serveHttp(['--auth-file', file]);
    const status = async (t: string) => {
      const res = await withToken(t)(`${r.base}/sse`);
      await res.body?.cancel();
      return res.status;
    };
    const until = async (t: string, want: number) => {
      let got = 0;
      for (let i = 0; i < 50 && got !== want; i++) {
        if (i > 0) await Bun.sleep(100);
        got = await status(t);
      }
      return got;
    };
    expect(await status(token)).toBe(401);
    write({ second: { profile: 'read-only', tokens: [hash] } });
    expect(await until(token, 200)).toBe(200);
    expect(await until(monitor, 401)).toBe(401);
    expect(r.stderr()).toContain('auth file reloaded');
  });
});

describe('start-up (a setting the server cannot start with: exit 2)', () => {
  const serveWithAuthFile = async (file: string) =>
    spawnBinary(['--transport', 'http', '--port', String(await freePort()), '--auth-file', file]);

  it('refuses a broken auth file, naming the file, the key and the fix', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ clients: { monitor: { profile: 'read-only', tokens: ['abc'] } } }));
    const { proc, stderr } = await serveWithAuthFile(bad);
    expect(await proc.exited).toBe(2);
    expect(stderr()).toContain('bad.json');
    expect(stderr()).toContain('clients.monitor.tokens[0]');
    expect(stderr()).toContain('mcp-docker hash-token');
  });

  it('refuses an auth file with an unnamed client, which the audit log could not name', async () => {
    const unnamed = join(dir, 'unnamed.yaml');
    writeFileSync(unnamed, `clients:\n  "":\n    profile: full\n    tokens: ["sha256:${'a'.repeat(64)}"]\n`);
    const { proc, stderr } = await serveWithAuthFile(unnamed);
    expect(await proc.exited).toBe(2);
    expect(stderr()).toContain("auth file '");
    expect(stderr()).toContain('unnamed.yaml');
    expect(stderr()).toContain('clients: a client id may not be empty');
  });

  it('refuses a non-loopback bind without TLS or authentication, naming both fixes', async () => {
    const { proc, stderr } = spawnBinary([
      '--transport',
      'http',
      '--host',
      '0.0.0.0',
      '--port',
      String(await freePort()),
    ]);
    expect(await proc.exited).not.toBe(0);
    expect(stderr()).toContain('without TLS and authentication');
    expect(stderr()).toContain('--auth-file');
  });
});
