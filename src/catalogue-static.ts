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
import { nameSharedOutputs } from './lean-schema.ts';
import { type ListableTool, listedTool } from './tool-calls.ts';
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
