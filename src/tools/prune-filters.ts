/**
 * A prune's `filters` read as the engine's prune reads them, so a confirmed prune can list exactly what
 * it removes and remove only that: `label` (an object qualifies when every entry matches) and `label!`
 * (an object is spared when every entry matches), plus `until` where the prune takes it. Any other key is
 * refused before the user is asked anything or anything is removed.
 */
import { ToolError } from '../core/errors.ts';

type Filters = Record<string, string[]> | undefined;

/** Refuses a filter key the prune does not take, naming the argument and the keys it takes. */
export function checkPruneFilters(
  filters: Filters,
  accepted: readonly string[],
  hint?: Record<string, string>,
) {
  for (const [key, values] of Object.entries(filters ?? {})) {
    if (values.length === 0 || accepted.includes(key)) continue;
    throw new ToolError(
      'invalid_argument',
      `invalid argument 'filters': this prune takes no '${key}' filter`,
      {
        hint: hint?.[key] ?? `Use only ${accepted.join(', ')} in filters, e.g. {"label":["env=dev"]}.`,
      },
    );
  }
}

/** One `key` or `key=value` entry against an object's labels (the engine's MatchKVList, entry by entry). */
const matches = (labels: Record<string, string>, entry: string) => {
  const eq = entry.indexOf('=');
  const key = eq < 0 ? entry : entry.slice(0, eq);
  return Object.hasOwn(labels, key) && (eq < 0 || labels[key] === entry.slice(eq + 1));
};

/** Whether an object with `labels` passes the prune's label filters. */
export function labelsPass(labels: Record<string, string> | null | undefined, filters: Filters): boolean {
  const own = labels ?? {};
  const want = filters?.label ?? [];
  const not = filters?.['label!'] ?? [];
  return want.every((e) => matches(own, e)) && !(not.length > 0 && not.every((e) => matches(own, e)));
}
