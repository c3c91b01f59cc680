/** The catalogue's data (catalogue-static.ts), computed when the binary is built. Loaded by import() on the first tools/list. */
import { staticCatalogue } from './catalogue-static.ts' with { type: 'macro' };

export const STATIC_CATALOGUE = staticCatalogue();
