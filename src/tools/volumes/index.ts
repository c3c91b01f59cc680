import type { AnyTool } from '../define.ts';

export const volumeTools: AnyTool[] = [];
