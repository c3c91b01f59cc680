/**
 * tools/list without the pipeline or the engine layer: the listing per safety profile and engines, as
 * objects and as JSON text. The stdio start-up answers tools/list with it before the code that runs
 * calls is loaded (main.ts); tool-calls.ts lists with the same functions.
 */
import type { EngineView } from './core/engine.ts';
import type { AnyTool } from './core/tool.ts';
import type { EngineRegistry } from './docker/engines.ts';
import { defaultEngineView } from './docker/registry.ts';
import { leanOutputSchema, leanSchema, nameSharedOutputs } from './lean-schema.ts';
import { annotationsFor } from './pipeline/annotations.ts';
import { callerEngines, defaultEngineFor, ENGINE_ARG, severalEngines } from './pipeline/engine-choice.ts';
import { enginesAllowing, type SafetyProfile } from './pipeline/gate.ts';

/** lean: every tool lists one shared `{type: object}`; full: the declared schemas, every field described. */
export type OutputSchemas = 'lean' | 'full';

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
  // The chosen-text mark is for the catalogue's own checks (schema-marks.ts), not for clients.
  const output = JSON.parse(JSON.stringify(tool.output, (k, v) => (k === 'x-chosen-text' ? undefined : v)));
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

/** Each tool allowed on at least one engine this caller may use, with those engines. */
function allowedOn(
  all: readonly ListableTool[],
  registry: EngineRegistry<EngineView>,
  profile: SafetyProfile,
): { tool: ListableTool; on: EngineView[] }[] {
  const engines = callerEngines(registry, profile).map((n) => registry.resolve(n));
  // The gate and the listing read only data, never the handler.
  return all
    .map((tool) => ({ tool, on: enginesAllowing(tool as AnyTool, profile, engines) }))
    .filter(({ on }) => on.length > 0);
}

/** The tools allowed on at least one engine this caller may use, each with those engines when there are several. */
export function listedFor(
  all: readonly ListableTool[],
  registry: EngineRegistry<EngineView>,
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
  registry: EngineRegistry<EngineView>,
  profile: SafetyProfile,
  outputs: OutputSchemas,
): string | undefined {
  if (outputs !== 'lean' || severalEngines(registry)) return undefined;
  const texts = allowedOn(all, registry, profile).map(({ tool }) => tool.listedJson);
  // A tool listed alone shares its output schema with none, and lists it without the `$id`.
  if (texts.length < 2 || texts.some((t) => t === undefined)) return undefined;
  return `{"tools":[${texts.join(',')}]}`;
}

/**
 * The tools/list result as JSON text: JSON.stringify({ tools: listedFor(...) }), byte for byte, joined
 * from the build-time texts where it can be.
 */
export function listingJson(
  all: readonly ListableTool[],
  registry: EngineRegistry<EngineView>,
  profile: SafetyProfile,
  outputs: OutputSchemas = 'lean',
): string {
  return (
    listedJsonFor(all, registry, profile, outputs) ??
    JSON.stringify({ tools: listedFor(all, registry, profile, outputs) })
  );
}

/**
 * tools/list of a server with no engine configured (its one engine, 'default', without a ceiling), from
 * the catalogue's build-time data: what stdio answers before the engine layer is loaded (main.ts).
 */
export async function defaultEngineListing(profile: SafetyProfile, outputs: OutputSchemas): Promise<string> {
  const { STATIC_CATALOGUE } = await import('./catalogue-listing.ts');
  return listingJson(STATIC_CATALOGUE, defaultEngineView(), profile, outputs);
}
