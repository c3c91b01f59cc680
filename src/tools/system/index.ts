import type { AnyTool } from '../define.ts';

export const systemTools: AnyTool[] = [];
