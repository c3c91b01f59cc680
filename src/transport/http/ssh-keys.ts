/**
 * The authorized_keys file for SSH-signed requests: one key per line, `type base64 client-id`; one
 * client may have several keys. Bad lines are skipped and logged with their line number. The file is
 * re-read when it changes (checked at most once a second, on use). A file that is deleted, or emptied
 * of key lines, means no keys: that is how an operator revokes them all, so it must not be mistaken
 * for a mishap. A file that cannot be read (permissions), or whose every key line is bad, keeps the
 * last good set so a botched edit cannot lock everyone out. Each change of state is logged once.
 */

import type { KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isSshKeyType, publicKeyFromBlob, type SshKeyType } from './ssh-wire.ts';
import { StartupError } from './tls.ts';

export interface AuthorizedKey {
  clientId: string;
  type: SshKeyType;
  /** The public key blob, compared with the one inside a signature. */
  blob: Buffer;
  key: KeyObject;
  line: number;
}

export interface ParsedKeys {
  keys: AuthorizedKey[];
  /** `line N: reason` for each skipped line. */
  skipped: string[];
}

/** Parses authorized_keys text. Lines with options (`from=…`, `command=…`) are skipped: we would not enforce them. */
export function parseAuthorizedKeys(text: string): ParsedKeys {
  const keys: AuthorizedKey[] = [];
  const skipped: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parsed = parseLine(line, i + 1);
    if (typeof parsed === 'string') skipped.push(`line ${i + 1}: ${parsed}`);
    else keys.push(parsed);
  });
  return { keys, skipped };
}

/** One key line, or why it is skipped. */
function parseLine(line: string, lineNo: number): AuthorizedKey | string {
  const [type = '', b64 = '', ...rest] = line.split(/\s+/);
  const clientId = rest.join(' ');
  if (!isSshKeyType(type))
    return /^(sk-|ssh-dss)/.test(type) || /^[a-z0-9-]+@openssh\.com$/.test(type)
      ? `key type ${type} is not supported (use ed25519, rsa or ecdsa)`
      : 'options or an unknown key type before the key (options such as from= are not supported)';
  if (clientId === '') return 'no comment: the comment is the client id';
  if (!validClientId(clientId)) return 'the comment (client id) has quotes, | or control characters';
  try {
    const blob = Buffer.from(b64, 'base64');
    const parsed = publicKeyFromBlob(blob);
    if (parsed.type !== type) return `key data is ${parsed.type}, line says ${type}`;
    return { clientId, type: parsed.type, blob, key: parsed.key, line: lineNo };
  } catch (e) {
    return `unreadable key (${e instanceof Error ? e.message : 'bad data'})`;
  }
}

/** Client ids travel in a quoted header parameter and in the signed string. */
export const validClientId = (id: string) => id.length <= 128 && !/["\\|\p{Cc}]/u.test(id);

export interface KeyStoreLog {
  warn(...args: unknown[]): unknown;
  info(...args: unknown[]): unknown;
}

/** The current key set of one file, re-read on change. */
export class KeyStore {
  private byClient = new Map<string, AuthorizedKey[]>();
  private stamp = '';
  private checkedAt = 0;

  /** Throws when the file cannot be read at start-up (a startup error, not a silent empty set). */
  constructor(
    readonly path: string,
    private readonly log: KeyStoreLog,
    private readonly recheckMs = 1000,
  ) {
    const loaded = this.load();
    if (loaded !== true)
      throw new StartupError(
        `cannot read the SSH authorized keys file ${path} (${loaded}): check the path and its permissions`,
      );
  }

  /** The client's keys, after re-reading the file if it changed. */
  keysFor(clientId: string, now = Date.now()): readonly AuthorizedKey[] {
    if (now - this.checkedAt >= this.recheckMs) {
      this.checkedAt = now;
      this.load();
    }
    return this.byClient.get(clientId) ?? [];
  }

  get size(): number {
    let n = 0;
    for (const keys of this.byClient.values()) n += keys.length;
    return n;
  }

  /** true when loaded or unchanged; otherwise why the last good set was kept (or, at start-up, why none). */
  private load(): true | string {
    const started = this.stamp !== '';
    let text: string;
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (stamp === this.stamp) return true;
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      if (!started) return why;
      if (why === 'ENOENT') return this.revokeAll('MISSING', 'deleted');
      // Logged once per failure, not every second while it lasts.
      if (this.stamp !== why) this.log.warn(`SSH keys file ${this.path}: ${why}; keeping the last good keys`);
      this.stamp = why;
      return why;
    }
    const { keys, skipped } = parseAuthorizedKeys(text);
    for (const s of skipped) this.log.warn(`SSH keys file ${this.path} ${s}; skipped`);
    if (keys.length === 0 && skipped.length > 0 && started) {
      this.log.warn(`SSH keys file ${this.path}: no usable key; keeping the last good keys`);
      this.stamp = stamp; // do not re-parse (and re-log) the same broken file every second
      return 'no usable key';
    }
    if (keys.length === 0 && started) return this.revokeAll(stamp, 'emptied');
    const byClient = new Map<string, AuthorizedKey[]>();
    for (const k of keys) byClient.set(k.clientId, [...(byClient.get(k.clientId) ?? []), k]);
    this.byClient = byClient;
    this.stamp = stamp;
    this.log.info(`SSH keys file ${this.path}: ${keys.length} key(s) for ${byClient.size} client(s)`);
    return true;
  }

  /** The file was deleted or emptied: no key is accepted from now on (logged once). */
  private revokeAll(stamp: string, how: string): true {
    if (this.stamp !== stamp)
      this.log.warn(
        `SSH keys file ${this.path} was ${how}: no SSH key is accepted until keys are back in it`,
      );
    this.byClient = new Map();
    this.stamp = stamp;
    return true;
  }
}
