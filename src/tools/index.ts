/**
 * The catalogue: an import list and the toolset of each category. Sorted by category, then name, so
 * tools/list is deterministic.
 */

import type { AnyTool } from '../core/tool.ts';
import { composeTools } from './compose/index.ts';
import { containerTools } from './containers/index.ts';
import { imageTools } from './images/index.ts';
import { networkTools } from './networks/index.ts';
import { swarmTools } from './swarm/index.ts';
import { systemTools } from './system/index.ts';
import { inToolset as toolset } from './toolset-of.ts';
import { volumeTools } from './volumes/index.ts';

export const catalogue: readonly AnyTool[] = [
  ...toolset('containers', containerTools),
  ...toolset('images', imageTools),
  ...toolset('networks', networkTools),
  ...toolset('volumes', volumeTools),
  ...toolset('system', systemTools),
  ...toolset('compose', composeTools),
  ...toolset('swarm', swarmTools),
];
