/** Every tool the seed had (issues 2 and 3): issue 7's tool-list budget is stated over these 36. */
export const SEED_TOOLS: ReadonlySet<string> = new Set(
  `list_containers inspect_container create_container start_container stop_container restart_container
  remove_container container_logs exec_command container_stats list_images inspect_image pull_image
  build_image push_image tag_image remove_image prune_images image_history list_networks
  inspect_network create_network connect_container disconnect_container remove_network list_volumes
  inspect_volume create_volume remove_volume prune_volumes system_info system_df system_prune version
  events healthcheck`
    .split(/\s+/)
    .map((n) => `docker_${n}`),
);

/**
 * DECISIONS: create and run may grow to 2 KB each for Compose's options (issue 15), so issue 7's
 * budgets (350 B/tool over the core toolsets, the seed's 12 KB) count them at their size before that;
 * their growth is held by their own 2 KB cap and the default listing's 23 KB.
 */
export const BEFORE_COMPOSE_OPTIONS: Readonly<Record<string, number>> = {
  docker_create_container: 1412,
  docker_run_container: 1140,
};

/** A tool's listed bytes as issue 7's budgets count them. */
export const countedBytes = (name: string, bytes: number): number =>
  Math.min(bytes, BEFORE_COMPOSE_OPTIONS[name] ?? bytes);

/** The toolsets with budgets of their own (DECISIONS), by tool name; the rest are the core toolsets. */
export const budgetedToolset = (name: string): 'compose' | 'swarm' | undefined =>
  name.startsWith('docker_compose_')
    ? 'compose'
    : /^docker_(swarm|node|service|task|secret|config|stack)_/.test(name)
      ? 'swarm'
      : undefined;
