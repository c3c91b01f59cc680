/**
 * The part of TypeBox's `Type` that tool, prompt and resource definitions use, building the same schema
 * objects without TypeBox's type engine. In the binary (build.ts) it stands in for `typebox` wherever the
 * code under src/ imports its default `Type`: a definition is then plain object literals, and a
 * session's first call no longer loads and runs TypeBox's instantiation engine (a 47 KB chunk, most of
 * it never needed for these shapes). Running from source keeps TypeBox; test/unit/schema-literals.test.ts
 * holds every schema in the catalogue built here to TypeBox's, hidden markers included.
 *
 * TypeBox marks a schema with hidden (non-enumerable) keys: `~kind` on each it makes, `~optional` on a
 * property's schema that may be missing, `~unsafe` on a schema taken as given. Options are spread after
 * the schema's own keys, as TypeBox does.
 */

type Schema = Record<string, unknown>;
type Options = Record<string, unknown> | undefined;

const hide = (schema: Schema, key: string, value: unknown): Schema => {
  Object.defineProperty(schema, key, { configurable: true, writable: true, enumerable: false, value });
  return schema;
};

/** A fresh schema of `kind`: its own keys, then the options. */
const make = (kind: string, own: Schema, options: Options): Schema =>
  hide({ ...own, ...options }, '~kind', kind);

/** A copy with every own key (hidden ones stay hidden) and `extra` added hidden, as TypeBox's Memory.Update. */
function withHidden(schema: Schema, extra: Schema, options: Options = {}): Schema {
  const copy: Schema = {};
  for (const key of Reflect.ownKeys(schema)) {
    if (typeof key !== 'string' || key in extra || key in options) continue;
    Object.defineProperty(copy, key, Object.getOwnPropertyDescriptor(schema, key) as PropertyDescriptor);
  }
  for (const [key, value] of Object.entries(extra)) hide(copy, key, value);
  for (const [key, value] of Object.entries(options)) copy[key] = value;
  return copy;
}

const literalType = (value: unknown): string => {
  const t = typeof value;
  if (t === 'bigint' || t === 'boolean' || t === 'number' || t === 'string') return t;
  throw new Error('Invalid Literal value');
};

/** The key pattern TypeBox gives `Record(String(), …)` when the key has no pattern: any key. */
const ANY_KEY = '^.*$';

const Type = {
  String: (options?: Options) => make('String', { type: 'string' }, options),
  Integer: (options?: Options) => make('Integer', { type: 'integer' }, options),
  Number: (options?: Options) => make('Number', { type: 'number' }, options),
  Boolean: (options?: Options) => make('Boolean', { type: 'boolean' }, options),
  Null: (options?: Options) => make('Null', { type: 'null' }, options),
  Unknown: (options?: Options) => make('Unknown', {}, options),
  Literal: (value: unknown, options?: Options) =>
    make('Literal', { type: literalType(value), const: value }, options),
  Enum: (values: unknown[], options?: Options) => {
    if (!Array.isArray(values)) throw new Error('schema literals: Enum of a TypeScript enum needs TypeBox');
    return make('Enum', { enum: values }, options);
  },
  Union: (anyOf: Schema[], options?: Options) => make('Union', { anyOf }, options),
  Array: (items: Schema, options?: Options) => make('Array', { type: 'array', items }, options),
  Object: (properties: Record<string, Schema>, options?: Options) => {
    const required = Object.keys(properties).filter((k) => !('~optional' in (properties[k] as Schema)));
    return make('Object', { type: 'object', ...(required.length > 0 && { required }), properties }, options);
  },
  Record: (key: Schema, value: Schema, options?: Options) => {
    if (key['~kind'] !== 'String')
      throw new Error('schema literals: Record keys other than String() need TypeBox');
    // As TypeBox: a String key's pattern becomes the property pattern; its other options are dropped.
    const { pattern } = key;
    const keys = typeof pattern === 'string' || pattern instanceof RegExp ? pattern.toString() : ANY_KEY;
    return withHidden(
      make('Record', { type: 'object', patternProperties: { [keys]: value } }, {}),
      {},
      options,
    );
  },
  Optional: (schema: Schema) => withHidden(schema, { '~optional': true }),
  Unsafe: (schema: Schema) => withHidden(schema, { '~unsafe': null }),
};

export default Type;
export { Type };
