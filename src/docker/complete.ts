/** Completion of arguments that name containers, shared by prompts and resource templates. */
import type Dockerode from 'dockerode';
import type { CompleteKind } from '../core/content.ts';
import { listedName, shortId } from './names.ts';

/** The protocol's cap on completion values. */
export const MAX_COMPLETIONS = 100;

export type Completion = {
  values: string[];
  total: number;
  hasMore: boolean;
};

/**
 * Container names starting with `value` (case-insensitive), sorted; a hex prefix also matches IDs,
 * answered as short IDs. Names the engine reports once per container, without the leading '/'.
 */
export async function completeContainers(
  docker: Dockerode,
  kind: CompleteKind,
  value: string,
  signal: AbortSignal,
): Promise<Completion> {
  const cut = kind === 'container_list' ? value.lastIndexOf(',') + 1 : 0;
  const before = value.slice(0, cut);
  const prefix = value.slice(cut).trim().toLowerCase();
  const taken = new Set(
    before
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const rows = await docker.listContainers({ all: kind !== 'running_container', abortSignal: signal });
  const matches = new Set<string>();
  for (const c of rows) {
    const name = listedName(c);
    if (name !== '' && name.toLowerCase().startsWith(prefix)) matches.add(name);
    else if (prefix.length >= 2 && /^[0-9a-f]+$/.test(prefix) && c.Id.startsWith(prefix))
      matches.add(shortId(c.Id));
  }
  const all = [...matches]
    .filter((m) => !taken.has(m))
    .sort()
    .map((m) => before + m);
  return { values: all.slice(0, MAX_COMPLETIONS), total: all.length, hasMore: all.length > MAX_COMPLETIONS };
}

/** Names from a fixed list (the engines a caller may use) starting with `value`, case-insensitive, in order. */
export function completeNames(names: readonly string[], value: string): Completion {
  const prefix = value.trim().toLowerCase();
  const all = names.filter((n) => n.toLowerCase().startsWith(prefix));
  return { values: all.slice(0, MAX_COMPLETIONS), total: all.length, hasMore: all.length > MAX_COMPLETIONS };
}
