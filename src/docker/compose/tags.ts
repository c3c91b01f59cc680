/**
 * Compose v2's merge tags: `!reset` drops what the files before said of a key (`ports: !reset []`),
 * `!override` replaces it whole instead of merging (`environment: !override {C: "3"}`). Read on a
 * service's keys, and on entries of its mappings (`environment: {FOO: !reset null}`); anywhere else
 * they are refused, never ignored (ignoring `!reset` would leave a port published).
 */
import { type Document, isMap, isScalar, isSeq, parse, Scalar } from 'yaml';
import { ToolError } from '../../core/errors.ts';
import type { Obj } from './normalise.ts';

export type MergeTag = 'reset' | 'override';
/** A tagged key path inside a service (`['ports']`, `['environment', 'FOO']`). */
export interface Tagged {
  path: string[];
  tag: MergeTag;
}
/** Per service of one file, its tagged keys. */
export type ServiceTags = Record<string, Tagged[]>;

const TAGS: Record<string, MergeTag> = { '!reset': 'reset', '!override': 'override' };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Finds the merge tags of a parsed file and clears them from its nodes, so the document reads as if
 * untagged; the `!reset` keys are then dropped from its JS value by `dropResets`.
 */
export function takeMergeTags(doc: Document, file: string): ServiceTags {
  const out: ServiceTags = {};
  const walk = (node: unknown, keys: string[]) => {
    const tag = (node as { tag?: string } | null)?.tag;
    if (tag !== undefined && TAGS[tag]) {
      const within = keys[0] === 'services' && keys.length >= 3 && keys.every((k) => !/^\[\d+\]$/.test(k));
      if (!within)
        throw new ToolError(
          'invalid_argument',
          `${file}: ${keys.join('.') || 'the top level'}: ${tag} is read only on a service's keys (services.NAME.KEY) and their mapping entries`,
          { hint: 'Move the tag to a key of the service, or write the merged value out in full.' },
        );
      const service = keys[1] as string;
      out[service] = [...(out[service] ?? []), { path: keys.slice(2), tag: TAGS[tag] as MergeTag }];
      (node as { tag?: string }).tag = undefined;
      // An untagged plain scalar (`!override 5`) reads as YAML would have read it: a number, not "5".
      if (isScalar(node) && node.type === Scalar.PLAIN && typeof node.source === 'string')
        node.value = parse(node.source);
    }
    if (isMap(node))
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        walk(pair.value, [...keys, k]);
      }
    else if (isSeq(node)) for (const [i, item] of node.items.entries()) walk(item, [...keys, `[${i}]`]);
  };
  walk(doc.contents, []);
  return out;
}

/** The file's own value with its `!reset` keys removed (a reset key says nothing of its own). */
export function dropResets(doc: Obj, tags: ServiceTags): void {
  for (const [service, list] of Object.entries(tags))
    for (const t of list)
      if (t.tag === 'reset') removeAt((doc.services as Obj | undefined)?.[service], t.path);
}

/** `base` (what the files before said of a service) without what `tags` reset or override. */
export function withoutTagged(base: Obj, tags: Tagged[] | undefined): Obj {
  if (!tags?.length) return base;
  const out = structuredClone(base);
  for (const t of tags) removeAt(out, t.path);
  return out;
}

function removeAt(v: unknown, path: string[]): void {
  let at = v;
  for (const k of path.slice(0, -1)) at = isObj(at) ? at[k] : undefined;
  if (isObj(at)) delete at[path[path.length - 1] as string];
  // A key read as a list (extra_hosts, ports…) has no entry by name: saying nothing would ignore the tag.
  else if (at !== undefined)
    throw new ToolError(
      'invalid_argument',
      `${path.slice(0, -1).join('.')} is a list here: a merge tag cannot pick one of its entries by name`,
      { hint: `Tag the whole key (${path[0]}: !override [...]) instead.` },
    );
}
