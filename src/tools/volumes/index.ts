import type { AnyTool } from '../../core/tool.ts';
import { inspectVolumeTool, listVolumes } from './inspect.ts';
import { createVolume, pruneVolumes, removeVolume } from './manage.ts';

export const volumeTools: AnyTool[] = [
  listVolumes,
  inspectVolumeTool,
  createVolume,
  removeVolume,
  pruneVolumes,
];
