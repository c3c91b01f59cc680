import { localImageTools } from './local.ts';
import { registryImageTools } from './registry.ts';

/** Images on the engine (list, inspect, tag, remove, save/load) and those that move through a registry or a build. */
export const imageTools = [...localImageTools, ...registryImageTools];
