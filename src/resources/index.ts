/**
 * The resource catalogue: fixed URIs and URI templates, sorted by name so listings are deterministic.
 * Each resource's toolset and the tools whose data it shows (`uses`) are set here: it is listed and
 * read only when its toolset is on and each of those tools passes the caller's gate.
 */
import type { Toolset } from '../core/toolsets.ts';
import { containerList } from './containers.ts';
import { dashboardView } from './dashboard/index.ts';
import type { AnyResource, CataloguedResource } from './define.ts';
import { containerLogs } from './logs.ts';
import { containerStats } from './stats.ts';

const inToolset = (toolset: Toolset, uses: readonly string[], r: AnyResource): CataloguedResource => ({
  ...r,
  toolset,
  uses,
});

export const resources: readonly CataloguedResource[] = [
  inToolset('containers', ['docker_list_containers'], containerList),
  inToolset('containers', ['docker_container_logs'], containerLogs),
  inToolset('containers', ['docker_container_stats'], containerStats),
  // The view of docker_dashboard: served exactly when the tool is listed.
  inToolset('system', ['docker_dashboard'], dashboardView),
].sort((a, b) => a.name.localeCompare(b.name));
