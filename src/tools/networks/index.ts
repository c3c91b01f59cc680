import type { AnyTool } from '../define.ts';

export const networkTools: AnyTool[] = [];
