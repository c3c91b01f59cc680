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

/**
 * The listed copy of an output schema (the default, `--output-schemas lean`): what a client checks — the
 * result is a JSON object — and no second copy of the result's documentation. Clients compile each
 * distinct listed output schema into a validator when they list tools, in every session: the v1 SDK
 * client spends ~0.2 ms a schema warm and ~1 ms in a fresh process, whatever its size (measured: 52
 * tools listing their required fields, 38 distinct schemas, 8.5 ms warm; one shared schema, 1.5 ms).
 * So every tool lists the same `{"type":"object"}`, shared by one `$id` (nameSharedOutputs) and
 * compiled once. The result's text, the tool's description and `--output-schemas full` (the declared
 * schemas, every field described) say what a result holds; tests check every result against its full
 * declared schema.
 */
export function leanOutputSchema(): Json {
  return { type: 'object' };
}

/**
 * Names each output schema that more than one listed tool shares with an `$id` made from its content
 * (a copy of each such tool; the others are returned as they are). Clients compile a schema with an
 * `$id` once and reuse the validator for every tool that lists the same `$id` (both SDK client
 * generations look the `$id` up before compiling): by default every tool lists the same schema and the
 * client compiles one, not 52; in full, seven tools answering a container's state share one. Made from
 * the content (a CRC-32: a few dozen schemas, and short, since every listing carries it once a tool),
 * the same `$id` always names the same schema, whichever server or version lists it.
 */
export function nameSharedOutputs<T extends { outputSchema: Json }>(tools: readonly T[]): T[] {
  const keys = tools.map((t) => JSON.stringify(t.outputSchema));
  const count = new Map<string, number>();
  for (const k of keys) count.set(k, (count.get(k) ?? 0) + 1);
  return tools.map((t, i) => {
    const key = keys[i] as string;
    if ((count.get(key) ?? 0) < 2) return t;
    return {
      ...t,
      outputSchema: { $id: `urn:mcp-docker:${Bun.hash.crc32(key).toString(36)}`, ...t.outputSchema },
    };
  });
}
