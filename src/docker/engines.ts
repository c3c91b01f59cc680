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
  type EngineSession,
  NO_CEILING,
} from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';
import type { DiscoveryInput } from './discovery.ts';
import { Engine } from './engine.ts';
import type { FactOverrides } from './facts.ts';

export const DEFAULT_ENGINE = 'default';

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
}

export interface EngineRegistry<H extends EngineHandle = EngineHandle> {
  /** The engine a call uses when it names none: the one named 'default', else the first. */
  readonly defaultName: string;
  names(): string[];
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

/** A registry over engine handles (names must be unique; at least one). */
export function engineRegistry<H extends EngineHandle>(handles: readonly H[]): EngineRegistry<H> {
  const byName = new Map<string, H>();
  for (const h of handles) {
    if (byName.has(h.name)) throw new Error(`engine '${h.name}' is configured twice`);
    byName.set(h.name, h);
  }
  const first = handles[0];
  if (!first) throw new Error('no engine configured');
  const defaultName = byName.has(DEFAULT_ENGINE) ? DEFAULT_ENGINE : first.name;
  return {
    defaultName,
    names: () => [...byName.keys()],
    resolve(name) {
      const h = byName.get(name ?? defaultName);
      if (h) return h;
      throw new ToolError('invalid_argument', `no engine named '${name}'`, {
        hint: `Use one of: ${[...byName.keys()].join(', ')}.`,
        retryable: false,
      });
    },
  };
}

/** The registry of configured engines, each with its own connection. */
export const engines = (settings: readonly EngineSettings[]): EngineRegistry<Engine> =>
  engineRegistry(
    settings.map(
      (s) =>
        new Engine(s.discovery, {
          name: s.name,
          overrides: s.facts,
          description: s.description,
          ceiling: { ...NO_CEILING, ...s.ceiling },
        }),
    ),
  );

/** Today's setup: one engine named 'default', discovered from `discovery`. */
export const defaultEngines = (discovery: DiscoveryInput, facts?: FactOverrides): EngineRegistry<Engine> =>
  engines([{ name: DEFAULT_ENGINE, discovery, facts }]);

/**
 * The session a handler acts on: the engine's name, facts and negotiated API version, the connected
 * `docker` client (undefined for an optional-engine tool when none answered), and `access`, the view
 * of the connection this caller may see (addresses hidden from remote callers; the engine itself by
 * default).
 */
export function sessionOf<C extends Dockerode | undefined>(
  engine: EngineHandle,
  docker: C,
  access: EngineAccess = engine,
): EngineSession<C> {
  return {
    name: engine.name,
    docker,
    apiVersion: engine.info()?.apiVersion ?? '',
    facts: engine.facts,
    resolveFacts: (signal) => engine.resolveFacts(signal),
    client: (signal) => access.client(signal),
    invalidate: () => access.invalidate(),
    info: () => access.info(),
    attempts: () => access.attempts(),
  };
}
