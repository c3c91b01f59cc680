/** Marks a category's tools with the toolset that switches them on, sorted by name (index.ts, by-toolset.ts). */
import type { AnyTool } from '../core/tool.ts';
import type { Toolset } from '../core/toolsets.ts';

const byName = (a: AnyTool, b: AnyTool) => a.name.localeCompare(b.name);

export const inToolset = (name: Toolset, tools: readonly AnyTool[]): AnyTool[] =>
  [...tools].sort(byName).map((t) => ({ ...t, toolset: name }));
