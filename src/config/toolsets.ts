/** `--toolsets default,swarm`: names and the keywords `default` and `all`, resolved to the toolsets switched on. */
import { DEFAULT_TOOLSETS, TOOLSETS, type Toolset } from '../core/toolsets.ts';

const KNOWN = `known: ${TOOLSETS.join(', ')}, or the keywords default (${DEFAULT_TOOLSETS.join(', ')}) and all`;

/**
 * The toolsets a list names, in catalogue order, each once. Throws a message naming the first unknown
 * name and listing the known ones; an empty list is refused too (it would switch every tool off).
 */
export function resolveToolsets(names: readonly string[]): Toolset[] {
  if (names.length === 0) throw new Error(`names no toolset (${KNOWN})`);
  const on = new Set<Toolset>();
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    if (name === 'all') for (const t of TOOLSETS) on.add(t);
    else if (name === 'default') for (const t of DEFAULT_TOOLSETS) on.add(t);
    else if ((TOOLSETS as readonly string[]).includes(name)) on.add(name as Toolset);
    else throw new Error(`unknown toolset '${raw}' (${KNOWN})`);
  }
  return TOOLSETS.filter((t) => on.has(t));
}
