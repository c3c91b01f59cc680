/**
 * known_hosts as OpenSSH reads it: `host[,host…] keytype base64` lines, hashed names (`|1|salt|hash`,
 * HMAC-SHA1 of the name under the salt), `[host]:port` for a port other than 22, `*`/`?` patterns and
 * `!` negations, `@revoked` keys (refused) and `@cert-authority` lines (not supported: skipped). Pure.
 */
import { createHash, createHmac } from 'node:crypto';

export interface KnownHost {
  /** The line's host patterns (or one hashed name). */
  patterns: string[];
  keyType: string;
  key: Buffer;
  revoked: boolean;
  line: number;
}

export function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) marker = fields.shift();
    if (marker === '@cert-authority') return;
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) return;
    out.push({
      patterns: hosts.split(','),
      keyType,
      key: Buffer.from(b64, 'base64'),
      revoked: marker === '@revoked',
      line: i + 1,
    });
  });
  return out;
}

/** The name known_hosts files use for host:port: `host`, or `[host]:port` when the port is not 22. */
export const hostEntryName = (host: string, port: number): string =>
  port === 22 ? host : `[${host}]:${port}`;

function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return mac === hash;
}

/** Whether a line's patterns name this host (a matching negation wins, as in OpenSSH). */
export function matchesHost(patterns: readonly string[], name: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('|')) {
      if (hashedMatch(p, name)) hit = true;
    } else if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) hit = true;
  }
  return hit;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** The fingerprint as `ssh-keygen -l` and ssh print it: SHA256:base64, no padding. */
export const fingerprint = (blob: Buffer): string =>
  `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

export type HostKeyVerdict =
  | { ok: true; line: number }
  | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; lines: number[] };

/**
 * The verdict on the key a server presented: known (some line for this host holds it), revoked,
 * changed (the host is listed with a key of the same type that differs), or unknown. A key of
 * another type than those listed counts as unknown, as OpenSSH does.
 */
export function verifyHostKey(
  entries: readonly KnownHost[],
  host: string,
  port: number,
  blob: Buffer,
): HostKeyVerdict {
  const name = hostEntryName(host, port);
  const mine = entries.filter((e) => matchesHost(e.patterns, name));
  const revoked = entries.filter((e) => e.revoked && e.key.equals(blob));
  if (revoked.length > 0) return { ok: false, reason: 'revoked', lines: revoked.map((e) => e.line) };
  const same = mine.find((e) => !e.revoked && e.key.equals(blob));
  if (same) return { ok: true, line: same.line };
  const type = keyTypeOf(blob);
  const changed = mine.filter((e) => !e.revoked && e.keyType === type);
  if (changed.length > 0) return { ok: false, reason: 'changed', lines: changed.map((e) => e.line) };
  return { ok: false, reason: 'unknown', lines: [] };
}

/** The refusal, with the fingerprint and how to trust the key if it is the right one. */
export function hostKeyRefusal(
  verdict: Exclude<HostKeyVerdict, { ok: true }>,
  host: string,
  port: number,
  blob: Buffer,
  file: string,
): string {
  const what = `${keyTypeOf(blob)} key ${fingerprint(blob)}`;
  const scan = `ssh-keyscan ${port === 22 ? '' : `-p ${port} `}${host} >> ${file}`;
  const name = hostEntryName(host, port);
  if (verdict.reason === 'unknown')
    return `host key of ${name} is not in ${file}: refused (${what}). If this fingerprint is the host's (check it on the host with 'ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub'), trust it with: ${scan}`;
  if (verdict.reason === 'revoked')
    return `host key of ${name} is marked @revoked in ${file} (line ${verdict.lines.join(', ')}): refused (${what}).`;
  return `host key of ${name} CHANGED: ${file} line ${verdict.lines.join(', ')} holds a different key; it now presents ${what}. Someone may be intercepting the connection. If the change is expected, remove the old entry (ssh-keygen -R '${name}' -f ${file}) and add the new one: ${scan}`;
}

/** Host key algorithms ssh2 can verify, by the key type known_hosts names. */
const ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * The host key algorithms to ask for first: those of the keys known for this host, as OpenSSH does,
 * so a host known by its ECDSA key is not refused for offering Ed25519 first.
 */
export function preferredHostKeyAlgorithms(
  entries: readonly KnownHost[],
  host: string,
  port: number,
): string[] {
  const name = hostEntryName(host, port);
  const out: string[] = [];
  for (const e of entries)
    if (!e.revoked && matchesHost(e.patterns, name))
      for (const a of ALGORITHMS[e.keyType] ?? []) if (!out.includes(a)) out.push(a);
  return out;
}
