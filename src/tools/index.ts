/** The catalogue: only an import list. Sorted by category, then name, so tools/list is deterministic. */
import { containerTools } from './containers/index.ts';
import type { AnyTool } from './define.ts';

const byName = (a: AnyTool, b: AnyTool) => a.name.localeCompare(b.name);

export const catalogue: readonly AnyTool[] = [...[...containerTools].sort(byName)];
