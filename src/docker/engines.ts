/**
 * The engines this server serves, by name, and the session a call acts on. One engine today, named
 * 'default' and discovered as the Docker CLI would (DOCKER_HOST, --docker-host, --context, the
 * well-known sockets); several named engines are one more entry in the list. Each engine keeps its
 * own connection, so one going down never affects another.
 */

import type Dockerode from 'dockerode';
import {
  type EngineAccess,
  type EngineCeiling,
  type EngineFacts,
  type EngineOptions,
  type EngineRequests,
  type EngineSession,
  type EngineView,
  NO_CEILING,
} from '../core/engine.ts';
import { nodePath } from '../core/node-builtins.ts';
import {
  type Candidate,
  contextCandidate,
  DiscoveryError,
  type DiscoveryInput,
  type FileReader,
} from './discovery.ts';
import { Engine, nodeFileReader } from './engine.ts';
import type { FactOverrides } from './facts.ts';
import { DEFAULT_ENGINE, engineRegistry } from './registry.ts';

export { DEFAULT_ENGINE, engineRegistry } from './registry.ts';

/** One engine as the pipeline reaches it; src/docker's Engine implements it, unit tests may too. */
export interface EngineHandle extends EngineAccess {
  readonly name: string;
  /** The operator's words for it ('staging, eu-west'), shown by docker_list_engines. */
  readonly description?: string;
  /** What may be done on it at most (a per-engine setting; unset = no ceiling). */
  readonly ceiling: EngineCeiling;
  /** Facts as known now (read on access; the data root once resolveFacts() fetched it). */
  readonly facts: EngineFacts;
  /** The facts with those the engine reports on request fetched: once per connection. */
  resolveFacts(signal?: AbortSignal): Promise<EngineFacts>;
  /** The connection's JSON requests only (for `engine: 'requests'` tools): lighter than client(). */
  requests(signal: AbortSignal): EngineRequests | Promise<EngineRequests>;
}

export interface EngineRegistry<H extends EngineView = EngineHandle> {
  /** The engine a call uses when it names none: the one named 'default', else the first. */
  readonly defaultName: string;
  /** In configured order; the same frozen list on every call. */
  names(): readonly string[];
  /** The engine named `name`, or the default one; an unknown name is refused naming the known ones. */
  resolve(name?: string): H;
}

/** How one engine is configured: its name, where to find it, and facts that replace discovered ones. */
export interface EngineSettings {
  name: string;
  discovery: DiscoveryInput;
  facts?: FactOverrides;
  description?: string;
  ceiling?: Partial<EngineCeiling>;
}

/** The registry of configured engines, each with its own connection. */
export function engines(settings: readonly EngineSettings[]): EngineRegistry<Engine> {
  const all = settings.map(
    (s) =>
      new Engine(s.discovery, {
        name: s.name,
        overrides: s.facts,
        description: s.description,
        ceiling: { ...NO_CEILING, ...s.ceiling },
      }),
  );
  // Each engine's host-path rule also guards the others' sockets and directories.
  for (const e of all) e.sharesHostWith(all);
  return engineRegistry(all);
}

/** Today's setup: one engine named 'default', discovered from `discovery`. */
export const defaultEngines = (discovery: DiscoveryInput, facts?: FactOverrides): EngineRegistry<Engine> =>
  engines([{ name: DEFAULT_ENGINE, discovery, facts }]);

/**
 * The session a handler acts on: the engine's name, facts and negotiated API version, the connected
 * `docker` client (its JSON requests only for an `engine: 'requests'` tool; undefined for an
 * optional-engine tool when none answered), and `access`, the view
 * of the connection this caller may see (addresses hidden from remote callers; the engine itself by
 * default).
 */
export function sessionOf<C extends Dockerode | EngineRequests | undefined>(
  engine: EngineHandle,
  docker: C,
  access: EngineAccess = engine,
): EngineSession<C> {
  // The same engine, client and view give the same session: made once, not per call.
  const apiVersion = engine.info()?.apiVersion ?? '';
  const last = sessions.get(engine);
  if (last && last.docker === docker && last.access === access && last.session.apiVersion === apiVersion)
    return last.session as EngineSession<C>;
  const session = makeSession(engine, docker, access, apiVersion);
  if (access === engine) sessions.set(engine, { docker, access, session });
  return session;
}

/** Each engine's last session over its own view (stdio's, and HTTP's local callers'). */
const sessions = new WeakMap<
  EngineHandle,
  {
    docker: Dockerode | EngineRequests | undefined;
    access: EngineAccess;
    session: EngineSession<Dockerode | EngineRequests | undefined>;
  }
>();

function makeSession<C extends Dockerode | EngineRequests | undefined>(
  engine: EngineHandle,
  docker: C,
  access: EngineAccess,
  apiVersion: string,
): EngineSession<C> {
  return {
    name: engine.name,
    docker,
    apiVersion,
    facts: engine.facts,
    resolveFacts: (signal) => engine.resolveFacts(signal),
    client: (signal) => access.client(signal),
    invalidate: () => access.invalidate(),
    info: () => access.info(),
    attempts: () => access.attempts(),
  };
}

/**
 * A configured engine as settings give it (src/config/engines.ts checked names, schemes and TLS files):
 * its URL (`context:NAME` for a Docker CLI context) and per-engine files, words and ceiling.
 */
export interface EngineSpec extends EngineOptions {
  name: string;
  url: string;
  /** Where its settings came from ('flag --engine', 'env MCP_DOCKER_ENGINES', 'file c.json: engines'). */
  source: string;
}

/** A configured engine that cannot be set up (a context that does not exist): a start-up error. */
export class EngineSettingsError extends Error {
  override name = 'EngineSettingsError';
}

/** The endpoint a spec names: its URL with its TLS and SSH files, or the Docker context's. */
export function endpointOf(
  spec: EngineSpec,
  base: DiscoveryInput,
  fs: FileReader = nodeFileReader,
): Candidate {
  if (spec.url.startsWith('context:')) {
    const context = spec.url.slice('context:'.length);
    try {
      const c = contextCandidate(context, base, fs);
      if (c.url.startsWith('tcp://') && !c.tls && !onLoopback(c.url))
        throw new EngineSettingsError(
          `engine '${spec.name}' (${spec.source}): Docker context '${context}' points at plain tcp:// ${c.url}, which is refused: requests and registry credentials would travel unencrypted. Give the context TLS material (docker context update --docker "host=…,ca=…,cert=…,key=…"), or use ssh://.`,
        );
      return { ...c, source: `${spec.source}, ${c.source}`, ssh: sshFiles(spec) };
    } catch (e) {
      if (e instanceof DiscoveryError)
        throw new EngineSettingsError(`engine '${spec.name}' (${spec.source}): ${e.message}`);
      throw e;
    }
  }
  const dir = spec.tlsDir;
  const file = (f: string) => {
    const p = dir && nodePath().join(dir, f);
    return p && fs.exists(p) ? p : undefined;
  };
  return {
    url: spec.url,
    source: spec.source,
    exclusive: true,
    ...(dir && {
      tls: {
        ca: file('ca.pem'),
        cert: file('cert.pem'),
        key: file('key.pem'),
        verify: spec.tlsVerify ?? true,
      },
    }),
    ssh: sshFiles(spec),
  };
}

const onLoopback = (url: string) => {
  try {
    return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(new URL(url).hostname);
  } catch {
    return false;
  }
};

const sshFiles = (spec: EngineSpec) =>
  spec.identityFile || spec.knownHostsFile
    ? { identityFile: spec.identityFile, knownHostsFile: spec.knownHostsFile }
    : undefined;

/** Settings for each configured engine: the base discovery input (home, platform) with its endpoint. */
export function settingsOf(
  specs: readonly EngineSpec[],
  base: DiscoveryInput,
  fs?: FileReader,
): EngineSettings[] {
  return specs.map((spec) => ({
    name: spec.name,
    discovery: { ...base, endpoint: endpointOf(spec, base, fs) },
    ...(spec.sharesFilesystem !== undefined && { facts: { sharesFilesystem: spec.sharesFilesystem } }),
    description: spec.description,
    ceiling: {
      ...(spec.readOnly !== undefined && { readOnly: spec.readOnly }),
      ...(spec.allowDestructive !== undefined && { allowDestructive: spec.allowDestructive }),
    },
  }));
}

/**
 * The registry from settings: the configured engines, or with none configured today's single
 * 'default' engine discovered from `base`; `facts` apply to every engine, below each one's own.
 * Throws EngineSettingsError for an engine that cannot be set up.
 */
export const configuredEngines = (
  specs: readonly EngineSpec[],
  base: DiscoveryInput,
  facts?: FactOverrides,
): EngineRegistry<Engine> =>
  specs.length === 0
    ? defaultEngines(base, facts)
    : engines(settingsOf(specs, base).map((s) => ({ ...s, facts: { ...facts, ...s.facts } })));
