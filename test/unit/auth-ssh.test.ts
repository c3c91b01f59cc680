import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { sshSigner } from '../../examples/ssh-sign.ts';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import { createSshVerifier, parseSignatureHeader, signedMessage } from '../../src/transport/http/auth-ssh.ts';
import { NonceCache } from '../../src/transport/http/nonce-cache.ts';
import { parseAuthorizedKeys } from '../../src/transport/http/ssh-keys.ts';
import { parseSshSig, SSHSIG_NAMESPACE, signedData } from '../../src/transport/http/sshsig.ts';
import { refused } from '../helpers/auth.ts';

const profile: SafetyProfile = {
  allowModerate: false,
  allowDestructive: false,
  readOnly: true,
  allowedTools: [],
  deniedTools: [],
};
const quiet = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} };
const log = quiet as unknown as Parameters<typeof createSshVerifier>[0]['log'];

let dir: string;
const key = (name: string) => join(dir, name);
const pub = (name: string) => readFileSync(`${key(name)}.pub`, 'utf8').trim();
const ALL = ['ed', 'rsa', 'ec', 'ec384'] as const;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcpt-ssh-'));
  const make = (name: string, comment: string, ...args: string[]) =>
    execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', comment, '-f', key(name)]);
  make('ed', 'ops', '-t', 'ed25519');
  make('rsa', 'ops', '-t', 'rsa', '-b', '2048');
  make('ec', 'ops', '-t', 'ecdsa', '-b', '256');
  make('ec384', 'ops', '-t', 'ecdsa', '-b', '384');
  make('other', 'monitor', '-t', 'ed25519');
  writeFileSync(key('authorized_keys'), `${ALL.map(pub).join('\n')}\n${pub('other')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (authorization?: string) =>
  new Request('http://127.0.0.1/mcp', { headers: authorization ? { authorization } : {} });

function verifier(
  o: { now?: () => number; file?: string; resolve?: (id: string) => SafetyProfile | undefined } = {},
) {
  return createSshVerifier({
    keysFile: o.file ?? key('authorized_keys'),
    maxAgeSeconds: 300,
    resolve: o.resolve ?? (() => profile),
    log,
    now: o.now,
  });
}

/** A header for an arbitrary message/ts/nonce, signed with ssh-keygen (the reference implementation). */
function keygenHeader(name: string, keyId: string, ts: number, nonce: string, namespace = SSHSIG_NAMESPACE) {
  const msg = join(dir, 'msg');
  writeFileSync(msg, signedMessage({ keyId, ts, nonce }));
  execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-f', key(name), '-n', namespace, msg], {
    stdio: 'ignore',
  });
  const sig = readFileSync(`${msg}.sig`, 'utf8');
  rmSync(`${msg}.sig`);
  return `Signature keyId="${keyId}",ts="${ts}",nonce="${nonce}",sig="${sig.replace(/-----[A-Z ]+-----|\s/g, '')}"`;
}
const nowS = () => Math.floor(Date.now() / 1000);
const NONCE = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('parseSignatureHeader', () => {
  it('reads the four parameters, in any order', () => {
    expect(
      parseSignatureHeader(`Signature sig="c2ln", nonce="${NONCE}",ts="1700000000",keyId="ops"`),
    ).toEqual({
      keyId: 'ops',
      ts: 1700000000,
      nonce: NONCE,
      sig: 'c2ln',
    });
  });
  it('leaves other schemes and no header to the other verifiers', () => {
    expect(parseSignatureHeader('Bearer abc')).toBeUndefined();
    expect(parseSignatureHeader(null)).toBeUndefined();
  });
  it('says what is wrong with a malformed header', () => {
    const base = { keyId: 'ops', ts: '1700000000', nonce: NONCE, sig: 'c2ln' };
    const h = (p: Record<string, string>) =>
      `Signature ${Object.entries(p)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}`;
    expect(parseSignatureHeader(h({ ...base, ts: '2026-01-01T00:00:00Z' }))).toContain('unix seconds');
    expect(parseSignatureHeader(h({ ...base, nonce: 'short' }))).toContain('16 random bytes');
    expect(parseSignatureHeader(h({ ...base, keyId: 'a|b' }))).toContain('keyId');
    expect(parseSignatureHeader(h({ ...base, sig: '' }))).toContain('sig');
    expect(parseSignatureHeader('Signature keyId=ops')).toContain('each once');
    expect(parseSignatureHeader(`${h(base)},ts="1"`)).toContain('each once');
  });
});

describe('NonceCache', () => {
  it('refuses a nonce seen before it expires and accepts it again after', () => {
    const c = new NonceCache(10);
    expect(c.remember('ops', 'a', 2000, 1000)).toBe(true);
    expect(c.remember('ops', 'a', 2000, 1500)).toBe(false);
    expect(c.remember('ops', 'a', 3000, 2000)).toBe(true);
  });
  it("keeps clients' nonces apart: the same nonce from another client is not a replay", () => {
    const c = new NonceCache(10);
    expect(c.remember('ops', 'a', 2000, 0)).toBe(true);
    expect(c.remember('monitor', 'a', 2000, 0)).toBe(true);
    expect(c.remember('monitor', 'a', 2000, 0)).toBe(false);
  });
  it('never holds more than its cap: the oldest entry is evicted, new nonces are still accepted', () => {
    const c = new NonceCache(3);
    for (const n of ['a', 'b', 'c', 'd', 'e']) expect(c.remember('ops', n, 10_000, 0)).toBe(true);
    expect(c.size).toBe(3);
    expect(c.evictions).toBe(2);
    expect(c.remember('ops', 'e', 10_000, 0)).toBe(false);
    expect(c.remember('ops', 'a', 10_000, 0)).toBe(true); // evicted: the documented price of not locking everyone out
  });
  it('keeps a nonce recorded again after expiry until its new expiry', () => {
    const c = new NonceCache(2);
    expect(c.remember('ops', 'a', 1000, 0)).toBe(true);
    expect(c.remember('ops', 'a', 3000, 1500)).toBe(true);
    expect(c.remember('ops', 'b', 3000, 1600)).toBe(true);
    expect(c.remember('ops', 'a', 3000, 2000)).toBe(false);
    expect(c.remember('ops', 'c', 3000, 2000)).toBe(true); // evicts the oldest live entry: a
    expect([c.size, c.evictions]).toEqual([2, 1]);
    expect(c.remember('ops', 'b', 3000, 2000)).toBe(false);
  });
  it('drops expired entries as new ones arrive', () => {
    const c = new NonceCache(100);
    for (let i = 0; i < 50; i++) c.remember('ops', `n${i}`, 1000, 0);
    c.remember('ops', 'late', 5000, 2000);
    expect(c.size).toBe(1);
  });
  it("a client flooding past its quota evicts only its own nonces, never another client's", () => {
    const c = new NonceCache(1000, 50);
    for (let i = 0; i < 40; i++) expect(c.remember('honest', `h${i}`, 60_000, 0)).toBe(true);
    for (let i = 0; i < 5000; i++) expect(c.remember('flood', `f${i}`, 60_000, 0)).toBe(true);
    expect(c.heldBy('flood')).toBe(50);
    expect(c.heldBy('honest')).toBe(40);
    expect(c.lastEvicted).toEqual({ clientId: 'flood', why: 'quota' });
    // Every honest nonce is still remembered: each replay is refused.
    for (let i = 0; i < 40; i++) expect(c.remember('honest', `h${i}`, 60_000, 0)).toBe(false);
    // The flooder's own recent nonces too; only its oldest went.
    expect(c.remember('flood', 'f4999', 60_000, 0)).toBe(false);
    expect(c.remember('flood', 'f0', 60_000, 0)).toBe(true);
  });
  it('at the total cap, evicts from the client holding the most', () => {
    const c = new NonceCache(100, 60);
    for (let i = 0; i < 30; i++) c.remember('small', `s${i}`, 60_000, 0);
    for (let i = 0; i < 60; i++) c.remember('big', `b${i}`, 60_000, 0);
    for (let i = 0; i < 20; i++) c.remember('other', `o${i}`, 60_000, 0);
    expect(c.size).toBeLessThanOrEqual(100);
    expect(c.heldBy('small')).toBe(30);
    expect(c.heldBy('other')).toBe(20);
    expect(c.heldBy('big')).toBe(50);
    expect(c.lastEvicted).toEqual({ clientId: 'big', why: 'cap' });
    for (let i = 0; i < 30; i++) expect(c.remember('small', `s${i}`, 60_000, 0)).toBe(false);
  });
});

describe('parseAuthorizedKeys', () => {
  it('reads every supported key type, several per client, and skips bad lines with their line number', () => {
    const text = [
      '# comment',
      pub('ed'),
      '',
      pub('rsa'),
      'ssh-ed25519 AAAAnotbase64key ops',
      `from="10.0.0.1" ${pub('ec')}`,
      pub('ec').replace(/ ops$/, ''),
      'ssh-dss AAAAB3NzaC1kc3M= old',
      `ssh-rsa ${pub('ed').split(' ')[1]} mislabelled`,
      `${pub('other')}`,
    ].join('\n');
    const { keys, skipped } = parseAuthorizedKeys(text);
    expect(keys.map((k) => [k.clientId, k.type, k.line])).toEqual([
      ['ops', 'ssh-ed25519', 2],
      ['ops', 'ssh-rsa', 4],
      ['monitor', 'ssh-ed25519', 10],
    ]);
    expect(skipped).toHaveLength(5);
    expect(skipped[0]).toStartWith('line 5: unreadable key');
    expect(skipped[1]).toStartWith('line 6: options');
    expect(skipped[2]).toStartWith('line 7: no comment');
    expect(skipped[3]).toStartWith('line 8: key type ssh-dss is not supported');
    expect(skipped[4]).toStartWith('line 9: key data is ssh-ed25519');
  });
});

describe('SSHSIG', () => {
  it('signs with the example client exactly what ssh-keygen -Y sign signs', () => {
    // Same message, key and namespace: ed25519 signatures are deterministic, so the bytes must agree.
    const h = parseSignatureHeader(sshSigner({ keyFile: key('ed'), clientId: 'ops' })());
    if (typeof h !== 'object') throw new Error('no header');
    const ours = parseSshSig(h.sig);
    const theirs = parseSshSig(keygenHeader('ed', 'ops', h.ts, h.nonce).split('sig="')[1] ?? '');
    expect(ours.sigBlob.equals(theirs.sigBlob)).toBe(true);
  });
});

describe('createSshVerifier', () => {
  it('accepts ed25519, rsa-sha2-512, rsa-sha2-256 and ecdsa signatures from the example client', async () => {
    const v = verifier();
    const signers = [
      ...ALL.map((k) => sshSigner({ keyFile: key(k), clientId: 'ops' })),
      sshSigner({ keyFile: key('rsa'), clientId: 'ops', rsaAlgorithm: 'rsa-sha2-256' }),
    ];
    for (const s of signers) {
      const header = s();
      const alg = parseSshSig((parseSignatureHeader(header) as { sig: string }).sig).sigAlg;
      expect([alg, await v.verify(request(header))]).toEqual([
        alg,
        { ok: true, principal: { clientId: 'ops', method: 'ssh', profile } },
      ]);
    }
    expect(signers).toHaveLength(5);
  });
  it('accepts a signature made with ssh-keygen -Y sign', async () => {
    for (const k of ALL)
      expect((await verifier().verify(request(keygenHeader(k, 'ops', nowS(), NONCE))))?.ok).toBe(true);
  });
  it('ignores requests without a Signature header', async () => {
    expect(await verifier().verify(request())).toBeUndefined();
    expect(await verifier().verify(request('Bearer x'))).toBeUndefined();
  });
  it('gives one message for an unknown client, a key of another client and a bad signature', async () => {
    const v = verifier();
    const unknown = refused(await v.verify(request(keygenHeader('ed', 'nobody', nowS(), NONCE))));
    const otherKey = refused(await v.verify(request(keygenHeader('other', 'ops', nowS(), NONCE))));
    const good = keygenHeader('ed', 'ops', nowS(), NONCE);
    const tampered = refused(await v.verify(request(good.replace(NONCE, 'B'.repeat(22)))));
    const wrongNs = refused(await v.verify(request(keygenHeader('ed', 'ops', nowS(), NONCE, 'git'))));
    for (const r of [unknown, otherKey, tampered, wrongNs]) {
      expect(r.status).toBe(401);
      expect(r.error).toBe(unknown.error);
      expect(r.challenge).toBe('Signature realm="mcp-docker"');
    }
    expect(new Set([unknown, otherKey, tampered].map((r) => r.detail)).size).toBe(3);
    // The audit log learns which id each header claimed.
    expect([unknown, otherKey, tampered, wrongNs].map((r) => r.claimedClientId)).toEqual([
      'nobody',
      'ops',
      'ops',
      'ops',
    ]);
  });
  it('refuses a timestamp outside ±maxAge with the one answer every refusal gets, which names the clock', async () => {
    const v = verifier();
    for (const ts of [nowS() - 301, nowS() + 302]) {
      const r = refused(await v.verify(request(keygenHeader('ed', 'ops', ts, NONCE))));
      expect(r.error).toStartWith('SSH signature not accepted');
      expect(r.error).toContain('check the client clock');
      expect(r.detail).toContain('s off');
    }
    // A stale header for a real id and for an unknown one answer the same: ids are not an oracle.
    const stale = async (id: string) =>
      refused(await v.verify(request(`Signature keyId="${id}",ts="1",nonce="${NONCE}",sig="AAAA"`)));
    expect((await stale('ops')).error).toBe((await stale('nobody')).error);
    expect((await v.verify(request(keygenHeader('ed', 'ops', nowS() - 290, NONCE))))?.ok).toBe(true);
  });
  it('refuses a replayed nonce within the window, and a nonce is forgotten only once its timestamp is too old', async () => {
    let now = Date.now();
    const v = verifier({ now: () => now });
    const header = keygenHeader('ed', 'ops', Math.floor(now / 1000), NONCE);
    expect((await v.verify(request(header)))?.ok).toBe(true);
    expect(refused(await v.verify(request(header))).error).toContain('nonce already used');
    now += 299_000;
    expect(refused(await v.verify(request(header))).error).toContain('nonce already used');
    now += 2_000;
    expect(refused(await v.verify(request(header))).error).toContain('check the client clock');
  });
  it('records a nonce only after the signature verifies, so a forged request cannot burn it', async () => {
    const v = verifier();
    const ts = nowS();
    const forged = keygenHeader('other', 'ops', ts, NONCE);
    refused(await v.verify(request(forged)));
    expect((await v.verify(request(keygenHeader('ed', 'ops', ts, NONCE))))?.ok).toBe(true);
  });
  it('refuses legacy ssh-rsa (SHA-1) signatures', async () => {
    const parsed = utils.parseKey(readFileSync(key('rsa')));
    if (parsed instanceof Error) throw parsed;
    const ts = nowS();
    const data = signedData(SSHSIG_NAMESPACE, 'sha512', signedMessage({ keyId: 'ops', ts, nonce: NONCE }));
    const good = parseSshSig(keygenHeader('rsa', 'ops', ts, NONCE).split('sig="')[1] ?? '');
    const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const sha1 = sign('sha1', data, parsed.getPrivatePEM());
    const inner = Buffer.concat([str(Buffer.from('ssh-rsa')), Buffer.alloc(4), sha1]);
    inner.writeUInt32BE(sha1.length, 11);
    const blob = Buffer.concat([
      Buffer.from('SSHSIG\0\0\0\x01', 'latin1'),
      Buffer.from([0, 0, (good.publicKey.length >> 8) & 255, good.publicKey.length & 255]),
      good.publicKey,
      str(Buffer.from(SSHSIG_NAMESPACE)),
      str(Buffer.alloc(0)),
      str(Buffer.from('sha512')),
      Buffer.from([0, 0, (inner.length >> 8) & 255, inner.length & 255]),
      inner,
    ]);
    expect(parseSshSig(blob.toString('base64')).sigAlg).toBe('ssh-rsa');
    const header = `Signature keyId="ops",ts="${ts}",nonce="${NONCE}",sig="${blob.toString('base64')}"`;
    const r = refused(await verifier().verify(request(header)));
    expect([r.status, r.detail]).toEqual([401, 'ssh: ops bad ssh-rsa signature (key line 2)']);
  });
  it('answers 403 when the signature is good but the client has no profile', async () => {
    const r = refused(
      await verifier({ resolve: () => undefined }).verify(request(keygenHeader('ed', 'ops', nowS(), NONCE))),
    );
    expect(r.status).toBe(403);
    expect(r.error).toContain('ops');
  });
  it('picks up a new key without restart, keeps the last good keys when the file breaks, and none once it is deleted', async () => {
    const file = key('hot_keys');
    writeFileSync(file, `${pub('ed')}\n`);
    let now = Date.now();
    const v = verifier({ file, now: () => now });
    const monitor = sshSigner({ keyFile: key('other'), clientId: 'monitor' });
    refused(await v.verify(request(monitor())));
    writeFileSync(file, `${pub('ed')}\n${pub('other')}\n`);
    now += 1000;
    expect((await v.verify(request(monitor())))?.ok).toBe(true);
    writeFileSync(file, 'garbage line\n');
    now += 1000;
    expect((await v.verify(request(monitor())))?.ok).toBe(true);
    // Deleting the file revokes every key; putting keys back restores them.
    rmSync(file);
    now += 1000;
    refused(await v.verify(request(monitor())));
    writeFileSync(file, `${pub('ed')}\n${pub('other')}\n`);
    now += 1000;
    expect((await v.verify(request(monitor())))?.ok).toBe(true);
    writeFileSync(file, `${pub('ed')}\n`);
    now += 1000;
    refused(await v.verify(request(monitor())));
  });
  it('fails at start-up with a clear message when the keys file cannot be read', () => {
    expect(() => verifier({ file: key('missing') })).toThrow(
      /cannot read the SSH authorized keys file .*ENOENT/,
    );
  });
});
