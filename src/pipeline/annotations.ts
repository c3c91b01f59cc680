import type { ToolAnnotations } from '@modelcontextprotocol/server';
import { type AnyTool, raisedTiers } from '../core/tool.ts';

/**
 * The one place hints come from: derived from the tool's safety, the tiers its arguments escalate to,
 * and its flags. A tool some call of which is destructive says so. Every listing pays for these bytes
 * in every session, so a hint is written only where it says something a client would not assume:
 * - a read-only tool lists `readOnlyHint: true` and nothing about destruction or idempotence, which
 *   the spec says clients ignore for read-only tools;
 * - any other tool always states `destructiveHint` (safety-relevant, so never left to the spec's
 *   default of true) and `idempotentHint` only when true (the default is false);
 * - `openWorldHint` is written when false (the default is true);
 * - the display title is the tool's top-level `title`, not repeated here.
 */
export function annotationsFor(tool: AnyTool): ToolAnnotations {
  const raised = raisedTiers(tool);
  const openWorld = tool.openWorld ?? false;
  if (tool.safety === 'safe' && raised.every((t) => t === 'safe'))
    return { readOnlyHint: true, ...(!openWorld && { openWorldHint: false }) };
  return {
    destructiveHint: tool.safety === 'destructive' || raised.includes('destructive'),
    ...((tool.safety === 'safe' || tool.idempotent) && { idempotentHint: true }),
    ...(!openWorld && { openWorldHint: false }),
  };
}
