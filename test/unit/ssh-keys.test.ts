import { afterAll, describe, expect, it } from 'bun:test';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore } from '../../src/transport/http/ssh-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-ssh-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An authorized_keys line for a fresh ed25519 key: `ssh-ed25519 <wire blob> <client id>`. */
function keyLine(clientId: string): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.alloc(4, 0), b]).fill(b.length, 3, 4);
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${clientId}`;
}

/** A KeyStore on a fresh file, rechecked on every call, and what it logged. */
function store(text: string) {
  const path = join(dir, `keys-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, text);
  const warnings: string[] = [];
  const log = { warn: (m: unknown) => void warnings.push(String(m)), info: () => {} };
  let now = 0;
  const keys = new KeyStore(path, log, 1);
  const count = (id: string) => {
    now += 10;
    return keys.keysFor(id, now).length;
  };
  return { path, warnings, count };
}

describe('KeyStore after start-up', () => {
  it('treats a deleted file as no keys, says so once, and loads the keys when the file is back', () => {
    const ops = keyLine('ops');
    const s = store(`${ops}\n`);
    expect(s.count('ops')).toBe(1);
    rmSync(s.path);
    expect(s.count('ops')).toBe(0);
    expect(s.count('ops')).toBe(0);
    expect(s.warnings.filter((w) => w.includes('was deleted: no SSH key is accepted'))).toHaveLength(1);
    writeFileSync(s.path, `${ops}\n`);
    expect(s.count('ops')).toBe(1);
  });

  it('treats a file emptied of keys (blank or comments only) as no keys, and says so', () => {
    const s = store(`${keyLine('ops')}\n`);
    expect(s.count('ops')).toBe(1);
    writeFileSync(s.path, '# everyone revoked\n\n');
    expect(s.count('ops')).toBe(0);
    expect(s.warnings.some((w) => w.includes('was emptied: no SSH key is accepted'))).toBe(true);
  });

  it('keeps the last good keys when every line of the new version is bad', () => {
    const s = store(`${keyLine('ops')}\n`);
    expect(s.count('ops')).toBe(1);
    writeFileSync(s.path, 'ssh-ed25519 AAAAbroken ops\n');
    expect(s.count('ops')).toBe(1);
    expect(s.warnings.some((w) => w.includes('no usable key; keeping the last good keys'))).toBe(true);
  });
});
