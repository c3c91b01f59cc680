/**
 * Tools loaded apart from the rest of their toolset. A session's first calls are mostly these read
 * views; loading the whole containers toolset for them also evaluates create, exec, files and their
 * helpers (container spec, tar, streams): ~1 MiB of peak RSS in a session that only lists and
 * inspects (bench/changes.md). Plain data, so the call path can read it without loading a tool.
 */
export const PART_OF: ReadonlyMap<string, string> = new Map([
  ['docker_list_containers', 'container-views'],
  ['docker_inspect_container', 'container-views'],
]);
