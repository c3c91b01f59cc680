/**
 * tools/list and tools/call without the MCP SDK: the listing per safety profile, one call through the
 * pipeline, and its result as MCP content. The SDK server (server.ts) and the stdio dispatcher
 * (transport/stdio.ts) both answer with these, so the two paths cannot drift apart.
 * Nothing here imports the SDK: stdio serves its hot path without loading it.
 */
import { answerOf, type CallResult, type Progress, toCallResult, UnknownToolError } from './call-result.ts';
import type { AnyTool } from './core/tool.ts';
import type { Toolset } from './core/toolsets.ts';
import { canElicit } from './initialize.ts';
import { type ConfirmChannel, QUESTION_KEY } from './pipeline/confirm.ts';
import { type Listers, listersOf } from './pipeline/map-errors.ts';
import { type Asked, type PipelineEnv, runPipeline } from './pipeline/run.ts';
import type { Cancellation } from './pipeline/signal.ts';
import type { CataloguedPrompt } from './prompts/define.ts';
import type { CataloguedResource } from './resources/define.ts';
import {
  type ListableTool,
  type ListedTool,
  listedFor,
  listingJson,
  type OutputSchemas,
} from './tool-listing.ts';
import { PART_OF } from './tools/parts.ts';

export interface ServerDeps {
  /**
   * The tools, or a loader for them: stdio passes a loader so start-up answers initialize before
   * the 51 tool modules are evaluated (~8 ms); the first tools/list or tools/call loads them.
   */
  catalogue: readonly AnyTool[] | (() => Promise<readonly AnyTool[]>);
  /**
   * The same catalogue's data, computed at build time (catalogue-listing.ts): tools/list is answered
   * from it without evaluating the tool modules. Only ever the data of `catalogue`.
   */
  prelisted?: () => Promise<readonly ListableTool[]>;
  /**
   * One toolset's tools (tools/by-toolset.ts): with `prelisted`, a tools/call loads only the category
   * that holds its tool, found in the prelisted data; with `part` (tools/parts.ts), only that part of
   * it. Only ever tools of `catalogue`.
   */
  toolset?: (name: Toolset, part?: string) => Promise<readonly AnyTool[]>;
  env: PipelineEnv;
  version: string;
  /** Default: every prompt and resource. */
  prompts?: readonly CataloguedPrompt[];
  resources?: readonly CataloguedResource[];
  /** SAFETY_ALLOWED_PROMPTS / SAFETY_ALLOWED_RESOURCES: empty = all; the rest are neither listed nor served. */
  allowedPrompts?: readonly string[];
  allowedResources?: readonly string[];
  /** --output-schemas: how tools/list shows each tool's output schema. Default: lean. */
  outputSchemas?: OutputSchemas;
}

interface Listing {
  /** The catalogue itself, loaded on first use (a call, a prompt, a resource). */
  loaded(): Promise<{ byName: Map<string, AnyTool>; listers: Listers }>;
  listed(outputs: OutputSchemas): Promise<ListedTool[]>;
  /** The tools/list result as JSON text: JSON.stringify({ tools: listed(outputs) }), byte for byte. */
  json(outputs: OutputSchemas): Promise<string>;
  /**
   * What a call needs: its tool, the listers, and the data of any tool by name (for the gate). Without
   * a promise once the tool's toolset (or part) is loaded: no wait on the hot path.
   */
  forCall(name: string): ForCall | Promise<ForCall>;
}

interface ForCall {
  tool?: AnyTool;
  listers: Listers;
  tools: (name: string) => AnyTool | undefined;
}

const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => {
    p ??= make();
    return p;
  };
};

/** `make(key)`, made once per key. */
const perKey = <K, V>(make: (key: K) => V): ((key: K) => V) => {
  const made = new Map<K, V>();
  return (key) => {
    if (!made.has(key)) made.set(key, make(key));
    return made.get(key) as V;
  };
};

// The list only depends on the catalogue, the profile and the engines; build it once per triple, not
// per connection. Nothing here reaches an engine: a slow or absent one never delays a listing.
const listings = new WeakMap<object, WeakMap<object, WeakMap<object, Listing>>>();

function listingFor(deps: ServerDeps): Listing {
  let byProfile = listings.get(deps.catalogue);
  if (!byProfile) {
    byProfile = new WeakMap();
    listings.set(deps.catalogue, byProfile);
  }
  let byEngines = byProfile.get(deps.env.profile);
  if (!byEngines) {
    byEngines = new WeakMap();
    byProfile.set(deps.env.profile, byEngines);
  }
  let listing = byEngines.get(deps.env.engines);
  if (!listing) {
    const { catalogue, prelisted } = deps;
    const all = once(() => (typeof catalogue === 'function' ? catalogue() : Promise.resolve(catalogue)));
    const loaded = once(async () => {
      const tools = await all();
      return { byName: new Map(tools.map((t) => [t.name, t])), listers: listersOf(tools) };
    });
    // With the catalogue's data at hand, listing never loads the tool modules.
    const source = prelisted ?? all;
    const listed = perKey((outputs: OutputSchemas) =>
      source().then((all) => listedFor(all, deps.env.engines, deps.env.profile, outputs)),
    );
    const json = perKey((outputs: OutputSchemas) =>
      source().then((all) => listingJson(all, deps.env.engines, deps.env.profile, outputs)),
    );
    const whole = async (name: string): Promise<ForCall> => {
      const { byName, listers } = await loaded();
      return { tool: byName.get(name), listers, tools: (n) => byName.get(n) };
    };
    const forCall = prelisted && deps.toolset ? byToolset(prelisted, deps.toolset) : whole;
    listing = { loaded, listed, json, forCall };
    byEngines.set(deps.env.engines, listing);
  }
  return listing;
}

/**
 * A call's tool from its toolset alone: the prelisted data names the toolset, and only that category's
 * modules are loaded (once), or only the part of it that holds the tool (tools/parts.ts). Other tools
 * are seen as data, which is all the gate reads.
 */
function byToolset(
  prelisted: () => Promise<readonly ListableTool[]>,
  toolset: (name: Toolset, part?: string) => Promise<readonly AnyTool[]>,
): (name: string) => ForCall | Promise<ForCall> {
  const data = once(async () => {
    const all = (await prelisted()) as readonly AnyTool[];
    return { byName: new Map(all.map((t) => [t.name, t])), listers: listersOf(all) };
  });
  // Each toolset's (or part's) tools by name: the loading promise, replaced by its map once loaded, so
  // a call finds its tool without waiting on a promise again.
  const sets = new Map<string, Map<string, AnyTool> | Promise<Map<string, AnyTool>>>();
  let ready: { byName: Map<string, AnyTool>; listers: Listers; tools: ForCall['tools'] } | undefined;
  const find = (name: string): ForCall | Promise<ForCall> => {
    if (!ready)
      return data().then(({ byName, listers }) => {
        ready ??= { byName, listers, tools: (n) => byName.get(n) };
        return find(name);
      });
    const { byName, listers, tools } = ready;
    const set = byName.get(name)?.toolset;
    if (!set) return { tool: undefined, listers, tools };
    const part = PART_OF.get(name);
    const key = part ?? set;
    let loaded = sets.get(key);
    if (!loaded) {
      loaded = toolset(set, part).then((ts) => new Map(ts.map((t) => [t.name, t])));
      sets.set(key, loaded);
    }
    if (loaded instanceof Map) return { tool: loaded.get(name), listers, tools };
    return loaded.then((map) => {
      sets.set(key, map);
      return { tool: map.get(name), listers, tools };
    });
  };
  return find;
}

/**
 * Readies, in the background, what the first call would wait for: the catalogue's data it looks its
 * tool up in (no tool's module is loaded) and the default engine's connection. Nothing failed is kept:
 * the first call meets it again and says what it is.
 */
export function prepareCalls(deps: ServerDeps): void {
  const quietly = (work: unknown) => {
    if (work instanceof Promise) work.catch(() => {});
  };
  try {
    // Without the per-toolset loaders a lookup would load every tool's module.
    if (deps.prelisted && deps.toolset) quietly(listingFor(deps).forCall(''));
    quietly(deps.env.engines.resolve(undefined).requests(new AbortController().signal));
  } catch {
    // the first call meets it again
  }
}

/** Finds a catalogue tool by name (listed or not): prompts and resources are gated by the tools they use. */
export async function toolLookup(deps: ServerDeps): Promise<(name: string) => AnyTool | undefined> {
  const { byName } = await listingFor(deps).loaded();
  return (name) => byName.get(name);
}

/** Which tool lists each kind of object, for the hint of a not-found from a prompt or resource. */
export async function listersFor(deps: ServerDeps): Promise<Listers> {
  return (await listingFor(deps).loaded()).listers;
}

/** The tools/list result for the caller's profile. */
export async function listTools(deps: ServerDeps): Promise<{ tools: ListedTool[] }> {
  return { tools: await listingFor(deps).listed(deps.outputSchemas ?? 'lean') };
}

/** listTools' result as JSON text (the same bytes), for a transport that writes it as it is. */
export function listToolsJson(deps: ServerDeps): Promise<string> {
  return listingFor(deps).json(deps.outputSchemas ?? 'lean');
}

/**
 * Runs one tools/call through the pipeline; throws UnknownToolError for a name it does not know.
 * `{ asked }` when the call stopped to ask the user (--confirm): the transport puts the question
 * (elicitation) and calls again with `confirm.answer`.
 */
export async function callTool(
  deps: ServerDeps,
  params: { name: string; arguments?: unknown },
  opts: {
    signal: AbortSignal | Cancellation;
    sendProgress?: (p: Progress) => void;
    modern: boolean;
    confirm?: ConfirmChannel;
  },
): Promise<CallResult | { asked: Asked }> {
  const found = listingFor(deps).forCall(params.name);
  const { tool, listers, tools } = found instanceof Promise ? await found : found;
  if (!tool) throw new UnknownToolError(params.name);
  const outcome = await runPipeline(tool, params.arguments, deps.env, {
    listers,
    tools,
    signal: opts.signal,
    sendProgress: opts.sendProgress,
    confirm: opts.confirm,
  });
  if (!outcome.ok && outcome.asked) return { asked: outcome.asked };
  return toCallResult(outcome, opts.modern);
}

/** The confirm channel of a call: can the client ask, and (the answer round) its state and answer. */
export function confirmChannel(
  declared: unknown,
  state: unknown,
  responses: Record<string, unknown> | undefined,
): ConfirmChannel {
  return {
    canAsk: canElicit(declared),
    ...(state !== undefined && { answer: answerOf(state, responses?.[QUESTION_KEY]) }),
  };
}
