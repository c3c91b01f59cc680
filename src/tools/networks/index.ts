import type { AnyTool } from '../../core/tool.ts';
import { connectContainer, disconnectContainer } from './connect.ts';
import { inspectNetworkTool, listNetworks } from './inspect.ts';
import { createNetwork, pruneNetworks, removeNetwork } from './manage.ts';

export const networkTools: AnyTool[] = [
  listNetworks,
  inspectNetworkTool,
  createNetwork,
  connectContainer,
  disconnectContainer,
  removeNetwork,
  pruneNetworks,
];
