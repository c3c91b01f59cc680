/**
 * The connection to the engine: discovered lazily on the first call, API version negotiated from
 * /version, dropped on connection failure and rediscovered on the next call, so the server
 * recovers by itself when the engine comes back. On a unix socket the connection's JSON requests go
 * over the engine's own fetch transport and dockerode is loaded only when a caller needs the full
 * client (streams, uploads, its object API). Knows nothing of MCP or tools.
 */
import type Dockerode from 'dockerode';
import {
  type Attempt,
  type EngineCeiling,
  type EngineFacts,
  type EngineInfo,
  type EngineRequests,
  NO_CEILING,
} from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';
import { nodeFs } from '../core/node-builtins.ts';
import { dockerOptions, unixPath } from './client-options.ts';
import {
  type Candidate,
  DiscoveryError,
  type DiscoveryInput,
  discoverCandidates,
  type FileReader,
} from './discovery.ts';
import {
  type FactOverrides,
  type FilesystemVerdict,
  type LocalPaths,
  localDaemonPaths,
  localFilesystem,
  type ProcessReader,
  sharesFilesystem,
} from './facts.ts';
import { fetchModem, useFetchTransport } from './fetch-transport.ts';
import { engineKind, podmanRefusal, type VersionAnswer } from './podman.ts';
import { policyGuard } from './policy/guard.ts';
import { type EngineGuard, engineRequest, guardRequests, type Modem } from './request.ts';
// Type only: the SSH transport (and ssh2) load when an ssh:// engine first connects.
import type { SshTransport } from './ssh/transport.ts';

/** Newest Engine API version this server was written against; older engines are spoken to in their own. */
export const MAX_API_VERSION = '1.47';
const PROBE_TIMEOUT_MS = 3000;
/** Over SSH the handshake alone may take 10 s (ssh/transport.ts), then the remote `docker system dial-stdio` starts. */
const SSH_PROBE_TIMEOUT_MS = 15_000;
const probeTimeout = (url: string) => (url.startsWith('ssh://') ? SSH_PROBE_TIMEOUT_MS : PROBE_TIMEOUT_MS);
/** How long the shared /info read for the engine's facts may take (the calls waiting on it have their own). */
const FACTS_TIMEOUT_MS = 30_000;

export const nodeFileReader: FileReader = {
  readText: (p) => {
    try {
      return nodeFs().readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
  exists: (p) => nodeFs().existsSync(p),
};

interface Connection {
  /** The engine's JSON requests, guarded: its own fetch transport on a unix socket, else the full client. */
  requests: EngineRequests;
  /** The full client, made on first need (at once for engines not on a unix socket). */
  docker?: Promise<Dockerode>;
  /** What the full client is made with (the negotiated version included). */
  options: Dockerode.DockerOptions;
  info: EngineInfo;
  socketPath?: string;
  /** Facts of this connection, each found on first use: a reconnect finds them again. */
  local?: LocalPaths;
  dataRoot?: string;
  dataRootLoad?: Promise<string | undefined>;
}

export interface EngineOptions {
  /** The engine's name in the registry ('default' when only one is configured). */
  name?: string;
  /** Settings that replace discovered facts. */
  overrides?: FactOverrides;
  description?: string;
  ceiling?: EngineCeiling;
  fs?: FileReader;
  processes?: ProcessReader;
}

/** One engine: its own connection state, so one engine going down never affects another. */
export class Engine {
  readonly name: string;
  readonly description?: string;
  readonly ceiling: EngineCeiling;
  private current?: Connection;
  private connecting?: Promise<Connection>;
  private lastAttempts: Attempt[] = [];
  private readonly fs: FileReader;
  private readonly overrides: FactOverrides;
  private readonly processes?: ProcessReader;
  /** An ssh:// engine's one SSH connection and its channels, kept across reconnects. */
  private ssh?: SshTransport;
  /** The policy at this engine's boundary, with this engine's facts (src/docker/policy/guard.ts). */
  private readonly policy = policyGuard(
    (signal) => this.resolveFacts(signal),
    () => this.facts,
    () => ({ name: this.name, podman: this.current?.info.kind === 'podman' }),
  );
  /** What Podman lacks is refused naming it (src/docker/podman.ts), then the policy decides. */
  private readonly guard: EngineGuard = (call, io) => {
    const refusal = this.current?.info.kind === 'podman' ? podmanRefusal(this.name, call) : undefined;
    if (refusal) throw refusal;
    return this.policy(call, io);
  };

  constructor(
    private readonly input: DiscoveryInput,
    options: EngineOptions = {},
  ) {
    this.name = options.name ?? 'default';
    this.description = options.description;
    this.ceiling = options.ceiling ?? NO_CEILING;
    this.fs = options.fs ?? nodeFileReader;
    this.overrides = options.overrides ?? {};
    this.processes = options.processes;
  }

  /** The full client (dockerode), loaded and made on the first call that needs it. */
  async client(signal?: AbortSignal): Promise<Dockerode> {
    const c = await this.connection(signal);
    c.docker ??= this.dockerode(c.options, c.socketPath).catch((e: unknown) => {
      c.docker = undefined;
      throw e;
    });
    return c.docker;
  }

  /** The engine's JSON requests only (EngineRequests): never loads dockerode on a unix socket. */
  requests(signal?: AbortSignal): EngineRequests | Promise<EngineRequests> {
    // Connected: at once, with no promise for the call to wait on.
    return this.current?.requests ?? this.connection(signal).then((c) => c.requests);
  }

  /** A dockerode client with the guards in front, its JSON requests sent over fetch on a unix socket. */
  private async dockerode(opts: Dockerode.DockerOptions, socketPath?: string): Promise<Dockerode> {
    const { default: Dockerode } = await import('dockerode');
    const docker = new Dockerode(opts);
    if (socketPath) useFetchTransport(docker, socketPath);
    guardRequests(docker, this.guard);
    return docker;
  }

  async connection(signal?: AbortSignal): Promise<Connection> {
    if (this.current) return this.current;
    // Concurrent first calls share one discovery. It runs under its own probe timeout, not under any
    // caller's signal: each caller waits with its own, so one caller's cancel or timeout ends only
    // its own wait, and the others still get the connection.
    if (!this.connecting) {
      this.connecting = this.connect().finally(() => {
        this.connecting = undefined;
      });
      // Every waiter may have left: a failure then has no one to tell.
      this.connecting.catch(() => {});
    }
    return signal ? waitOn(this.connecting, signal) : this.connecting;
  }

  invalidate(): void {
    this.current = undefined;
  }

  /** SSH connections this engine has opened (0 unless ssh://): 100 calls should open one. */
  get sshConnections(): number {
    return this.ssh?.connections ?? 0;
  }

  /** dial-stdio channels this engine has opened on its SSH connections: idle ones are reused. */
  get sshChannels(): number {
    return this.ssh?.channels ?? 0;
  }

  /** Ends an ssh:// engine's connection (tests, shutdown); other kinds hold nothing open. */
  close(): void {
    this.ssh?.close();
    this.ssh = undefined;
    this.current = undefined;
  }

  /** The SSH transport for an ssh:// candidate: one per engine, whatever reconnects happen above it. */
  private async sshTransport(c: Candidate): Promise<SshTransport> {
    if (!this.ssh) {
      const { SshTransport } = await import('./ssh/transport.ts');
      const u = new URL(c.url);
      this.ssh ??= new SshTransport({
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port ? Number(u.port) : 22,
        username: decodeURIComponent(u.username) || this.input.user || 'root',
        identityFile: c.ssh?.identityFile,
        knownHostsFile: c.ssh?.knownHostsFile,
        home: this.input.home,
        agentSocket: this.input.sshAuthSock,
      });
    }
    return this.ssh;
  }

  info(): EngineInfo | undefined {
    return this.current?.info;
  }

  attempts(): Attempt[] {
    return this.lastAttempts;
  }

  /**
   * The sockets a bind mount must never expose. Before the first connection these are the unix
   * sockets discovery would try, so the very first call cannot mount the engine's own socket.
   */
  socketPaths(): string[] {
    if (this.current) return this.current.socketPath ? [this.current.socketPath] : [];
    try {
      return discoverCandidates(this.input, this.fs).flatMap((c) => unixPath(c.url) ?? []);
    } catch {
      return [];
    }
  }

  /**
   * The engine's facts as known now, read on access: the data root once resolveFacts() fetched it,
   * the exec root and containerd socket found on first read (from the local dockerd), so a call that
   * reads none of them pays nothing. Before the first connection the socket paths are discovery's.
   * One view per engine (its getters read the engine as it is at each access): every call reads it.
   */
  get facts(): EngineFacts {
    this.factsView ??= this.liveFacts();
    return this.factsView;
  }

  private factsView?: EngineFacts;

  private liveFacts(): EngineFacts {
    const engine = this;
    const o = this.overrides;
    const local = () => {
      const c = engine.current;
      if (!c) return undefined;
      // A remote engine's paths are not this host's to read: it gets the defaults.
      c.local ??= localDaemonPaths(c.socketPath, engine.fs, engine.processes);
      return c.local;
    };
    return {
      get sharesFilesystem() {
        return engine.filesystem().shares;
      },
      get socketPaths() {
        return engine.socketPaths();
      },
      get dataRoot() {
        return o.dataRoot ?? engine.current?.dataRoot;
      },
      get execRoot() {
        return o.execRoot ?? local()?.execRoot;
      },
      get containerdSocket() {
        return o.containerdSocket ?? local()?.containerdSocket;
      },
      otherEngines: () => engine.othersPaths(),
    };
  }

  /** The last verdict on the filesystem, for the URL it was made for: found once per endpoint. */
  private verdict?: { url: string | undefined; verdict: FilesystemVerdict };

  /**
   * Whether host paths mean the same to this engine as to this server, and why: the engine's own
   * setting, else a remote engine does not, else the server-wide setting for local engines, else
   * what localFilesystem finds (once per endpoint: the check reads /proc only in a container).
   */
  filesystem(): FilesystemVerdict {
    const o = this.overrides;
    if (o.sharesFilesystem !== undefined)
      return { shares: o.sharesFilesystem, why: "set by this engine's sharesFilesystem" };
    const url = this.current?.info.url ?? this.candidateUrl();
    if (url !== undefined && !sharesFilesystem(url))
      return { shares: false, why: 'a remote engine: host paths are on its host' };
    if (o.localSharesFilesystem !== undefined)
      return {
        shares: o.localSharesFilesystem,
        why: 'set by the server-wide sharesFilesystem (--shares-filesystem)',
      };
    if (this.verdict === undefined || this.verdict.url !== url) {
      const socket = url === undefined ? undefined : unixPath(url);
      this.verdict = { url, verdict: localFilesystem(socket, this.fs, this.processes) };
    }
    return this.verdict.verdict;
  }

  /** The server's other engines (set once by the registry): their local paths are sensitive here. */
  private others: readonly Engine[] = [];

  /** Tells this engine which others the server has (engines(), once, at start-up). */
  sharesHostWith(all: readonly Engine[]): void {
    this.others = all.filter((e) => e !== this);
  }

  /**
   * The local paths of the other engines: the unix sockets each would use (known without connecting),
   * and for those on this host the data root, exec root and containerd socket known so far.
   */
  private othersPaths(): string[] {
    const out: string[] = [];
    for (const e of this.others) {
      out.push(...e.socketPaths());
      const f = e.facts;
      if (!f.sharesFilesystem) continue;
      for (const p of [f.dataRoot, f.execRoot, f.containerdSocket]) if (p) out.push(p);
    }
    return out;
  }

  /**
   * The facts with the data root fetched from /info: connects if need be, then asks once per
   * connection (a failed or cancelled fetch is asked again next time).
   */
  async resolveFacts(signal?: AbortSignal): Promise<EngineFacts> {
    const c = await this.connection(signal);
    if (this.overrides.dataRoot === undefined && c.dataRoot === undefined) {
      // Shared by every call that needs it, so under its own timeout, each caller waiting with its own signal.
      c.dataRootLoad ??= engineRequest<{ DockerRootDir?: string }>(
        c.requests,
        { path: '/info' },
        AbortSignal.timeout(FACTS_TIMEOUT_MS),
      ).then(
        (info) => {
          c.dataRoot = info.DockerRootDir || undefined;
          return c.dataRoot;
        },
        (e: unknown) => {
          c.dataRootLoad = undefined;
          throw e;
        },
      );
      c.dataRootLoad.catch(() => {});
      await (signal ? waitOn(c.dataRootLoad, signal) : c.dataRootLoad);
    }
    const f = this.facts;
    return {
      sharesFilesystem: f.sharesFilesystem,
      socketPaths: f.socketPaths,
      dataRoot: f.dataRoot,
      execRoot: f.execRoot,
      containerdSocket: f.containerdSocket,
      otherEngines: f.otherEngines,
    };
  }

  /** Where discovery would look first, for facts asked before the first connection. */
  private candidateUrl(): string | undefined {
    try {
      return discoverCandidates(this.input, this.fs)[0]?.url;
    } catch {
      return undefined;
    }
  }

  private async connect(): Promise<Connection> {
    let candidates: Candidate[];
    try {
      candidates = discoverCandidates(this.input, this.fs);
    } catch (e) {
      if (e instanceof DiscoveryError) {
        this.lastAttempts = []; // nothing was tried; the message says why
        throw new ToolError('engine_unreachable', e.message);
      }
      throw e;
    }
    const attempts: Attempt[] = [];
    for (const c of candidates) {
      // Among the well-known sockets, one that is not there is passed over without a probe. The one
      // socket given (DOCKER_HOST, a flag, a configured engine) is probed at once: a missing one fails
      // it, told 'no socket there' (describeFailure), and such a session loads no file-system module.
      const socketPath = unixPath(c.url);
      if (socketPath && !c.exclusive && !this.fs.exists(socketPath)) {
        attempts.push({ url: c.url, source: c.source, outcome: 'no socket there' });
        continue;
      }
      try {
        const opts = dockerOptions(c, this.fs, {
          sshAgent: c.url.startsWith('ssh://') ? (await this.sshTransport(c)).agent : undefined,
          https: c.tls && !c.tls.verify ? await import('node:https') : undefined,
        });
        const probeSignal = AbortSignal.timeout(probeTimeout(c.url));
        // On a unix socket, the engine's own JSON transport (dockerode waits for a call that needs
        // it); elsewhere dockerode's modem, which holds the TLS and SSH settings.
        const modem = socketPath ? fetchModem(socketPath) : undefined;
        const probe: EngineRequests = modem ? { modem } : await this.dockerode(opts);
        if (modem) guardRequests(probe, this.guard);
        const v = await engineRequest<Partial<Record<string, string>> & VersionAnswer>(
          probe,
          { path: '/version' },
          probeSignal,
        );
        const apiVersion = negotiate(v.ApiVersion ?? '1.24');
        const options = { ...opts, version: `v${apiVersion}` };
        let requests = probe;
        let docker: Promise<Dockerode> | undefined;
        if (modem) (probe.modem as Modem).version = options.version;
        else {
          const full = await this.dockerode(options);
          requests = full;
          docker = Promise.resolve(full);
        }
        const info: EngineInfo = {
          url: c.url,
          kind: engineKind(v),
          source: c.source,
          apiVersion,
          serverVersion: v.Version ?? 'unknown',
          os: v.Os ?? 'unknown',
          arch: v.Arch ?? 'unknown',
        };
        attempts.push({ url: c.url, source: c.source, outcome: `connected (API ${apiVersion})` });
        this.lastAttempts = attempts;
        this.current = { requests, docker, options, info, socketPath };
        return this.current;
      } catch (e) {
        const remote = c.url.startsWith('ssh://') ? this.ssh?.takeFailure() : undefined;
        attempts.push({
          url: c.url,
          source: c.source,
          outcome: remote ?? describeFailure(e, c.tls !== undefined, probeTimeout(c.url)),
        });
      }
    }
    this.lastAttempts = attempts;
    throw this.input.endpoint ? unreachableConfigured(this.name, attempts) : unreachable(attempts);
  }
}

/** `work`, or a rejection with the signal's reason as soon as `signal` aborts (`work` goes on). */
function waitOn<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

/** Whether API version `version` ('1.41') is `min` or newer. */
export function apiAtLeast(version: string, min: string): boolean {
  const [a1 = 0, a2 = 0] = version.split('.').map(Number);
  const [b1 = 0, b2 = 0] = min.split('.').map(Number);
  return a1 > b1 || (a1 === b1 && a2 >= b2);
}

/** Speak the older of the two versions: the engine's, or the newest we know. */
export function negotiate(engineApi: string): string {
  return apiAtLeast(engineApi, MAX_API_VERSION) ? MAX_API_VERSION : engineApi;
}

const TLS_UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

function describeFailure(e: unknown, tls = false, timeoutMs = PROBE_TIMEOUT_MS): string {
  if ((e as Error | undefined)?.name === 'SshSetupError') return (e as Error).message;
  const err = e as { code?: string; statusCode?: number; message?: string; name?: string };
  if (err.code === 'EACCES') return 'permission denied (is your user in the docker group?)';
  if (err.code === 'ECONNREFUSED' || err.code === 'ConnectionRefused') return 'nothing is listening';
  if (err.code === 'ENOENT' || err.code === 'FailedToOpenSocket') return 'no socket there';
  if (err.name === 'TimeoutError' || err.name === 'AbortError')
    return `no answer within ${timeoutMs / 1000} s`;
  if (err.code && TLS_UNTRUSTED.has(err.code))
    return `TLS: the engine's certificate is not trusted by ca.pem (${err.code}); is tlsDir's ca.pem the engine's CA?`;
  if (err.code === 'CERT_HAS_EXPIRED') return "TLS: the engine's certificate has expired";
  if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return "TLS: the engine's certificate does not name this host (its subjectAltName)";
  if (err.code === 'ECONNRESET' && tls)
    return 'the engine closed the connection (TLS: does it accept the client certificate in tlsDir?)';
  // Go's TLS listener answers a plain HTTP request with a 400 saying so: a TLS engine, not a stranger.
  if (err.statusCode === 400 && !tls && /HTTP request to an HTTPS server/i.test(String(err.message)))
    return "it wants TLS (it answered plain HTTP with 'Client sent an HTTP request to an HTTPS server'): set 'tlsDir' for this engine (the directory holding ca.pem, cert.pem, key.pem), or DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for DOCKER_HOST";
  if (err.statusCode) return `answered HTTP ${err.statusCode}, not a Docker engine`;
  return `failed: ${err.code ?? err.message?.split('\n')[0] ?? 'unknown error'}`;
}

/** A configured engine (--engine, MCP_DOCKER_ENGINES, the file's engines) that did not answer. */
function unreachableConfigured(name: string, attempts: Attempt[]): ToolError {
  const tried = attempts.map((a) => `${a.url}: ${a.outcome}`).join('; ');
  return new ToolError(
    'engine_unreachable',
    `no Docker engine answered for engine '${name}'. Tried: ${tried}`,
    {
      hint: `Is the engine running there, and are engine '${name}''s settings right? 'mcp-docker doctor' shows what was tried. The next call retries by itself.`,
    },
  );
}

function unreachable(attempts: Attempt[]): ToolError {
  const tried = attempts.map((a) => `${a.url} (${a.source}): ${a.outcome}`).join('; ');
  return new ToolError('engine_unreachable', `no Docker engine answered. Tried: ${tried}`, {
    hint: 'Start Docker (Docker Desktop, colima start, or systemctl start docker), or point DOCKER_HOST at your engine, e.g. DOCKER_HOST=unix:///path/to/docker.sock. The next call retries by itself.',
  });
}
