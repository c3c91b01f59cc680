/**
 * tools/list and tools/call without the MCP SDK: the listing per safety profile, one call through the
 * pipeline, and its result as MCP content. The SDK server (server.ts) and the stdio dispatcher
 * (transport/stdio.ts) both answer with these, so the two paths cannot drift apart.
 * Nothing here imports the SDK: stdio serves its hot path without loading it.
 */
import type { AnyTool } from './core/tool.ts';
import type { Toolset } from './core/toolsets.ts';
import type { EngineHandle, EngineRegistry } from './docker/engines.ts';
import { leanOutputSchema, leanSchema, nameSharedOutputs } from './lean-schema.ts';
import { annotationsFor } from './pipeline/annotations.ts';
import { jsonOf } from './pipeline/cap.ts';
import { type ConfirmChannel, QUESTION_KEY } from './pipeline/confirm.ts';
import { callerEngines, defaultEngineFor, ENGINE_ARG, severalEngines } from './pipeline/engine-choice.ts';
import { enginesAllowing, type SafetyProfile } from './pipeline/gate.ts';
import { type Listers, listersOf } from './pipeline/map-errors.ts';
import { type Asked, type Outcome, type PipelineEnv, runPipeline } from './pipeline/run.ts';
import type { Cancellation } from './pipeline/signal.ts';
import type { CataloguedPrompt } from './prompts/define.ts';
import type { CataloguedResource } from './resources/define.ts';
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

/** lean: every tool lists one shared `{type: object}`; full: the declared schemas, every field described. */
export type OutputSchemas = 'lean' | 'full';

/** What initialize answers, on either path. */
export const serverInfo = (version: string) => ({ name: 'mcp-docker', title: 'Docker', version });
export const CAPABILITIES = {
  tools: { listChanged: false },
  prompts: { listChanged: false },
  resources: { subscribe: true, listChanged: false },
  completions: {},
};

/** A tool as clients see it in tools/list (plain JSON). */
export interface ListedTool {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; [key: string]: unknown };
  outputSchema: { type: 'object'; [key: string]: unknown };
  annotations: ReturnType<typeof annotationsFor>;
  /** MCP Apps: the `ui://` resource that renders the result, under the current and the legacy key. */
  _meta?: { ui: { resourceUri: string }; 'ui/resourceUri': string };
}

/**
 * Every result may carry the pipeline's note on what it cut. Written as the JSON TypeBox would make
 * of it: this module is on stdio's start-up path, which loads no TypeBox.
 */
const Truncated = {
  type: 'object',
  required: ['field', 'kept', 'dropped', 'note'],
  properties: {
    field: { type: 'string' },
    kept: { type: 'integer' },
    dropped: { type: 'integer' },
    note: { type: 'string' },
  },
  description: 'Present when the result was cut to fit the response cap',
};

/**
 * The result schema a tool promises: its declared output, the cap's `truncated` note, and with several
 * engines the `engine` that answered. Results are checked against it in tests; clients are shown its
 * lean copy (leanOutputSchema), which accepts everything it does.
 */
export function declaredOutput(tool: AnyTool, severalEngines = false): ListedTool['outputSchema'] {
  const output = JSON.parse(JSON.stringify(tool.output));
  output.properties = { ...output.properties, truncated: JSON.parse(JSON.stringify(Truncated)) };
  if (severalEngines) output.properties.engine = { type: 'string', description: 'Engine that answered' };
  return output;
}

/**
 * The tool as clients see it: plain JSON, annotations derived from safety in one place. With several
 * engines configured, `engines` holds those this caller may run it on: the input gains an `engine`
 * argument (required when the tool changes state) and the output the `engine` that answered. With one,
 * nothing is added and the listing is byte-identical to a single-engine server's.
 */
export function listedTool(
  tool: AnyTool,
  engines?: EngineChoice,
  outputs: OutputSchemas = 'lean',
): ListedTool {
  const input = leanSchema(tool.input) as ListedTool['inputSchema'];
  if (engines) {
    const writes = tool.safety !== 'safe';
    input.properties = {
      ...(input.properties as object),
      [ENGINE_ARG]: {
        type: 'string',
        enum: engines.names,
        description: writes ? 'Engine to act on.' : `Engine to read (default: ${engines.fallback}).`,
      },
    };
    if (writes) input.required = [...((input.required as string[] | undefined) ?? []), ENGINE_ARG];
  }
  const output = outputs === 'full' ? declaredOutput(tool, Boolean(engines)) : leanOutputSchema();
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: input,
    outputSchema: output as ListedTool['outputSchema'],
    annotations: annotationsFor(tool),
    ...(tool.ui && { _meta: { ui: { ...tool.ui }, 'ui/resourceUri': tool.ui.resourceUri } }),
  };
}

/** The engines a listed tool may run on for this caller, and the one a read without `engine` uses. */
export interface EngineChoice {
  names: string[];
  fallback: string;
}

/**
 * What listing a tool reads: everything but its handler; from catalogue-static.ts also `listed`, its
 * single-engine listing made at build time.
 */
export type ListableTool = Omit<AnyTool, 'handler'> & { listed?: ListedTool; listedJson?: string };

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
    const byOutputs = new Map<OutputSchemas, Promise<ListedTool[]>>();
    const listed = (outputs: OutputSchemas) => {
      let made = byOutputs.get(outputs);
      if (!made) {
        made = source().then((all) => listedFor(all, deps.env.engines, deps.env.profile, outputs));
        byOutputs.set(outputs, made);
      }
      return made;
    };
    const texts = new Map<OutputSchemas, Promise<string>>();
    const json = (outputs: OutputSchemas) => {
      let made = texts.get(outputs);
      if (!made) {
        made = source().then(
          (all) =>
            listedJsonFor(all, deps.env.engines, deps.env.profile, outputs) ??
            listed(outputs).then((tools) => JSON.stringify({ tools })),
        );
        texts.set(outputs, made);
      }
      return made;
    };
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

/** Each tool allowed on at least one engine this caller may use, with those engines. */
function allowedOn(
  all: readonly ListableTool[],
  registry: EngineRegistry,
  profile: SafetyProfile,
): { tool: ListableTool; on: EngineHandle[] }[] {
  const engines = callerEngines(registry, profile).map((n) => registry.resolve(n));
  // The gate and the listing read only data, never the handler.
  return all
    .map((tool) => ({ tool, on: enginesAllowing(tool as AnyTool, profile, engines) }))
    .filter(({ on }) => on.length > 0);
}

/** The tools allowed on at least one engine this caller may use, each with those engines when there are several. */
export function listedFor(
  all: readonly ListableTool[],
  registry: EngineRegistry,
  profile: SafetyProfile,
  outputs: OutputSchemas = 'lean',
): ListedTool[] {
  const several = severalEngines(registry);
  const fallback = defaultEngineFor(registry, profile) ?? registry.defaultName;
  return nameSharedOutputs(
    allowedOn(all, registry, profile).map(({ tool: t, on }) => {
      if (several) return listedTool(t as AnyTool, { names: on.map((e) => e.name), fallback }, outputs);
      if (outputs === 'lean' && t.listed) return t.listed;
      return listedTool(t as AnyTool, undefined, outputs);
    }),
  );
}

/**
 * listedFor's result as JSON text, joined from the tools' build-time texts (catalogue-static.ts) with
 * nothing parsed or serialized: for the lean single-engine listing of two or more tools, whose output
 * schemas all share the `$id` those texts carry. Undefined for any other listing.
 */
function listedJsonFor(
  all: readonly ListableTool[],
  registry: EngineRegistry,
  profile: SafetyProfile,
  outputs: OutputSchemas,
): string | undefined {
  if (outputs !== 'lean' || severalEngines(registry)) return undefined;
  const texts = allowedOn(all, registry, profile).map(({ tool }) => tool.listedJson);
  // A tool listed alone shares its output schema with none, and lists it without the `$id`.
  if (texts.length < 2 || texts.some((t) => t === undefined)) return undefined;
  return `{"tools":[${texts.join(',')}]}`;
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

/** A tools/call for a name the catalogue does not hold: a protocol fault (invalid params), not a tool error. */
export class UnknownToolError extends Error {
  constructor(name: string) {
    super(`Unknown tool '${name}'. Call tools/list to see the tools.`);
  }
}

export interface Progress {
  progress: number;
  total?: number;
  message?: string;
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

/** An elicitation result as the confirm step reads it (from elicitation/create or an input response). */
export function answerOf(state: unknown, response: unknown): NonNullable<ConfirmChannel['answer']> {
  const r = response !== null && typeof response === 'object' ? (response as Record<string, unknown>) : {};
  const action =
    r.action === 'accept' || r.action === 'decline' || r.action === 'cancel' ? r.action : 'missing';
  const content =
    r.content !== null && typeof r.content === 'object' && !Array.isArray(r.content)
      ? (r.content as Record<string, unknown>)
      : undefined;
  return { state, action, ...(content && { content }) };
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

/** Whether declared client capabilities include form elicitation (`elicitation: {}` counts, as in the SDK). */
export function canElicit(capabilities: unknown): boolean {
  if (capabilities === null || typeof capabilities !== 'object') return false;
  const e = (capabilities as { elicitation?: unknown }).elicitation;
  if (e === null || typeof e !== 'object') return false;
  const modes = e as { form?: unknown; url?: unknown };
  return modes.form !== undefined || modes.url === undefined;
}

export type CallResult = ReturnType<typeof toCallResult>;

/** Successful results toCallResult made: their one text is the JSON of their structuredContent. */
const whole = new WeakSet<object>();

/**
 * JSON.stringify(result) for a successful result of toCallResult, made from its text rather than by
 * serializing the data a second time (its structuredContent is the value that text is the JSON of);
 * undefined for any other result. The same bytes, in the same key order.
 */
export function callResultJson(result: object): string | undefined {
  if (!whole.has(result)) return undefined;
  const { text } = (result as { content: [{ text: string }] }).content[0];
  return `{"content":[{"type":"text","text":${JSON.stringify(text)}}],"structuredContent":${text}}`;
}

/**
 * Success: structured data plus the same JSON as text for clients that only read text.
 * Error: a one-line message with the kind and next step. `{kind, retryable, hint}` goes in
 * structuredContent only on the 2026 era: initialize-era SDK clients validate structuredContent
 * against the tool's outputSchema even on errors and would reject the result.
 */
export function toCallResult(outcome: Outcome, modern: boolean) {
  if (outcome.ok) {
    const result = {
      content: [{ type: 'text' as const, text: jsonOf(outcome.data) }],
      structuredContent: outcome.data,
    };
    whole.add(result);
    return result;
  }
  const { kind, message, hint, retryable } = outcome.error;
  const text = `${kind}: ${message}${hint ? ` — ${hint}` : ''}`;
  return {
    isError: true,
    content: [{ type: 'text' as const, text }],
    ...(modern && { structuredContent: { kind, retryable, ...(hint && { hint }) } }),
  };
}
