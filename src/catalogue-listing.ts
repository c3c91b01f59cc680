/** The catalogue's data (catalogue-static.ts), computed when the binary is built. Loaded by import() on the first tools/list. */

import { staticCatalogueJson } from './catalogue-static.ts' with { type: 'macro' };
import type { ListableTool } from './tool-calls.ts';

export const STATIC_CATALOGUE: ListableTool[] = JSON.parse(staticCatalogueJson());
