/**
 * A request body's fields as the engine reads them. Go's encoding/json matches a JSON key to a struct
 * field without regard to case, by Unicode simple folding ('ſ' is an 's', the Kelvin sign a 'k'), and
 * of two keys that match one field the later wins: `{"Privileged": false, "privileged": true}` makes a
 * privileged container. The guard reads every field this way, and refuses an object that spells one
 * field twice rather than guess which spelling the engine keeps.
 */
import { ToolError } from '../../core/errors.ts';

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A field that should be an array, as one (empty when it is not). */
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A key as Go compares it with an ASCII field name. */
const folded = (k: string): string => k.replace(/\u017f/g, 's').toLowerCase();

/**
 * The value the engine reads for the field `name` of the struct `o` (undefined when unset). `at`
 * names `o` in a refusal.
 */
export function field(o: unknown, name: string, at: string): unknown {
  if (!isObj(o)) return undefined;
  const want = name.toLowerCase();
  let found: string | undefined;
  for (const k of Object.keys(o)) {
    // Every spelling that folds to an ASCII name has its length (ſ and K are one unit, as s and k).
    if (k.length !== name.length || folded(k) !== want) continue;
    if (found !== undefined)
      throw new ToolError(
        'invalid_argument',
        `${at}: '${found}' and '${k}' are one field to the engine (${name}), which would keep the last`,
        { hint: `Send ${name} once, spelled as the Engine API spells it.` },
      );
    found = k;
  }
  return found === undefined ? undefined : o[found];
}
