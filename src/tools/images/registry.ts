import type { AnyTool } from '../../core/tool.ts';
import { buildImage } from './build.ts';
import { pullImage } from './pull.ts';
import { pushImage } from './push.ts';

/** Images that move through a registry or come out of a build: each call can run for minutes. */
export const registryImageTools: AnyTool[] = [pullImage, pushImage, buildImage];
