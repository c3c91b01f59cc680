import type { AnyTool } from '../define.ts';

export const localImageTools: AnyTool[] = [];
