import type { AnyTool } from '../../core/tool.ts';
import { loadImage, saveImage } from './archive.ts';
import { imageHistory, inspectImageTool, listImages } from './inspect.ts';
import { pruneImages, removeImage, tagImage } from './manage.ts';

/** Images already on the engine: read, tag, remove, prune, and move through tar files on the host. */
export const localImageTools: AnyTool[] = [
  listImages,
  inspectImageTool,
  imageHistory,
  tagImage,
  removeImage,
  pruneImages,
  saveImage,
  loadImage,
];
