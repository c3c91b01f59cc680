/**
 * Callers are told apart by how they proved who they are, through the compiled binary: the bearer
 * token client `bob` and an OAuth token whose subject is `bob` are two callers, for the confirmation
 * seal, sessions and the session quota; the audit line says which method each used. The session
 * quota is one count across /mcp and /sse.
 */

import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallToolResult, Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { errorOf, structured } from '../helpers/client.ts';
import { acceptedRound } from '../helpers/elicit.ts';
import { cleanupContainers, containerExists, makeContainer } from '../helpers/engine.ts';
import { type HttpServer, killSpawned, serveHttp } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-identity-'));
const audit = join(dir, 'audit.jsonl');
const ISSUER = 'https://issuer.test';
const token = () => randomBytes(24).toString('base64url');
const hash = (t: string) => `sha256:${createHash('sha256').update(t).digest('hex')}`;
const tokens = { alice: token(), bob: token(), carol: token() };
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const SESSIONS = 3;

let jwtKey: CryptoKey;
let server: HttpServer;
/** An OAuth access token for `sub`, allowed everything the auth file's scopes give. */
const jwt = (sub: string) =>
  new SignJWT({ iss: ISSUER, aud: `${server.base}/mcp`, sub, scope: 'docker.write' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setExpirationTime('5m')
    .sign(jwtKey);

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  jwtKey = privateKey;
  writeFileSync(
    join(dir, 'jwks.json'),
    JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }),
  );
  writeFileSync(
    join(dir, 'auth.json'),
    JSON.stringify({
      clients: {
        alice: { profile: 'full', tokens: [hash(tokens.alice)] },
        bob: { profile: 'full', tokens: [hash(tokens.bob)] },
        carol: { profile: 'full', tokens: [hash(tokens.carol)] },
      },
      oauth_scopes: { 'docker.write': 'full' },
    }),
  );
  server = await serveHttp([
    '--auth-file',
    join(dir, 'auth.json'),
    '--oauth',
    '--oauth-issuer',
    ISSUER,
    '--oauth-jwks-file',
    join(dir, 'jwks.json'),
    '--allow-destructive',
    '--rate-limit-sessions',
    String(SESSIONS),
    '--audit-log',
    audit,
  ]);
});
afterAll(async () => {
  killSpawned();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcpt', version: '0' } },
});
const ACCEPT = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };

/** An initialize-era session opened with `auth`: the status and its id. */
async function initialize(auth: Record<string, string>) {
  const res = await fetch(`${server.base}/mcp`, {
    method: 'POST',
    headers: { ...ACCEPT, ...auth },
    body: INITIALIZE,
  });
  await res.text();
  return { status: res.status, id: res.headers.get('mcp-session-id') };
}

/** A 2026-era client that leaves input-required answers to the test. */
async function modern(auth: Record<string, string>) {
  const client = new Client(
    { name: 'mcpt-identity', version: '0' },
    {
      capabilities: { elicitation: { form: {} } },
      versionNegotiation: { mode: 'auto' },
      inputRequired: { autoFulfill: false },
    },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), { requestInit: { headers: auth } }),
  );
  return client;
}

interface Line {
  event: string;
  client_id?: string;
  auth?: string;
  args?: { container_id?: string };
  outcome: string;
}
async function auditLines(): Promise<Line[]> {
  await Bun.sleep(400);
  return readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

describe('an OAuth subject named like a token client is another caller', () => {
  it("cannot redeem the token client's confirmation, and the audit line names each method", async () => {
    const c = await makeContainer({ start: false });
    const bob = await modern(bearer(tokens.bob));
    const oauthBob = await modern(bearer(await jwt('bob')));
    try {
      const params = { name: 'docker_remove_container', arguments: { container_id: c.name } };
      const asked = (await bob.callTool(params, { allowInputRequired: true } as never)) as {
        requestState?: string;
      };
      expect(asked.requestState).toBeString();
      const replayed = (await oauthBob.callTool(
        acceptedRound(params, asked.requestState) as never,
        { allowInputRequired: true } as never,
      )) as CallToolResult;
      expect(errorOf(replayed).message).toContain('was given for another call');
      expect(await containerExists(c.id)).toBe(true);
      // The token client itself still can.
      const own = (await bob.callTool(
        acceptedRound(params, asked.requestState) as never,
        { allowInputRequired: true } as never,
      )) as CallToolResult;
      expect(structured<{ removed: boolean }>(own).removed).toBe(true);
      const lines = (await auditLines()).filter((l) => l.args?.container_id === c.name);
      expect(lines.map((l) => [l.client_id, l.auth, l.outcome])).toEqual([
        ['bob', 'token', 'input_required'],
        ['bob', 'oauth', 'policy_denied'],
        ['bob', 'token', 'ok'],
      ]);
    } finally {
      await bob.close();
      await oauthBob.close();
    }
  });

  it('answers a session the OAuth subject opened to that subject only, not to the token client of its name', async () => {
    const opened = await initialize(bearer(await jwt('bob')));
    expect(opened.status).toBe(200);
    const list = (auth: Record<string, string>, id: string) =>
      fetch(`${server.base}/mcp`, {
        method: 'POST',
        headers: { ...ACCEPT, ...auth, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
      });
    const stolen = await list(bearer(tokens.bob), opened.id ?? '');
    expect(stolen.status).toBe(404);
    await stolen.text();
    const own = await list(bearer(await jwt('bob')), opened.id ?? '');
    expect(own.status).toBe(200);
    await own.text();
  });

  it("counts the OAuth subject's sessions apart from the token client's quota", async () => {
    const oauthAlice = bearer(await jwt('alice'));
    for (let i = 0; i < SESSIONS; i++) expect((await initialize(oauthAlice)).status).toBe(200);
    expect((await initialize(oauthAlice)).status).toBe(429);
    expect((await initialize(bearer(tokens.alice))).status).toBe(200);
  });
});

describe('the session quota', () => {
  it('is one count across initialize-era /mcp sessions and legacy /sse streams', async () => {
    const carol = bearer(tokens.carol);
    expect((await initialize(carol)).status).toBe(200);
    expect((await initialize(carol)).status).toBe(200);
    const held = new AbortController();
    const stream = await fetch(`${server.base}/sse`, { headers: carol, signal: held.signal });
    expect(stream.status).toBe(200);
    try {
      const more = await fetch(`${server.base}/sse`, { headers: carol });
      expect(more.status).toBe(429);
      expect(((await more.json()) as { limit: string }).limit).toBe('open_sessions');
      expect((await initialize(carol)).status).toBe(429);
    } finally {
      held.abort();
    }
  });
});
