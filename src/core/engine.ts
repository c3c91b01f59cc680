/**
 * What a handler knows of the engine it acts on: one session per call, resolved by the pipeline from
 * the engines registry. A handler never picks an engine and never sees how the server reached it.
 */
import type Dockerode from 'dockerode';

/** The connection in use: endpoint, how it was found, negotiated API, server version. */
export interface EngineInfo {
  url: string;
  /** Which engine answered: Docker, or Podman's Docker-compatible API (told by the _ping headers). */
  kind?: 'docker' | 'podman';
  source: string;
  apiVersion: string;
  serverVersion: string;
  os: string;
  arch: string;
}

/** One step of discovery: where it looked and what it found there. */
export interface Attempt {
  url: string;
  source: string;
  outcome: string;
}

/**
 * Facts about an engine that decide what a request may touch on the host. Paths are the engine's
 * own (its data root as /info reports it, its exec root and containerd socket as its command line or
 * daemon.json says, else the defaults).
 */
export interface EngineFacts {
  /**
   * True when the engine sees the server's filesystem, so host paths mean the same on both: a local
   * socket or pipe, unless this server runs in a container the engine is not in (or a setting says).
   */
  sharesFilesystem: boolean;
  /** The engine's API sockets, which a bind mount must never expose. */
  socketPaths: string[];
  dataRoot?: string;
  execRoot?: string;
  containerdSocket?: string;
  /**
   * The other configured engines' local paths (their unix sockets; the data and exec roots and
   * containerd sockets learned of those on this host): a bind of one would hand a container that
   * engine, past its own ceiling. A function, so only a call that checks a host path reads them.
   */
  otherEngines?: () => readonly string[];
}

/**
 * What an operator allows on one engine, whatever a caller's profile says: a profile can only narrow it.
 * Both default to what the server-wide settings allow.
 */
export interface EngineCeiling {
  /** Only safe (read-only) tools on this engine. */
  readOnly: boolean;
  /** Destructive tools allowed on this engine (when the caller's profile allows them too). */
  allowDestructive: boolean;
}

/**
 * One engine's own settings besides its URL, as the config file's `engines` map writes them: config
 * reads and checks them (config/engines.ts), the engine layer connects with them (docker/engines.ts).
 */
export interface EngineOptions {
  /** Directory holding ca.pem, cert.pem and key.pem (like DOCKER_CERT_PATH). */
  tlsDir?: string;
  /** Verify the engine's certificate against ca.pem (default: true when tlsDir is set). */
  tlsVerify?: boolean;
  identityFile?: string;
  knownHostsFile?: string;
  description?: string;
  readOnly?: boolean;
  allowDestructive?: boolean;
  /** Whether host paths mean the same to the engine as to this server (default: found, see facts.ts). */
  sharesFilesystem?: boolean;
}

/** No ceiling: the server-wide and caller profiles decide alone. */
export const NO_CEILING: EngineCeiling = { readOnly: false, allowDestructive: true };

/** An engine as the gate and the listing see it: its name and ceiling (an EngineHandle is one). */
export interface EngineView {
  readonly name: string;
  readonly ceiling: EngineCeiling;
}

/** The connection to one engine, as facts, plus a way to rediscover it (e.g. after a failed ping). */
export interface EngineAccess {
  client(signal: AbortSignal): Promise<Dockerode>;
  /** Forgets the connection, so the next client() discovers the engine again. */
  invalidate(): void;
  info(): EngineInfo | undefined;
  /** What the last discovery tried, in order. */
  attempts(): Attempt[];
}

/**
 * The engine's JSON requests only, for the one request function (src/docker/request.ts): no streams,
 * hijacked connections or uploads. What a tool declaring `engine: 'requests'` gets as `docker`; a full
 * client (Dockerode) is one too.
 */
export interface EngineRequests {
  readonly modem: unknown;
}

/**
 * The engine one call acts on. `docker` is connected; `apiVersion` is the version negotiated with it.
 * For a tool whose engine is optional, `docker` is undefined when no engine answered.
 */
export interface EngineSession<C extends Dockerode | EngineRequests | undefined = Dockerode>
  extends EngineAccess {
  /** The engine's configured name ('default' when only one is configured). */
  readonly name: string;
  readonly docker: C;
  readonly apiVersion: string;
  /** Read on access: a fact the engine reports only on request (the data root) is there once resolveFacts() ran. */
  readonly facts: EngineFacts;
  /** The facts with the data root fetched from the engine: once per connection, only when asked. */
  resolveFacts(signal?: AbortSignal): Promise<EngineFacts>;
}

/** One configured engine as a tool that reports on all of them sees it (docker_list_engines). */
export interface EngineEntry {
  name: string;
  description?: string;
  /** What this caller may do there: the engine's ceiling narrowed by the caller's profile. */
  ceiling: EngineCeiling;
  /** The engine a call that names none uses. */
  isDefault: boolean;
  /** Its own connection (addresses and paths hidden from a remote caller). */
  access: EngineAccess;
}
