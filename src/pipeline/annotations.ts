import type { ToolAnnotations } from '@modelcontextprotocol/server';
import type { AnyTool, Safety } from '../core/tool.ts';

/**
 * The one place hints come from: every hint written out, derived from the tool's safety, the tiers its
 * arguments escalate to, and its flags. A tool some call of which is destructive says so.
 */
export function annotationsFor(tool: AnyTool): ToolAnnotations {
  const raised = Object.values((tool.escalate ?? {}) as Record<string, Safety>);
  return {
    title: tool.title,
    readOnlyHint: tool.safety === 'safe' && raised.every((t) => t === 'safe'),
    destructiveHint: tool.safety === 'destructive' || raised.includes('destructive'),
    idempotentHint: tool.safety === 'safe' || tool.idempotent,
    openWorldHint: tool.openWorld ?? false,
  };
}
