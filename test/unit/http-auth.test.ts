import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.ts';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import { authenticate, challengeOf } from '../../src/transport/http/auth.ts';
import type { Verifier } from '../../src/transport/http/auth-types.ts';
import {
  BUILT_IN_PROFILES,
  Credentials,
  CredentialsError,
  capProfile,
  loadAuthFile,
  resolveAuthFile,
} from '../../src/transport/http/credentials.ts';
import { SessionTable } from '../../src/transport/http/sessions.ts';
import {
  bearerOf,
  hashToken,
  looksLikeJwt,
  matchToken,
  tokenVerifier,
} from '../../src/transport/http/token.ts';

const full: SafetyProfile = BUILT_IN_PROFILES.full as SafetyProfile;
const dir = mkdtempSync(join(tmpdir(), 'mcpt-auth-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger('fatal');
const H = (t: string) => hashToken(t);
const req = (headers: Record<string, string> = {}) => new Request('http://127.0.0.1/mcp', { headers });

describe('tokens', () => {
  it('hashes as sha256:<64 hex> and matches only the right client, whichever entry it is', () => {
    expect(H('secret')).toMatch(/^sha256:[0-9a-f]{64}$/);
    const entries = ['a', 'b', 'c'].map((id) => ({
      clientId: id,
      hash: Buffer.from(H(`tok-${id}`).slice(7), 'hex'),
    }));
    expect(matchToken('tok-a', entries)).toBe('a');
    expect(matchToken('tok-c', entries)).toBe('c');
    expect(matchToken('tok-x', entries)).toBeUndefined();
    expect(matchToken('tok-a', [])).toBeUndefined();
  });
  it('reads only Bearer credentials and tells JWTs apart', () => {
    expect(bearerOf(req({ authorization: 'Bearer abc' }))).toBe('abc');
    expect(bearerOf(req({ authorization: 'bearer  abc ' }))).toBe('abc');
    expect(bearerOf(req({ authorization: 'Signature keyId=x' }))).toBeUndefined();
    expect(bearerOf(req())).toBeUndefined();
    expect(looksLikeJwt('eyJh.eyJz.sig-_')).toBe(true);
    expect(looksLikeJwt('plain-token_value')).toBe(false);
  });
});

describe('auth file', () => {
  const ok = {
    profiles: { ops: { base: 'moderate', denied_tools: ['docker_exec_command'] } },
    clients: {
      monitor: { profile: 'read-only', tokens: [H('m')] },
      operator: { profile: 'ops', tokens: [H('o')] },
      'ci-bot': { profile: 'full' },
    },
    oauth_scopes: { 'docker.read': 'read-only', 'docker.write': 'ops' },
  };
  it('resolves profiles and caps every one by the server-wide ceiling', () => {
    const ceiling: SafetyProfile = { ...full, allowDestructive: false, deniedTools: ['docker_prune_images'] };
    const a = resolveAuthFile(ok, ceiling);
    expect(a.clients.get('monitor')?.profile.readOnly).toBe(true);
    const op = a.clients.get('operator')?.profile as SafetyProfile;
    expect(op.allowModerate).toBe(true);
    expect(op.deniedTools.sort()).toEqual(['docker_exec_command', 'docker_prune_images']);
    // full asked, ceiling says no destructive: capped.
    expect(a.clients.get('ci-bot')?.profile.allowDestructive).toBe(false);
    expect(a.tokens.map((t) => t.clientId)).toEqual(['monitor', 'operator']);
  });
  it('intersects allow lists, and an empty intersection allows nothing rather than everything', () => {
    const p = { ...full, allowedTools: ['a', 'b'] };
    expect(capProfile(p, { ...full, allowedTools: ['b', 'c'] }).allowedTools).toEqual(['b']);
    expect(capProfile(p, full).allowedTools).toEqual(['a', 'b']);
    const none = capProfile(p, { ...full, allowedTools: ['c'] }).allowedTools;
    expect(none).toHaveLength(1);
    expect(none).not.toContain('c');
    expect(capProfile(full, { ...full, readOnly: true }).readOnly).toBe(true);
  });
  it('names the key path and the fix in every error', () => {
    const bad = (v: unknown) => {
      try {
        resolveAuthFile(v, full);
      } catch (e) {
        expect(e).toBeInstanceOf(CredentialsError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ clients: { monitor: { profile: 'read-only', tokens: ['abc'] } } })).toBe(
      "clients.monitor.tokens[0]: expected 'sha256:' + 64 hex chars; make one with `mcp-docker hash-token`",
    );
    expect(bad({ clients: { m: { profile: 'root' } } })).toContain(
      "clients.m.profile: unknown profile 'root'",
    );
    expect(bad({ clients: { m: { profile: 'full', token: [] } } })).toBe("clients.m: unknown key 'token'");
    expect(bad({ profiles: {} })).toBe("missing key 'clients'");
    expect(bad({ profiles: { x: { base: 'admin' } }, clients: {} })).toContain('profiles.x.base');
    expect(
      bad({
        clients: { a: { profile: 'full', tokens: [H('t')] }, b: { profile: 'full', tokens: [H('t')] } },
      }),
    ).toContain('clients.b.tokens[0]: the same hash is also a token of');
    expect(bad({ clients: {}, oauth_scopes: { s: 'nope' } })).toContain('oauth_scopes.s');
    expect(bad({ clients: { '': { profile: 'full', tokens: [H('t')] } } })).toBe(
      'clients: a client id may not be empty; give it a name (it shows in the audit log and in errors)',
    );
    expect(bad({ clients: { '  ': { profile: 'full' } } })).toStartWith(
      'clients: a client id may not be blank',
    );
    expect(bad({ profiles: { '': {} }, clients: {} })).toStartWith(
      'profiles: a profile name may not be empty',
    );
    expect(bad({ clients: {}, oauth_scopes: { '': 'full' } })).toStartWith(
      'oauth_scopes: a scope may not be empty',
    );
  });
  it("refuses a profile's tool list naming no tool, with the closest one, as the server's own lists are", () => {
    const file = (denied: string[]) => ({
      clients: {},
      profiles: {
        ops: { base: 'moderate', denied_tools: denied, allowed_tools: ['docker_list_containers'] },
      },
    });
    const tools = ['docker_list_containers', 'docker_exec_command'];
    expect(() => resolveAuthFile(file(['docker_exec_comand']), full, undefined, tools)).toThrow(
      "profiles.ops.denied_tools: names no tool 'docker_exec_comand' (did you mean 'docker_exec_command'?); correct it or remove it",
    );
    expect(resolveAuthFile(file(['docker_exec_command']), full, undefined, tools).clients.size).toBe(0);
  });

  it('reads YAML and JSON, naming the file when it cannot', () => {
    const y = join(dir, 'auth.yaml');
    writeFileSync(y, `clients:\n  monitor:\n    profile: read-only\n    tokens: ["${H('m')}"]\n`);
    expect(loadAuthFile(y, full).tokens).toHaveLength(1);
    const j = join(dir, 'auth.json');
    writeFileSync(j, '{"clients": ');
    expect(() => loadAuthFile(j, full)).toThrow(`auth file '${j}' is not valid JSON`);
    expect(() => loadAuthFile(join(dir, 'missing.json'), full)).toThrow('no such file');
  });
  it('resolves OAuth scopes to the most permissive matching profile', () => {
    const j = join(dir, 'scopes.json');
    writeFileSync(j, JSON.stringify(ok));
    const c = new Credentials(j, full, log);
    expect(c.resolve('anyone', ['docker.read', 'docker.write'])?.allowModerate).toBe(true);
    expect(c.resolve('anyone', ['docker.read'])?.readOnly).toBe(true);
    expect(c.resolve('anyone', ['other'])).toBeUndefined();
    expect(c.resolve('monitor')?.readOnly).toBe(true);
    expect(c.resolve('stranger')).toBeUndefined();
  });
  it('keeps the last good file when a reload finds a broken one', () => {
    const j = join(dir, 'reload.json');
    writeFileSync(j, JSON.stringify({ clients: { a: { profile: 'full', tokens: [H('a')] } } }));
    const c = new Credentials(j, full, log);
    writeFileSync(j, JSON.stringify({ clients: { a: { profile: 'full', tokens: ['sha256:nothex'] } } }));
    expect(c.reload()).toBe(false);
    expect(matchToken('a', c.current().tokens)).toBe('a');
    writeFileSync(j, JSON.stringify({ clients: { b: { profile: 'full', tokens: [H('b')] } } }));
    expect(c.reload()).toBe(true);
    expect(matchToken('b', c.current().tokens)).toBe('b');
    expect(matchToken('a', c.current().tokens)).toBeUndefined();
  });
});

describe('authenticate', () => {
  const j = join(dir, 'verify.json');
  writeFileSync(j, JSON.stringify({ clients: { monitor: { profile: 'read-only', tokens: [H('m')] } } }));
  const credentials = new Credentials(j, full, log);
  const other: Verifier = {
    method: 'oauth',
    challenge: 'Bearer resource_metadata="x"',
    verify: async (r) =>
      bearerOf(r)?.includes('.')
        ? { ok: true, principal: { clientId: 'jwt', method: 'oauth', profile: full } }
        : undefined,
  };
  it('the first verifier that recognises its credential decides', async () => {
    const token = tokenVerifier({ credentials, oauthEnabled: true });
    const r = await authenticate(req({ authorization: 'Bearer m' }), [token, other]);
    expect(r.ok && r.principal).toMatchObject({ clientId: 'monitor', method: 'token' });
    const jwt = await authenticate(req({ authorization: 'Bearer a.b.c' }), [token, other]);
    expect(jwt.ok && jwt.principal.clientId).toBe('jwt');
  });
  it('refuses a wrong token with 401 and invalid_token, without naming a client', async () => {
    const r = await authenticate(req({ authorization: 'Bearer nope' }), [
      tokenVerifier({ credentials, oauthEnabled: false }),
    ]);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(401);
      expect(r.challenge).toContain('invalid_token');
      expect(r.error).not.toContain('monitor');
    }
  });
  it('without a credential answers 401 listing every accepted scheme', async () => {
    const vs = [tokenVerifier({ credentials, oauthEnabled: true }), other];
    const r = await authenticate(req(), vs);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.challenge).toBe('Bearer realm="mcp-docker", Bearer resource_metadata="x"');
    expect(challengeOf([])).toBe('Bearer');
  });
});

describe('SessionTable', () => {
  const fake = () => {
    let t = 0;
    return {
      now: () => t,
      advance: (ms: number) => {
        t += ms;
      },
    };
  };
  const transport = () => {
    const t = {
      closed: false,
      close: async () => {
        t.closed = true;
      },
    };
    return t;
  };
  const slot = (s: SessionTable<ReturnType<typeof transport>>, client: string) => {
    const claim = s.claim(client, 100);
    if (!claim) throw new Error('no slot');
    return claim;
  };
  it('answers only the owner, and someone else as if the id never existed', () => {
    const s = new SessionTable<ReturnType<typeof transport>>({ idleMs: 1000 });
    s.add('id', transport(), 'alice', slot(s, 'alice'));
    expect(s.use('id', 'alice')).toMatchObject({ owner: 'alice' });
    expect(s.use('id', 'mallory')).toBeUndefined();
    expect(s.use('other', 'alice')).toBeUndefined();
    void s.closeAll();
  });
  it('holds a client to its quota of sessions, opening ones included, and frees a slot when one ends', () => {
    const s = new SessionTable<ReturnType<typeof transport>>({ idleMs: 1000 });
    const a = s.claim('alice', 2);
    const b = s.claim('alice', 2);
    expect(s.claim('alice', 2)).toBeUndefined();
    expect(s.claim('bob', 2)).toBeDefined();
    if (!a || !b) throw new Error('no slot');
    s.add('one', transport(), 'alice', a);
    b.release(); // an initialize that made no session
    const c = s.claim('alice', 2);
    expect(c).toBeDefined();
    expect(s.claim('alice', 2)).toBeUndefined();
    s.delete('one');
    s.delete('one');
    expect(s.claim('alice', 2)).toBeDefined();
    expect(s.claim('alice', 2)).toBeUndefined();
    void s.closeAll();
  });

  it('closes idle sessions, never one mid-call, and remembers they expired', async () => {
    const clock = fake();
    const s = new SessionTable<ReturnType<typeof transport>>({ idleMs: 1000, now: clock.now });
    const idle = transport();
    const working = transport();
    s.add('idle', idle, 'a', slot(s, 'a'));
    s.add('busy', working, 'a', slot(s, 'a'));
    const session = s.use('busy', 'a');
    if (!session || session === 'expired') throw new Error('no session');
    const end = session.calls.begin();
    clock.advance(1500);
    expect(s.sweep()).toBe(1);
    expect(idle.closed).toBe(true);
    expect(working.closed).toBe(false);
    expect(s.use('idle', 'a')).toBe('expired');
    end();
    clock.advance(1500);
    expect(s.sweep()).toBe(1);
    expect(s.use('busy', 'a')).toBe('expired');
    await s.closeAll();
  });
});
