/** The swarm toolset (opt-in): secrets, configs and stacks on a swarm manager. */
import type { AnyTool } from '../../core/tool.ts';
import { configTools, secretTools } from './secrets.ts';
import { stackTools } from './stacks.ts';

export const swarmTools: readonly AnyTool[] = [...secretTools, ...configTools, ...stackTools];
