import { createContainer, runContainer, updateContainer } from './create.ts';
import { execCommand } from './exec.ts';
import { copyFromContainer, copyToContainer } from './files.ts';
import { inspectContainerTool, listContainers } from './inspect.ts';
import {
  killContainer,
  pauseContainer,
  renameContainer,
  restartContainer,
  startContainer,
  stopContainer,
  unpauseContainer,
} from './lifecycle.ts';
import { containerLogs } from './logs.ts';
import { containerDiff, containerStats, containerTop } from './observe.ts';
import { pruneContainers, removeContainer } from './remove.ts';
import { waitContainer } from './wait.ts';

export const containerTools = [
  listContainers,
  inspectContainerTool,
  startContainer,
  stopContainer,
  restartContainer,
  killContainer,
  pauseContainer,
  unpauseContainer,
  renameContainer,
  removeContainer,
  pruneContainers,
  createContainer,
  runContainer,
  updateContainer,
  containerLogs,
  execCommand,
  containerStats,
  containerTop,
  containerDiff,
  waitContainer,
  copyFromContainer,
  copyToContainer,
];
