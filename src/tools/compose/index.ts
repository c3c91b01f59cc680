/** The compose toolset: Compose projects, loaded and run natively (no docker CLI). */
import type { AnyTool } from '../../core/tool.ts';
import { composeConfig } from './config.ts';
import { composeRestart, composeStart, composeStop } from './lifecycle.ts';
import { composeLogs, composeLs, composePs } from './observe.ts';
import { composeDown, composeUp } from './up.ts';

export const composeTools: readonly AnyTool[] = [
  composeConfig,
  composeUp,
  composeDown,
  composePs,
  composeLs,
  composeLogs,
  composeStart,
  composeStop,
  composeRestart,
];
