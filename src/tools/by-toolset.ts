/**
 * Each toolset's tools on their own, loaded by import(): a call loads only the category that holds
 * its tool, so a stdio session that lists and inspects containers never evaluates the Compose, Swarm
 * or dashboard modules (their code, YAML parser and schemas). The same tools as catalogue in
 * index.ts (test/unit/catalogue-static.test.ts holds them equal).
 */
import type { AnyTool } from '../core/tool.ts';
import type { Toolset } from '../core/toolsets.ts';
import { inToolset } from './toolset-of.ts';

/** The parts of parts.ts, each with only its own tools (marked with their toolset, as above). */
export const PART_LOADERS: Record<string, () => Promise<readonly AnyTool[]>> = {
  'container-views': async () => {
    const { listContainers, inspectContainerTool } = await import('./containers/inspect.ts');
    return inToolset('containers', [listContainers, inspectContainerTool]);
  },
};

export const TOOLSET_LOADERS: Record<Toolset, () => Promise<readonly AnyTool[]>> = {
  containers: async () => inToolset('containers', (await import('./containers/index.ts')).containerTools),
  images: async () => inToolset('images', (await import('./images/index.ts')).imageTools),
  networks: async () => inToolset('networks', (await import('./networks/index.ts')).networkTools),
  volumes: async () => inToolset('volumes', (await import('./volumes/index.ts')).volumeTools),
  system: async () => inToolset('system', (await import('./system/index.ts')).systemTools),
  compose: async () => inToolset('compose', (await import('./compose/index.ts')).composeTools),
  swarm: async () => inToolset('swarm', (await import('./swarm/index.ts')).swarmTools),
};
