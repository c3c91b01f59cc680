/** The prompt catalogue, sorted by name so prompts/list is deterministic. */
import { generateCompose } from './compose.ts';
import type { AnyPrompt } from './define.ts';
import { debugNetworking } from './networking.ts';
import { optimizeContainer } from './optimize.ts';
import { securityAudit } from './security.ts';
import { troubleshootContainer } from './troubleshoot.ts';

export const prompts: readonly AnyPrompt[] = [
  debugNetworking,
  generateCompose,
  optimizeContainer,
  securityAudit,
  troubleshootContainer,
].sort((a, b) => a.name.localeCompare(b.name));
