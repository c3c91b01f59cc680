/**
 * An ssh:// engine: ONE SSH connection per engine, on which each HTTP socket is a channel running
 * `docker system dial-stdio` on the remote host. An http.Agent with keep-alive reuses idle channels,
 * so a run of calls opens one connection and one channel; a streaming call holds its own channel,
 * so it never delays another. Past MAX_CHANNELS channels at once (OpenSSH allows 10 per connection)
 * a second connection takes the overflow. A connection is opened on first use and again after it
 * drops. Host keys are checked against
 * known_hosts by us (known-hosts.ts): an unknown or changed key is refused, never accepted.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Client, ConnectConfig } from 'ssh2';
import { endAtWord } from '../../core/cut.ts';
import { hostKeyRefusal, parseKnownHosts, preferredHostKeyAlgorithms, verifyHostKey } from './known-hosts.ts';

/** Channels per connection, below OpenSSH's MaxSessions (10); more calls at once open another connection. */
export const MAX_CHANNELS = 8;
const READY_TIMEOUT_MS = 10_000;
/** How long the end of a channel's output waits for the remote's exit status. */
const EXIT_WAIT_MS = 500;

export interface SshEndpoint {
  host: string;
  port: number;
  username: string;
  /** The engine's identityFile; else the agent; else ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  identityFile?: string;
  /** The engine's knownHostsFile; else ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  home: string;
  agentSocket?: string;
}

/** A refusal the engine reports as is (host key, key files): it names its own fix. */
export class SshSetupError extends Error {
  override name = 'SshSetupError';
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/**
 * How we authenticate, as ssh does: the engine's identityFile alone when set; otherwise the agent
 * (SSH_AUTH_SOCK) first, then the first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that loads without a
 * passphrase (an encrypted default key is left to the agent, as ssh would ask for its passphrase).
 */
export function authOf(
  e: SshEndpoint,
  parse: (key: Buffer) => unknown,
): Pick<ConnectConfig, 'privateKey' | 'agent' | 'authHandler'> {
  if (e.identityFile) {
    if (!existsSync(e.identityFile)) throw new SshSetupError(`identityFile ${e.identityFile} not found`);
    const key = readFileSync(e.identityFile);
    if (parse(key) instanceof Error)
      throw new SshSetupError(
        `identityFile ${e.identityFile} cannot be used: ${(parse(key) as Error).message} (a key with a passphrase must be loaded into ssh-agent instead)`,
      );
    return { privateKey: key, authHandler: ['publickey'] };
  }
  const key = DEFAULT_KEYS.map((name) => join(e.home, '.ssh', name))
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p))
    .find((k) => !(parse(k) instanceof Error));
  if (!e.agentSocket && !key)
    throw new SshSetupError(
      `no SSH key: set 'identityFile' for this engine, start an ssh-agent (SSH_AUTH_SOCK), or create ~/.ssh/id_ed25519`,
    );
  return {
    ...(e.agentSocket && { agent: e.agentSocket }),
    ...(key && { privateKey: key }),
    authHandler: [...(e.agentSocket ? ['agent' as const] : []), ...(key ? ['publickey' as const] : [])],
  };
}

/** ssh2's errors in ssh's terms, naming what to check; others (ECONNREFUSED…) pass as they are. */
function explain(err: Error & { level?: string }, e: SshEndpoint, methods: string[]): Error {
  const who = `${e.username}@${e.host}:${e.port}`;
  if (err.level === 'client-authentication')
    return new SshSetupError(
      `SSH: ${who} refused our key (tried ${methods.map((m) => (m === 'agent' ? 'the agent' : e.identityFile ? `identityFile ${e.identityFile}` : 'the default key')).join(', ')}): is its public key in ~${e.username}/.ssh/authorized_keys there?`,
    );
  if (err.level === 'client-timeout')
    return new SshSetupError(`SSH: no handshake from ${who} within ${READY_TIMEOUT_MS / 1000} s`);
  return err;
}

const ignore = () => {};

/** One SSH connection and the channels open on it. */
interface Link {
  conn: Client;
  live: Set<Duplex>;
  /** Channels being opened (counted against the limit before they exist). */
  opening: number;
}

export class SshTransport {
  /** SSH connections opened so far (a bench shows 100 calls open one). */
  connections = 0;
  /** Channels (dial-stdio sessions) opened so far. */
  channels = 0;
  readonly agent: http.Agent;
  /** Open connections: one, unless more than MAX_CHANNELS calls needed a channel at once. */
  private links: Link[] = [];
  private connecting?: Promise<Link>;
  private closed = false;
  /** Why the last dial-stdio channel failed (the HTTP client reports only a reset). */
  private lastFailure?: string;

  constructor(private readonly endpoint: SshEndpoint) {
    // No cap on sockets: a call never waits for another's channel. Idle ones are kept for reuse.
    this.agent = new http.Agent({ keepAlive: true, maxFreeSockets: MAX_CHANNELS });
    // Each socket the agent asks for is a dial-stdio channel on the engine's connection.
    (this.agent as unknown as { createConnection: unknown }).createConnection = (
      _opts: unknown,
      cb: (err: Error | null, socket?: Duplex) => void,
    ) => {
      this.channel().then(
        (s) => cb(null, s),
        (e: Error) => cb(e),
      );
      return undefined;
    };
  }

  private knownHostsFile(): string {
    return this.endpoint.knownHostsFile ?? join(this.endpoint.home, '.ssh', 'known_hosts');
  }

  /**
   * A connection with room for one more channel: the first one, opened if need be (concurrent callers
   * share one attempt); another only when MAX_CHANNELS channels are open on each (OpenSSH allows 10).
   */
  private async link(): Promise<Link> {
    const room = this.links.find((l) => l.live.size + l.opening < MAX_CHANNELS);
    if (room) return room;
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    await this.connecting;
    return this.link();
  }

  private async open(): Promise<Link> {
    if (this.closed) throw new SshSetupError('the engine is closed');
    const e = this.endpoint;
    const file = this.knownHostsFile();
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const known = parseKnownHosts(text);
    const preferred = preferredHostKeyAlgorithms(known, e.host, e.port);
    const { Client, utils } = await import('ssh2');
    const auth = authOf(e, (k) => utils.parseKey(k));
    const conn = new Client();
    let refusal: string | undefined;
    // ssh2 can emit 'error' more than once and at any stage (a second "Connection lost before
    // handshake" after a reset, a keepalive failure long after ready): an 'error' with no listener
    // would end the whole server, so one listener stays for the connection's whole life.
    let link: Link | undefined;
    let fail: ((err: Error) => void) | undefined;
    const forget = () => {
      if (!link) return;
      const dropped = link;
      link = undefined;
      this.links = this.links.filter((l) => l !== dropped);
      // Its channels died with it: requests on them fail now, and the agent opens new ones on the next.
      for (const ch of dropped.live) ch.destroy(new SshSetupError(`the SSH connection to ${e.host} dropped`));
      dropped.live.clear();
      conn.destroy();
    };
    conn.on('error', (err: Error & { level?: string }) => {
      if (fail) fail(refusal ? new SshSetupError(refusal) : explain(err, e, auth.authHandler as string[]));
      else forget();
    });
    conn.on('close', () => {
      fail?.(new SshSetupError(`SSH: ${e.host}:${e.port} closed the connection before the handshake`));
      forget();
    });
    conn.on('end', forget);
    await new Promise<void>((resolve, reject) => {
      fail = (err) => {
        fail = undefined;
        conn.destroy();
        reject(err);
      };
      conn.once('ready', () => {
        fail = undefined;
        resolve();
      });
      conn.connect({
        host: e.host,
        port: e.port,
        username: e.username,
        readyTimeout: READY_TIMEOUT_MS,
        keepaliveInterval: 15_000,
        ...auth,
        // Ask first for the kinds of key known for this host (moved to the front of ssh2's list).
        ...(preferred.length > 0 && {
          algorithms: {
            serverHostKey: { remove: preferred, prepend: preferred },
          } as ConnectConfig['algorithms'],
        }),
        hostVerifier: (key: Buffer) => {
          const verdict = verifyHostKey(known, e.host, e.port, key);
          if (verdict.ok) return true;
          refusal = hostKeyRefusal(verdict, e.host, e.port, key, file);
          return false;
        },
      });
    });
    this.connections++;
    const made: Link = { conn, live: new Set(), opening: 0 };
    link = made;
    this.links.push(made);
    return made;
  }

  /** A new dial-stdio channel, shaped like the socket http.Agent expects. */
  private async channel(): Promise<Duplex> {
    const link = await this.link();
    link.opening++;
    // exec throws at once when the connection has just dropped (ssh2: 'Not connected').
    const stream = await new Promise<Duplex>((resolve, reject) =>
      link.conn.exec('docker system dial-stdio', (err, s) => (err ? reject(err) : resolve(s))),
    ).finally(() => {
      link.opening--;
    });
    this.channels++;
    // When dial-stdio fails (no docker CLI there, no engine behind it), its stderr says why. The
    // remote's end of output comes before its exit status, so the end is held until the status is
    // known: the request then fails with that reason, not with a bare connection reset.
    let stderr = '';
    const channel = stream as Duplex & { stderr?: NodeJS.ReadableStream };
    // Whoever reads the channel (the HTTP client) listens for its errors while it uses it; these
    // keep an error on an idle or released channel from going unhandled (which would end the server).
    channel.on('error', ignore);
    channel.stderr?.on('error', ignore);
    channel.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 500) stderr += d.toString();
    });
    const push = channel.push.bind(channel);
    let heldEnd = false;
    let exited = false;
    channel.push = (chunk: unknown, encoding?: BufferEncoding) => {
      if (chunk === null && !exited) {
        heldEnd = true;
        // A remote that never reports an exit status must not leave the end held for ever.
        setTimeout(release, EXIT_WAIT_MS).unref();
        return false;
      }
      return push(chunk, encoding);
    };
    const release = () => {
      exited = true;
      if (heldEnd && !channel.destroyed) push(null);
      heldEnd = false;
    };
    channel.once('exit', (code: number | null, signal?: string) => {
      exited = true;
      if (code === 0) return release();
      // The cause is usually last (a login shell's warnings come first): the last few lines, joined.
      const lines = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const why =
        endAtWord(lines.slice(-3).join(' | '), 400) ||
        (code === null ? `killed by ${signal}` : `exit status ${code}`);
      this.lastFailure = `'docker system dial-stdio' on ${this.endpoint.host} failed: ${why}`;
      channel.destroy(new SshSetupError(this.lastFailure));
    });
    channel.once('close', () => {
      release();
      link.live.delete(channel);
    });
    link.live.add(channel);
    // http.Agent tunes TCP sockets; a channel has nothing to tune.
    const s = stream as unknown as Record<string, unknown>;
    for (const m of ['setKeepAlive', 'setNoDelay', 'setTimeout', 'ref', 'unref'])
      if (typeof s[m] !== 'function') s[m] = () => stream;
    return stream;
  }

  /** The reason the last channel failed on the remote side, once (undefined when none did). */
  takeFailure(): string | undefined {
    const why = this.lastFailure;
    this.lastFailure = undefined;
    return why;
  }

  /** Closes the connection (tests, shutdown). */
  close(): void {
    this.closed = true;
    this.agent.destroy();
    for (const l of this.links) l.conn.end();
    this.links = [];
  }
}
