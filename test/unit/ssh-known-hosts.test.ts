import { describe, expect, it } from 'bun:test';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import {
  fingerprint,
  hostKeyRefusal,
  keyTypeOf,
  matchesHost,
  parseKnownHosts,
  verifyHostKey,
} from '../../src/docker/ssh/known-hosts.ts';

/** An ssh-ed25519 public key blob, as a server presents it. */
function ed25519Blob(): Buffer {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}
const line = (hosts: string, blob: Buffer, marker = '') =>
  `${marker ? `${marker} ` : ''}${hosts} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
const hashed = (name: string) => {
  const salt = Buffer.from('0123456789abcdef0123');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};

const key = ed25519Blob();
const other = ed25519Blob();

describe('known_hosts', () => {
  it('accepts the key listed for the host (plain name on port 22)', () => {
    const kh = parseKnownHosts(`# comment\n\n${line('build.example,10.0.0.5', key)}\n`);
    expect(verifyHostKey(kh, 'build.example', 22, key)).toEqual({ ok: true, line: 3 });
    expect(verifyHostKey(kh, '10.0.0.5', 22, key).ok).toBe(true);
  });

  it('uses the [host]:port form for a port other than 22', () => {
    const kh = parseKnownHosts(line('[127.0.0.1]:2222', key));
    expect(verifyHostKey(kh, '127.0.0.1', 2222, key).ok).toBe(true);
    // The same host on port 22 is not the entry for 2222.
    expect(verifyHostKey(kh, '127.0.0.1', 22, key)).toEqual({ ok: false, reason: 'unknown', lines: [] });
  });

  it('matches hashed entries (|1|salt|hash), also in the [host]:port form', () => {
    const kh = parseKnownHosts(
      `${line(hashed('prod.example'), key)}\n${line(hashed('[127.0.0.1]:2222'), other)}`,
    );
    expect(verifyHostKey(kh, 'prod.example', 22, key).ok).toBe(true);
    expect(verifyHostKey(kh, '127.0.0.1', 2222, other).ok).toBe(true);
    expect(verifyHostKey(kh, 'staging.example', 22, key).ok).toBe(false);
  });

  it('calls a different key of the same type for a known host changed, naming the line', () => {
    const kh = parseKnownHosts(`${line('other.example', other)}\n${line(hashed('[h]:2200'), key)}`);
    expect(verifyHostKey(kh, 'h', 2200, other)).toEqual({ ok: false, reason: 'changed', lines: [2] });
  });

  it('refuses a key marked @revoked even where it is also listed', () => {
    const kh = parseKnownHosts(`${line('h', key)}\n${line('*', key, '@revoked')}`);
    expect(verifyHostKey(kh, 'h', 22, key)).toEqual({ ok: false, reason: 'revoked', lines: [2] });
  });

  it('reads patterns and negations as OpenSSH does, and skips @cert-authority lines', () => {
    expect(matchesHost(['*.example', '!bad.example'], 'good.example')).toBe(true);
    expect(matchesHost(['*.example', '!bad.example'], 'bad.example')).toBe(false);
    expect(matchesHost(['10.0.0.?'], '10.0.0.7')).toBe(true);
    expect(parseKnownHosts(line('*.example', key, '@cert-authority'))).toEqual([]);
  });

  it('prints the fingerprint as ssh does (SHA256:base64 without padding)', () => {
    const expected = createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
    expect(fingerprint(key)).toBe(`SHA256:${expected}`);
    expect(fingerprint(key)).not.toContain('=');
  });

  it('words the refusal with the fingerprint and the command that trusts the key', () => {
    const unknown = hostKeyRefusal(
      { ok: false, reason: 'unknown', lines: [] },
      '127.0.0.1',
      2222,
      key,
      '/kh',
    );
    expect(unknown).toContain('host key of [127.0.0.1]:2222 is not in /kh: refused');
    expect(unknown).toContain(fingerprint(key));
    expect(unknown).toContain('ssh-keyscan -p 2222 127.0.0.1 >> /kh');
    const changed = hostKeyRefusal({ ok: false, reason: 'changed', lines: [4] }, 'h', 22, key, '/kh');
    expect(changed).toContain('host key of h CHANGED: /kh line 4');
    expect(changed).toContain("ssh-keygen -R 'h' -f /kh");
    expect(changed).toContain('ssh-keyscan h >> /kh');
  });
});

describe('host key algorithms', () => {
  it('asks first for the kinds of key known for the host, RSA as its SHA-2 signatures first', async () => {
    const { preferredHostKeyAlgorithms } = await import('../../src/docker/ssh/known-hosts.ts');
    const rsa = Buffer.concat([
      Buffer.from([0, 0, 0, 7]),
      Buffer.from('ssh-rsa'),
      Buffer.from([0, 0, 0, 1, 1]),
    ]);
    const kh = parseKnownHosts(`${line('[h]:2222', rsa)}\n${line('other', key)}\n${line('[h]:2222', other)}`);
    expect(preferredHostKeyAlgorithms(kh, 'h', 2222)).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
    ]);
    expect(preferredHostKeyAlgorithms(kh, 'unknown', 22)).toEqual([]);
  });
});
