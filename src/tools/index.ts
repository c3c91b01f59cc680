/** The catalogue: only an import list. Sorted by category, then name, so tools/list is deterministic. */

import type { AnyTool } from '../core/tool.ts';
import { containerTools } from './containers/index.ts';
import { imageTools } from './images/index.ts';
import { networkTools } from './networks/index.ts';
import { systemTools } from './system/index.ts';
import { volumeTools } from './volumes/index.ts';

const byName = (a: AnyTool, b: AnyTool) => a.name.localeCompare(b.name);
const sorted = (tools: readonly AnyTool[]) => [...tools].sort(byName);

export const catalogue: readonly AnyTool[] = [
  ...sorted(containerTools),
  ...sorted(imageTools),
  ...sorted(networkTools),
  ...sorted(volumeTools),
  ...sorted(systemTools),
];
