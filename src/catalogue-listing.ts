/** The catalogue's data (catalogue-static.ts), computed when the binary is built. Loaded by import() on the first tools/list. */

import { staticListingJson, staticSchemasJson } from './catalogue-static.ts' with { type: 'macro' };
import type { ListableTool } from './tool-calls.ts';

type Schemas = Record<string, Pick<ListableTool, 'input' | 'output'>>;
const SCHEMAS_JSON: string = staticSchemasJson();
let schemas: Schemas | undefined;
const schemasOf = (name: string) => {
  schemas ??= JSON.parse(SCHEMAS_JSON) as Schemas;
  return schemas[name] as Schemas[string];
};

export const STATIC_CATALOGUE: ListableTool[] = (JSON.parse(staticListingJson()) as ListableTool[]).map((t) =>
  Object.defineProperties(t, {
    input: { enumerable: true, get: () => schemasOf(t.name).input },
    output: { enumerable: true, get: () => schemasOf(t.name).output },
  }),
);
