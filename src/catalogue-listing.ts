/** The catalogue's data (catalogue-static.ts), computed when the binary is built. Loaded by import() on the first tools/list. */

import { staticListedJson, staticListingJson, staticSchemasJson } from './catalogue-static.ts' with {
  type: 'macro',
};
import type { ListableTool, ListedTool } from './tool-listing.ts';

type Schemas = Record<string, Pick<ListableTool, 'input' | 'output'>>;
const SCHEMAS_JSON: string = staticSchemasJson();
let schemas: Schemas | undefined;
const schemasOf = (name: string) => {
  schemas ??= JSON.parse(SCHEMAS_JSON) as Schemas;
  return schemas[name] as Schemas[string];
};

const LISTED_JSON: Record<string, string> = staticListedJson();

/** The tool's listing: its text parsed, without the shared `$id` (nameSharedOutputs adds it back). */
const listedOf = (name: string): ListedTool => {
  const listed = JSON.parse(LISTED_JSON[name] as string) as ListedTool;
  const { $id: _, ...output } = listed.outputSchema;
  listed.outputSchema = output as ListedTool['outputSchema'];
  return listed;
};

export const STATIC_CATALOGUE: ListableTool[] = (JSON.parse(staticListingJson()) as ListableTool[]).map((t) =>
  Object.defineProperties(t, {
    input: { enumerable: true, get: () => schemasOf(t.name).input },
    output: { enumerable: true, get: () => schemasOf(t.name).output },
    listed: { enumerable: true, get: () => listedOf(t.name) },
    listedJson: { value: LISTED_JSON[t.name] },
  }),
);
