/**
 * The prompt catalogue, sorted by name so prompts/list is deterministic. Each prompt's toolset and
 * the tools whose data it shows (`uses`) are set here: a caller sees and gets a prompt only when its
 * toolset is on and each of those tools passes the caller's gate.
 */
import type { Toolset } from '../core/toolsets.ts';
import { generateCompose } from './compose.ts';
import type { AnyPrompt, CataloguedPrompt } from './define.ts';
import { debugNetworking } from './networking.ts';
import { optimizeContainer } from './optimize.ts';
import { securityAudit } from './security.ts';
import { troubleshootContainer } from './troubleshoot.ts';

const inToolset = (toolset: Toolset, uses: readonly string[], p: AnyPrompt): CataloguedPrompt => ({
  ...p,
  toolset,
  uses,
});

export const prompts: readonly CataloguedPrompt[] = [
  inToolset(
    'networks',
    ['docker_inspect_container', 'docker_inspect_network', 'docker_container_logs'],
    debugNetworking,
  ),
  inToolset(
    'containers',
    ['docker_list_containers', 'docker_inspect_container', 'docker_inspect_image'],
    generateCompose,
  ),
  inToolset(
    'containers',
    ['docker_inspect_container', 'docker_container_stats', 'docker_inspect_image'],
    optimizeContainer,
  ),
  inToolset('containers', ['docker_list_containers', 'docker_inspect_container'], securityAudit),
  inToolset('containers', ['docker_inspect_container', 'docker_container_logs'], troubleshootContainer),
].sort((a, b) => a.name.localeCompare(b.name));
