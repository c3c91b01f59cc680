/** Marks a category's tools with the toolset that switches them on, sorted by name (index.ts, by-toolset.ts). */
import type { AnyTool } from '../core/tool.ts';
import type { Toolset } from '../core/toolsets.ts';

/**
 * By code unit, not localeCompare: tool names are lowercase ASCII and underscores, which sort the same
 * either way, and a first localeCompare builds ICU's collator (~2 MiB of data and code) in the session
 * of every first call.
 */
const byName = (a: AnyTool, b: AnyTool) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export const inToolset = (name: Toolset, tools: readonly AnyTool[]): AnyTool[] =>
  [...tools].sort(byName).map((t) => ({ ...t, toolset: name }));
