import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import { authenticate } from '../../src/transport/http/auth.ts';
import {
  createOAuthVerifier,
  metadataUrl,
  ownResourceUrls,
  protectedResourceMetadata,
  scopesOf,
} from '../../src/transport/http/auth-oauth.ts';
import { refused } from '../helpers/auth.ts';

const ISSUER = 'https://issuer.test';
const RESOURCE = 'http://127.0.0.1:8000/mcp';
const readOnly: SafetyProfile = {
  allowModerate: false,
  allowDestructive: false,
  readOnly: true,
  allowedTools: [],
  deniedTools: [],
};
const operator: SafetyProfile = { ...readOnly, readOnly: false, allowModerate: true };
const byScope = (_id: string, scopes?: readonly string[]) =>
  scopes?.includes('docker:write') ? operator : scopes?.includes('docker:read') ? readOnly : undefined;
const log = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} } as unknown as Parameters<
  typeof createOAuthVerifier
>[0]['log'];

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;
let dir: string;
let rs: Keys;
let es: Keys;
let stranger: Keys;
let jwks: { keys: JWK[] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcpt-oauth-'));
  rs = await generateKeyPair('RS256');
  es = await generateKeyPair('ES256');
  stranger = await generateKeyPair('RS256');
  jwks = {
    keys: [
      { ...(await exportJWK(rs.publicKey)), kid: 'rs', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(es.publicKey)), kid: 'es', alg: 'ES256', use: 'sig' },
    ],
  };
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface TokenOptions {
  key?: Keys['privateKey'];
  kid?: string;
  alg?: string;
  claims?: JWTPayload;
  exp?: string | number | null;
}
function token(o: TokenOptions = {}): Promise<string> {
  const t = new SignJWT({ scope: 'docker:read', iss: ISSUER, aud: RESOURCE, sub: 'agent-1', ...o.claims })
    .setProtectedHeader({ alg: o.alg ?? 'RS256', kid: o.kid ?? 'rs' })
    .setIssuedAt();
  if (o.exp !== null) t.setExpirationTime(o.exp ?? '5m');
  return t.sign(o.key ?? rs.privateKey);
}

function verifier(o: { jwksUrl?: string; audience?: string[]; requiredScopes?: string[] } = {}) {
  return createOAuthVerifier({
    issuer: ISSUER,
    audience: o.audience ?? [],
    jwksFile: o.jwksUrl ? undefined : join(dir, 'jwks.json'),
    jwksUrl: o.jwksUrl,
    requiredScopes: o.requiredScopes ?? [],
    clockSkewSeconds: 30,
    resolve: byScope,
    log,
    resourceUrls: () => [RESOURCE],
  });
}
const bearer = (t: string) => new Request(RESOURCE, { headers: { authorization: `Bearer ${t}` } });
const METADATA = 'resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"';

describe('createOAuthVerifier', () => {
  it('accepts a valid token: client id from sub, profile from its scopes', async () => {
    const v = verifier();
    expect(await v.verify(bearer(await token()))).toEqual({
      ok: true,
      principal: { clientId: 'agent-1', method: 'oauth', profile: readOnly },
    });
    const es256 = await token({
      key: es.privateKey,
      kid: 'es',
      alg: 'ES256',
      claims: { scope: 'docker:write' },
    });
    expect(await v.verify(bearer(es256))).toMatchObject({ ok: true, principal: { profile: operator } });
  });
  it('leaves non-JWT bearers (static tokens) and other schemes to the other verifiers', async () => {
    expect(await verifier().verify(bearer('mcpd_abcdef'))).toBeUndefined();
    expect(await verifier().verify(new Request(RESOURCE))).toBeUndefined();
    expect(
      await verifier().verify(new Request(RESOURCE, { headers: { authorization: 'Signature a="b"' } })),
    ).toBeUndefined();
  });
  it('refuses wrong issuer, wrong audience, expired, not-yet-valid, no expiry, wrong key and alg none with 401 invalid_token', async () => {
    const v = verifier();
    const cases: [string, string][] = [
      [await token({ claims: { iss: 'https://evil.test' } }), 'another issuer'],
      [await token({ claims: { aud: 'https://other.example/mcp' } }), 'not for this server'],
      [await token({ exp: Math.floor(Date.now() / 1000) - 120 }), 'expired'],
      [await token({ claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }), 'not valid yet'],
      [await token({ exp: null }), 'no expiry'],
      [await token({ key: stranger.privateKey }), 'signature or format'],
      [await token({ key: stranger.privateKey, kid: 'unknown' }), 'signature or format'],
      [
        new UnsecuredJWT({ scope: 'docker:write' })
          .setIssuer(ISSUER)
          .setAudience(RESOURCE)
          .setSubject('x')
          .setExpirationTime('5m')
          .encode(),
        'signature or format',
      ],
    ];
    for (const [t, message] of cases) {
      const r = refused(await v.verify(bearer(t)));
      expect([message, r.status, r.error]).toEqual([message, 401, expect.stringContaining(message)]);
      expect(r.challenge).toStartWith('Bearer error="invalid_token"');
      expect(r.challenge).toContain(METADATA);
    }
  });
  it('refuses an HS256 token made with the public key as the secret (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const t = await new SignJWT({ scope: 'docker:write' })
      .setProtectedHeader({ alg: 'HS256', kid: 'rs' })
      .setIssuer(ISSUER)
      .setAudience(RESOURCE)
      .setSubject('x')
      .setExpirationTime('5m')
      .sign(secret);
    expect(refused(await verifier().verify(bearer(t))).status).toBe(401);
  });
  it('answers 403 insufficient_scope naming the required scope', async () => {
    const r = refused(await verifier({ requiredScopes: ['mcp'] }).verify(bearer(await token())));
    expect(r.status).toBe(403);
    expect(r.error).toBe('access token lacks the scope mcp');
    expect(r.challenge).toBe(`Bearer error="insufficient_scope", scope="mcp", ${METADATA}`);
    const ok = await verifier({ requiredScopes: ['mcp'] }).verify(
      bearer(await token({ claims: { scope: 'mcp docker:read' } })),
    );
    expect(ok?.ok).toBe(true);
  });
  it('answers 403 when no scope maps to a profile', async () => {
    const r = refused(await verifier().verify(bearer(await token({ claims: { scope: 'email' } }))));
    expect([r.status, r.error]).toEqual([403, 'no scope of this access token grants access to this server']);
  });
  it('accepts a configured audience instead of the resource URL', async () => {
    const v = verifier({ audience: ['api://mcp-docker'] });
    refused(await v.verify(bearer(await token())));
    expect((await v.verify(bearer(await token({ claims: { aud: ['api://mcp-docker', 'x'] } }))))?.ok).toBe(
      true,
    );
  });
  it('uses client_id when there is no sub, and reads scp lists', async () => {
    expect(scopesOf({ scp: ['docker:read', 3] })).toEqual(['docker:read']);
    const t = await new SignJWT({ client_id: 'svc', scp: ['docker:write'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'rs' })
      .setIssuer(ISSUER)
      .setAudience(RESOURCE)
      .setExpirationTime('5m')
      .sign(rs.privateKey);
    expect(await verifier().verify(bearer(t))).toMatchObject({
      ok: true,
      principal: { clientId: 'svc', profile: operator },
    });
  });
  it('fetches keys from a JWKS URL', async () => {
    let hits = 0;
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => {
        hits++;
        return Response.json(jwks);
      },
    });
    try {
      const v = verifier({ jwksUrl: `http://127.0.0.1:${server.port}/jwks` });
      expect((await v.verify(bearer(await token())))?.ok).toBe(true);
      expect((await v.verify(bearer(await token({ key: es.privateKey, kid: 'es', alg: 'ES256' }))))?.ok).toBe(
        true,
      );
      refused(await v.verify(bearer(await token({ key: stranger.privateKey }))));
      expect(hits).toBe(1); // cached
    } finally {
      server.stop(true);
    }
  });
  it('refuses a plain-http JWKS URL off loopback and a missing JWKS file at start-up', () => {
    expect(() => verifier({ jwksUrl: 'http://issuer.example/jwks' })).toThrow(/https/);
    expect(() =>
      createOAuthVerifier({
        issuer: ISSUER,
        audience: [],
        jwksFile: join(dir, 'missing.json'),
        requiredScopes: [],
        clockSkewSeconds: 0,
        resolve: byScope,
        log,
        resourceUrls: () => [RESOURCE],
      }),
    ).toThrow(/cannot use the OAuth JWKS file .*ENOENT/);
  });
  it("lists this server's own URLs: bound, loopback names and allowed hosts on the real port", () => {
    expect(
      ownResourceUrls('http://127.0.0.1:8000/mcp', true, ['mcp.example.com', 'alt.example.com:443']),
    ).toEqual([
      'http://127.0.0.1:8000/mcp',
      'http://localhost:8000/mcp',
      'http://[::1]:8000/mcp',
      'http://mcp.example.com:8000/mcp',
      'http://alt.example.com:443/mcp',
    ]);
  });
  it('refuses a token for the same name on another port, whatever Host the caller sends', async () => {
    const v = createOAuthVerifier({
      issuer: ISSUER,
      audience: [],
      jwksFile: join(dir, 'jwks.json'),
      requiredScopes: [],
      clockSkewSeconds: 0,
      resolve: byScope,
      log,
      resourceUrls: () => ownResourceUrls('http://127.0.0.1:8000/mcp', true, ['mcp.example.com']),
    });
    const as = (host: string, t: string) =>
      new Request('http://127.0.0.1:8000/mcp', { headers: { host, authorization: `Bearer ${t}` } });
    for (const [host, aud] of [
      ['localhost', 'http://localhost/mcp'],
      ['mcp.example.com:4444', 'http://mcp.example.com:4444/mcp'],
    ] as const) {
      const r = refused(await v.verify(as(host, await token({ claims: { aud } }))));
      expect(r.error).toContain('audience');
      // A stable reason for the audit log: jose's error code, not a class name the build minifies.
      expect(r.detail).toStartWith('oauth: ERR_JWT_CLAIM_VALIDATION_FAILED: unexpected "aud" claim value');
    }
    expect(
      (await v.verify(as('localhost:8000', await token({ claims: { aud: 'http://localhost:8000/mcp' } }))))
        ?.ok,
    ).toBe(true);
  });
  it('takes the resource URL from the Host the client used: a server bound to 0.0.0.0 names its public name', async () => {
    const v = createOAuthVerifier({
      issuer: ISSUER,
      audience: [],
      jwksFile: join(dir, 'jwks.json'),
      requiredScopes: [],
      clockSkewSeconds: 0,
      resolve: byScope,
      log,
      resourceUrls: () => ownResourceUrls('https://0.0.0.0:8443/mcp', false, ['mcp.example.com']),
    });
    const as = (t: string) =>
      new Request('https://0.0.0.0:8443/mcp', {
        headers: { host: 'mcp.example.com:8443', authorization: `Bearer ${t}` },
      });
    expect(
      (await v.verify(as(await token({ claims: { aud: 'https://mcp.example.com:8443/mcp' } }))))?.ok,
    ).toBe(true);
    const r = refused(
      await v.verify(as(await token({ claims: { aud: 'https://other.example.com:8443/mcp' } }))),
    );
    expect(r.challenge).toContain(
      'resource_metadata="https://mcp.example.com:8443/.well-known/oauth-protected-resource/mcp"',
    );
    const doc = protectedResourceMetadata({
      issuer: ISSUER,
      resourceUrls: () => ownResourceUrls('https://0.0.0.0:8443/mcp', false, ['mcp.example.com']),
      scopesSupported: [],
    });
    expect(await doc(as('')).json()).toMatchObject({ resource: 'https://mcp.example.com:8443/mcp' });
  });
  it('names the public metadata URL on the 401 for a request with no credential at all', async () => {
    const v = createOAuthVerifier({
      issuer: ISSUER,
      audience: [],
      jwksFile: join(dir, 'jwks.json'),
      requiredScopes: [],
      clockSkewSeconds: 0,
      resolve: byScope,
      log,
      resourceUrls: () => ownResourceUrls('https://0.0.0.0:8443/mcp', false, ['mcp.example.com']),
    });
    const bare = new Request('https://0.0.0.0:8443/mcp', { headers: { host: 'mcp.example.com:8443' } });
    const r = refused(await authenticate(bare, [v]));
    expect(r.status).toBe(401);
    expect(r.challenge).toBe(
      'Bearer resource_metadata="https://mcp.example.com:8443/.well-known/oauth-protected-resource/mcp"',
    );
  });
  it('challenges with the protected-resource metadata URL', () => {
    expect(verifier().challenge).toBe(`Bearer ${METADATA}`);
    expect(metadataUrl('https://h.example/')).toBe('https://h.example/.well-known/oauth-protected-resource');
  });
});

describe('protectedResourceMetadata', () => {
  it('serves the RFC 9728 document', async () => {
    const handler = protectedResourceMetadata({
      issuer: ISSUER,
      resourceUrls: () => [RESOURCE],
      scopesSupported: () => ['docker:read', 'docker:write'],
    });
    expect(await handler(new Request(RESOURCE)).json()).toEqual({
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      scopes_supported: ['docker:read', 'docker:write'],
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-docker',
    });
  });
});
