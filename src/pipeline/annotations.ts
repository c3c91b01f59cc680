import type { ToolAnnotations } from '@modelcontextprotocol/server';
import type { AnyTool } from '../core/tool.ts';

/** The one place hints come from: every hint written out, derived from the tool's safety and flags. */
export function annotationsFor(tool: AnyTool): ToolAnnotations {
  return {
    title: tool.title,
    readOnlyHint: tool.safety === 'safe',
    destructiveHint: tool.safety === 'destructive',
    idempotentHint: tool.safety === 'safe' || tool.idempotent,
    openWorldHint: tool.openWorld ?? false,
  };
}
