/**
 * The catalogue: an import list and the toolset of each category. Sorted by category, then name, so
 * tools/list is deterministic.
 */

import type { AnyTool } from '../core/tool.ts';
import type { Toolset } from '../core/toolsets.ts';
import { composeTools } from './compose/index.ts';
import { containerTools } from './containers/index.ts';
import { imageTools } from './images/index.ts';
import { networkTools } from './networks/index.ts';
import { swarmTools } from './swarm/index.ts';
import { systemTools } from './system/index.ts';
import { volumeTools } from './volumes/index.ts';

const byName = (a: AnyTool, b: AnyTool) => a.name.localeCompare(b.name);
/** A category's tools, sorted, each marked with the toolset that switches it on. */
const toolset = (name: Toolset, tools: readonly AnyTool[]): AnyTool[] =>
  [...tools].sort(byName).map((t) => ({ ...t, toolset: name }));

export const catalogue: readonly AnyTool[] = [
  ...toolset('containers', containerTools),
  ...toolset('images', imageTools),
  ...toolset('networks', networkTools),
  ...toolset('volumes', volumeTools),
  ...toolset('system', systemTools),
  ...toolset('compose', composeTools),
  ...toolset('swarm', swarmTools),
];
