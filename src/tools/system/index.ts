import type { AnyTool } from '../../core/tool.ts';
import { dashboard } from './dashboard.ts';
import { systemDf } from './df.ts';
import { listEngines } from './engines.ts';
import { dockerEvents } from './events.ts';
import { healthcheck } from './health.ts';
import { dockerVersion, systemInfo } from './info.ts';
import { systemPrune } from './prune.ts';

/** The engine as a whole: what it is, its disk use and events, pruning, whether it answers at all, and the dashboard. */
export const systemTools: AnyTool[] = [
  systemInfo,
  systemDf,
  systemPrune,
  dockerVersion,
  dockerEvents,
  healthcheck,
  listEngines,
  dashboard,
];
