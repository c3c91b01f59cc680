import type { AnyTool } from '../define.ts';

export const registryImageTools: AnyTool[] = [];
