/**
 * Run at build time (a Bun macro, imported by catalogue-listing.ts): every tool's data without its
 * handler, and its single-engine listing, as plain JSON the bundler writes into the binary. A tools/list
 * is answered from it, so the first one no longer evaluates the 51 tool modules (their TypeBox schemas,
 * the engine code they import); the modules load on the first tools/call. Everything the listing and the
 * gate read is data (name, safety, escalate, toolset…); test/unit/catalogue-static.test.ts holds the
 * listing built from this copy equal to the one built from the catalogue.
 *
 * The declared input and output schemas (over half of the data) are a second string: only a listing
 * with several engines or `--output-schemas full` reads them, so the default listing never parses them.
 */
import { readHostEnv } from './config/host.ts';
import { runtimeOf } from './config/runtime.ts';
import { type Config, ConfigSchema } from './config/schema.ts';
import { defaultEngineView } from './docker/registry.ts';
import { nameSharedOutputs } from './lean-schema.ts';
import { type ListableTool, listedTool, listingJson } from './tool-listing.ts';
import { catalogue } from './tools/index.ts';

let made: ListableTool[] | undefined;

/** Each tool's data, and `listed`: the tool as a single-engine server lists it (made once per build). */
export function staticCatalogue(): ListableTool[] {
  made ??= JSON.parse(
    JSON.stringify(
      catalogue.map((tool) => {
        const { handler: _, ...t } = tool;
        return { ...t, listed: listedTool(tool) };
      }),
    ),
  ) as ListableTool[];
  return made;
}

/**
 * The data without the declared schemas or the listing, as JSON text: one string literal the binary
 * parses (what the gate and a call read).
 */
export function staticListingJson(): string {
  return JSON.stringify(staticCatalogue().map(({ input: _, output: __, listed: ___, ...t }) => t));
}

/**
 * Each tool's single-engine listing as JSON text, by name: its output schema carries the `$id` that
 * nameSharedOutputs gives a schema two or more listed tools share, as every lean one is. A lean
 * listing of two or more tools is these texts joined (tool-calls.ts): nothing parsed, nothing
 * serialized. The binary holds them as string literals.
 */
export function staticListedJson(): Record<string, string> {
  const all = staticCatalogue();
  const named = nameSharedOutputs(all.map((t) => t.listed as NonNullable<ListableTool['listed']>));
  return Object.fromEntries(all.map((t, i) => [t.name, JSON.stringify(named[i])]));
}

/** Each tool's declared input and output schema by name, as JSON text, parsed when first read. */
export function staticSchemasJson(): string {
  return JSON.stringify(
    Object.fromEntries(staticCatalogue().map((t) => [t.name, { input: t.input, output: t.output }])),
  );
}

/**
 * The tools/list text of a server with every setting at its default and no engine configured (the
 * default profile, one engine, lean output schemas), and that profile as JSON: made with the same
 * gate and listing at build time, so such a server lists without running them (default-listing.ts).
 */
export function staticDefaultListing(): { profile: string; json: string } {
  // Every setting's default, as loadConfig resolves it with no flag, variable or file (fields.ts is
  // itself made by a macro, which a macro cannot load).
  const defaults = Object.fromEntries(
    Object.entries(ConfigSchema.properties).map(([key, field]) => [
      key,
      (field as { default?: unknown }).default,
    ]),
  ) as Config;
  // The profile reads no host fact; a fixed home keeps the host's out of the build.
  const profile = runtimeOf(defaults, readHostEnv({ HOME: '/' })).pipeline.profile;
  const texts = staticListedJson();
  const tools = staticCatalogue().map((t) => ({ ...t, listedJson: texts[t.name] }));
  return { profile: JSON.stringify(profile), json: listingJson(tools, defaultEngineView(), profile, 'lean') };
}
