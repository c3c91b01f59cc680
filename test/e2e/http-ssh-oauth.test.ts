/**
 * The compiled binary over HTTP with SSH-signed requests and OAuth JWTs: real v2/v1 clients signing
 * with keys made by ssh-keygen (through examples/ssh-sign.ts and .sh), JWTs signed with keys jose made,
 * a JWKS from a file and from a loopback URL. Per-credential profiles come from an auth file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { type SignOptions, signedFetch, sshSigner } from '../../examples/ssh-sign.ts';
import { type HttpServer, killSpawned, serveHttp } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-ssh-oauth-'));
const info = { name: 'mcp-docker-ssh-oauth-e2e', version: '0.0.0' };
const ISSUER = 'https://issuer.test';
const at = (name: string) => join(dir, name);
const MODERATE_TOOL = 'docker_stop_container';

/** Rate limits off: these tests are about who may call, not how often. */
const serve = (args: string[]) => serveHttp(args, { env: { SECURITY_RATE_LIMIT_ENABLED: 'false' } });

const keygen = (name: string, comment: string, ...args: string[]) =>
  execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', comment, '-f', at(name)]);
const pub = (name: string) => readFileSync(`${at(name)}.pub`, 'utf8');

let jwtKey: CryptoKey;
let jwksServer: ReturnType<typeof Bun.serve>;
let server: HttpServer;

beforeAll(async () => {
  keygen('operator_ed', 'operator', '-t', 'ed25519');
  keygen('operator_rsa', 'operator', '-t', 'rsa', '-b', '3072');
  keygen('monitor_ec', 'monitor', '-t', 'ecdsa', '-b', '256');
  keygen('stranger', 'operator', '-t', 'ed25519');
  keygen('late', 'late', '-t', 'ed25519');
  writeFileSync(at('authorized_keys'), pub('operator_ed') + pub('operator_rsa') + pub('monitor_ec'));
  writeFileSync(
    at('auth.json'),
    JSON.stringify({
      clients: {
        operator: { profile: 'moderate' },
        monitor: { profile: 'read-only' },
        late: { profile: 'read-only' },
      },
      oauth_scopes: { 'docker:read': 'read-only', 'docker:write': 'moderate' },
    }),
  );
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  jwtKey = privateKey;
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] };
  writeFileSync(at('jwks.json'), JSON.stringify(jwks));
  jwksServer = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => Response.json(jwks) });
  server = await serve([
    '--auth-file',
    at('auth.json'),
    '--ssh-authorized-keys',
    at('authorized_keys'),
    '--oauth',
    '--oauth-issuer',
    ISSUER,
    '--oauth-jwks-file',
    at('jwks.json'),
    '--audit-log',
    at('audit.jsonl'),
    // More deliberate refusals than the default lockout (10 a minute) allows; the lockout has its own test.
    '--auth-failures-per-minute',
    '50',
  ]);
});

afterAll(() => {
  killSpawned();
  jwksServer?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const sign = (key: string, clientId: string, extra: Partial<SignOptions> = {}): SignOptions => ({
  keyFile: at(key),
  clientId,
  ...extra,
});

async function v2With(base: string, fetch: typeof globalThis.fetch) {
  const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new V2Http(new URL(`${base}/mcp`), { fetch }));
  return client;
}
const toolNames = async (client: { listTools(): Promise<{ tools: { name: string }[] }> }) =>
  (await client.listTools()).tools.map((t) => t.name);

/** A raw initialize POST to /mcp with the given Authorization header. */
const post = (authorization?: string, base = server.base) =>
  fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: info },
    }),
  });

/** Signs `client|ts|nonce` with ssh-keygen itself, for a chosen timestamp. */
function keygenHeader(key: string, clientId: string, ts: number) {
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const n = Buffer.from(nonce).toString('base64url');
  const sig = execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-f', at(key), '-n', 'mcp-docker'], {
    input: `${clientId}|${ts}|${n}`,
  }).toString();
  return `Signature keyId="${clientId}",ts="${ts}",nonce="${n}",sig="${sig.replace(/-----[A-Z ]+-----|\s/g, '')}"`;
}

function jwt(claims: JWTPayload, base = server.base) {
  return new SignJWT({ iss: ISSUER, aud: `${base}/mcp`, sub: 'agent-7', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setExpirationTime('5m')
    .sign(jwtKey);
}
const bearerFetch = (token: string): typeof fetch =>
  Object.assign(
    (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
    { preconnect: fetch.preconnect },
  );

describe('SSH-signed requests to the binary', () => {
  it('refuses a request without credentials with 401 and every accepted scheme', async () => {
    const res = await post();
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('Signature realm="mcp-docker"');
    expect(challenge).toContain(
      `resource_metadata="${server.base}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it("answers a wrong credential with that scheme's challenge only, not every scheme", async () => {
    const badToken = await post('Bearer not-a-configured-token');
    expect(badToken.status).toBe(401);
    expect(badToken.headers.get('www-authenticate')).toBe('Bearer realm="mcp-docker", error="invalid_token"');
    const forged = await post(sshSigner(sign('stranger', 'operator'))());
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toBe('Signature realm="mcp-docker"');
  });

  it('serves a v2 client signing with ed25519 and one signing with rsa-sha2-512: the operator profile', async () => {
    for (const key of ['operator_ed', 'operator_rsa']) {
      const client = await v2With(server.base, signedFetch(sign(key, 'operator')));
      expect(await toolNames(client)).toContain(MODERATE_TOOL);
      const r = await client.callTool({ name: 'docker_list_containers', arguments: { all: true } });
      expect(r.isError).toBeFalsy();
      await client.close();
    }
  });

  it('gives a read-only client (ecdsa key, v1 SDK) only safe tools and refuses a moderate call', async () => {
    const client = new V1Client(info);
    await client.connect(
      new V1Http(new URL(`${server.base}/mcp`), { fetch: signedFetch(sign('monitor_ec', 'monitor')) }),
    );
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(5);
    expect(tools.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name)).toEqual([]);
    const r = await client.callTool({ name: MODERATE_TOOL, arguments: { container_id: 'mcpt-none' } });
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toContain('policy_denied');
    await client.close();
  });

  it('serves a v1 client over legacy /sse, signing the stream and every message', async () => {
    const client = new V1Client(info);
    await client.connect(
      new V1Sse(new URL(`${server.base}/sse`), { fetch: signedFetch(sign('operator_ed', 'operator')) }),
    );
    expect((await client.listTools()).tools.map((t) => t.name)).toContain(MODERATE_TOOL);
    const r = await client.callTool({ name: 'docker_list_containers', arguments: { all: true } });
    expect(r.isError).toBeFalsy();
    await client.close();
  });

  it('audits SSH refusals with the reason and calls with the key comment as client id, never the signature', async () => {
    const forged = sshSigner(sign('stranger', 'operator'))();
    expect((await post(forged)).status).toBe(401);
    const client = await v2With(server.base, signedFetch(sign('operator_ed', 'operator')));
    await client.callTool({ name: 'docker_list_containers', arguments: { limit: 1 } });
    await client.close();
    type Line = {
      event: string;
      client_id?: string;
      claimed_client_id?: string;
      tool?: string;
      args?: unknown;
      detail?: string;
    };
    let lines: Line[] = [];
    const mine = (l: Line) => l.tool === 'docker_list_containers' && JSON.stringify(l.args) === '{"limit":1}';
    for (let i = 0; i < 40; i++) {
      lines = readFileSync(at('audit.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      if (lines.some(mine)) break; // the audit log is buffered
      await Bun.sleep(100);
    }
    // The refusal names the id the header claimed, as claimed: it was not proven.
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: 'auth_failure',
        claimed_client_id: 'operator',
        detail: 'ssh: operator signed with a key not listed for it',
      }),
    );
    expect(lines.filter((l) => l.event === 'auth_failure').every((l) => l.client_id === undefined)).toBe(
      true,
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ client_id: 'operator', tool: 'docker_list_containers' }),
    );
    const sig = forged.split('sig="')[1]?.slice(0, 40) ?? 'missing';
    expect(readFileSync(at('audit.jsonl'), 'utf8')).not.toContain(sig);
  });

  it('accepts the header the shell example prints (ssh-keygen -Y sign)', async () => {
    const header = execFileSync(join(import.meta.dir, '../../examples/ssh-sign.sh'), [
      at('monitor_ec'),
      'monitor',
    ])
      .toString()
      .trim();
    expect((await post(header)).status).toBe(200);
  });

  it('refuses a request signed with a key not listed for the client, with the same message as an unknown client', async () => {
    const wrong = await post(sshSigner(sign('stranger', 'operator'))());
    const unknown = await post(sshSigner(sign('operator_ed', 'nobody'))());
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    const [a, b] = [await wrong.json(), await unknown.json()];
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).not.toContain('stranger');
  });

  it('refuses a replayed nonce', async () => {
    const header = sshSigner(sign('operator_ed', 'operator'))();
    expect((await post(header)).status).toBe(200);
    const replay = await post(header);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: string }).error).toContain('nonce already used');
  });

  it('refuses a timestamp outside the window, telling the client to check its clock', async () => {
    const res = await post(keygenHeader('operator_ed', 'operator', Math.floor(Date.now() / 1000) - 3600));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toContain('check the client clock');
    expect((await post(keygenHeader('operator_ed', 'operator', Math.floor(Date.now() / 1000)))).status).toBe(
      200,
    );
  });

  it('answers a stale header for a real client id exactly as for an unknown one', async () => {
    const nonce = 'AAAAAAAAAAAAAAAAAAAAAAAA';
    const answers = await Promise.all(
      ['operator', 'monitor', 'nosuchclient'].map(async (id) => {
        const res = await post(`Signature keyId="${id}",ts="1",nonce="${nonce}",sig="AAAA"`);
        return `${res.status} ${await res.text()}`;
      }),
    );
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toStartWith('401 ');
  });

  it('accepts a key added to authorized_keys without a restart', async () => {
    const late = signedFetch(sign('late', 'late'));
    expect((await post(sshSigner(sign('late', 'late'))())).status).toBe(401);
    appendFileSync(at('authorized_keys'), pub('late'));
    await Bun.sleep(1100);
    const client = await v2With(server.base, late);
    expect(await toolNames(client)).not.toContain(MODERATE_TOOL);
    await client.close();
    expect(server.stderr()).toContain('4 key(s) for 3 client(s)');
  });
});

describe('OAuth JWTs to the binary', () => {
  it('serves the protected-resource metadata without credentials', async () => {
    const res = await fetch(`${server.base}/.well-known/oauth-protected-resource`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      resource: `${server.base}/mcp`,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
    });
  });

  it('serves a v2 client whose token scopes pick the profile', async () => {
    const writer = await v2With(server.base, bearerFetch(await jwt({ scope: 'docker:write' })));
    expect(await toolNames(writer)).toContain(MODERATE_TOOL);
    await writer.close();
    const reader = await v2With(server.base, bearerFetch(await jwt({ scope: 'docker:read' })));
    const names = await toolNames(reader);
    expect(names).toContain('docker_list_containers');
    expect(names).not.toContain(MODERATE_TOOL);
    await reader.close();
  });

  it('refuses wrong issuer, wrong audience and an expired token with 401 invalid_token', async () => {
    const expired = await new SignJWT({
      iss: ISSUER,
      aud: `${server.base}/mcp`,
      sub: 'x',
      scope: 'docker:read',
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 600)
      .sign(jwtKey);
    for (const token of [
      await jwt({ iss: 'https://evil.test' }),
      await jwt({ aud: 'https://elsewhere/mcp' }),
      expired,
    ]) {
      const res = await post(`Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toStartWith('Bearer error="invalid_token"');
    }
  });

  it('refuses a token minted for this name on another port, whatever Host the caller sends', async () => {
    const named = await serve([
      '--oauth',
      '--oauth-issuer',
      ISSUER,
      '--oauth-jwks-file',
      at('jwks.json'),
      '--allowed-hosts',
      'mcp.example.com',
    ]);
    const withHost = async (host: string, aud: string) =>
      (
        await fetch(`${named.base}/mcp`, {
          method: 'POST',
          headers: {
            host,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            authorization: `Bearer ${await jwt({ aud, scope: 'docker:read' })}`,
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: info },
          }),
        })
      ).status;
    // A loopback name without a port is port 80: another server (refused at the Host check).
    expect(await withHost('localhost', 'http://localhost/mcp')).toBe(403);
    expect(await withHost('mcp.example.com:4444', 'http://mcp.example.com:4444/mcp')).toBe(401);
    // The same name on this server's port is this server.
    expect(await withHost(`mcp.example.com:${named.port}`, `http://mcp.example.com:${named.port}/mcp`)).toBe(
      200,
    );
  });

  it('verifies tokens against a JWKS served from a URL', async () => {
    const other = await serve([
      '--oauth',
      '--oauth-issuer',
      ISSUER,
      '--oauth-jwks-url',
      `http://127.0.0.1:${jwksServer.port}/jwks`,
    ]);
    const client = await v2With(other.base, bearerFetch(await jwt({ scope: 'docker:read' }, other.base)));
    expect(await toolNames(client)).toContain('docker_list_containers');
    await client.close();
    expect((await post(`Bearer ${await jwt({ scope: 'docker:read' })}`, other.base)).status).toBe(401);
  });
});
