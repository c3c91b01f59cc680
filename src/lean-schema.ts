/**
 * The model-facing copy of an input schema. Every byte of tools/list is read by the model on every
 * turn, so the listed schema keeps what a model acts on — types, enums, defaults, required and
 * descriptions — and drops constraints the pipeline enforces anyway (patterns, lengths, ranges).
 * A call that breaks one of those still gets a clear error naming the field, from validate.ts.
 * The top-level `additionalProperties: false` goes too (~28 B a tool): validate.ts still refuses an
 * unknown argument by name, and models pass only the properties they are shown. So do plain-string
 * element schemas (`items` / `additionalProperties` of `{"type":"string"}`, 20 places): labels, build
 * args, capabilities and argv are strings to any reader, and a wrong type is refused naming the field.
 */

type Json = Record<string, unknown>;

const NESTED = ['items', 'additionalProperties', 'patternProperties', 'properties', 'required'];

const ENFORCED_ONLY = new Set([
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'propertyNames',
  'format',
  // Wording for validation errors only (validate.ts); the model reads the description.
  'expects',
]);

/** `{"type":"string"}` and nothing the model reads besides (constraints are dropped anyway). */
const isPlainString = (v: unknown) => {
  if (!v || typeof v !== 'object') return false;
  const kept = Object.keys(v as Json).filter((k) => !ENFORCED_ONLY.has(k));
  return kept.length === 1 && (v as Json).type === 'string';
};

function lean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(lean);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  const shapeInExample = 'x-shape-in-example' in (node as Json);
  for (const [k, v] of Object.entries(node as Json)) {
    if (ENFORCED_ONLY.has(k) || k === 'x-shape-in-example') continue;
    if (shapeInExample && NESTED.includes(k)) continue;
    if ((k === 'items' || k === 'additionalProperties') && isPlainString(v)) continue;
    if (k === 'patternProperties') {
      // TypeBox writes a string-keyed record as patternProperties {"^.*$": X}; additionalProperties
      // says the same in fewer bytes and every client reads it.
      const [only] = Object.values(v as Json);
      if (only !== undefined && !isPlainString(only)) out.additionalProperties = lean(only);
      continue;
    }
    if (k === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(v as Json)
          .filter(([, s]) => !(s && typeof s === 'object' && 'x-unlisted' in s))
          .map(([p, s]) => [p, lean(s)]),
      );
      continue;
    }
    out[k] = lean(v);
  }
  return out;
}

/** A deep copy of `schema` without the constraints the server checks itself. */
export function leanSchema<T>(schema: T): T {
  const out = lean(JSON.parse(JSON.stringify(schema))) as Json;
  if (out.additionalProperties === false) delete out.additionalProperties;
  return out as T;
}
