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
