/** The swarm toolset (off by default): the cluster, its nodes, services and tasks; secrets, configs and stacks. */
import type { AnyTool } from '../../core/tool.ts';
import { swarmInfo, swarmInit, swarmJoin, swarmJoinToken, swarmLeave } from './cluster.ts';
import { nodeInspect, nodeList, nodeRemove, nodeUpdate } from './nodes.ts';
import { configTools, secretTools } from './secrets.ts';
import {
  serviceCreate,
  serviceRemove,
  serviceRollback,
  serviceScale,
  serviceUpdate,
} from './service-change.ts';
import { serviceInspect, serviceList, serviceLogs, serviceWait } from './services.ts';
import { stackTools } from './stacks.ts';
import { taskList } from './tasks.ts';

export const swarmTools: readonly AnyTool[] = [
  swarmInfo,
  swarmInit,
  swarmJoin,
  swarmJoinToken,
  swarmLeave,
  nodeList,
  nodeInspect,
  nodeUpdate,
  nodeRemove,
  serviceList,
  serviceInspect,
  serviceCreate,
  serviceUpdate,
  serviceScale,
  serviceRollback,
  serviceLogs,
  serviceWait,
  serviceRemove,
  taskList,
  ...secretTools,
  ...configTools,
  ...stackTools,
];
