import { inspectContainerTool, listContainers } from './inspect.ts';
import { startContainer, stopContainer } from './lifecycle.ts';

export const containerTools = [listContainers, inspectContainerTool, startContainer, stopContainer];
