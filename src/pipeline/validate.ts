import type { TObject } from 'typebox';
import type { TLocalizedValidationError } from 'typebox/error';
import { Guard } from 'typebox/guard';
import { setOwn } from '../core/copy-on-change.ts';
import { ToolError } from '../core/errors.ts';
import { isSecretName } from '../core/redact.ts';
import { prebuiltCheck } from './checks.ts';

/**
 * What validating one schema takes: its check, and Value.Default when any property declares a default.
 * TypeBox's compiler and value modules are loaded only when needed (a schema without a prebuilt check,
 * a default to fill, an error to describe): a session of reads that pass never loads them.
 */
interface Validation {
  check: (value: unknown) => boolean;
  fill?: (schema: TObject, value: unknown) => unknown;
}
const ready = new WeakMap<TObject, Validation>();
const loading = new WeakMap<TObject, Promise<Validation>>();

async function make(name: string | undefined, schema: TObject): Promise<Validation> {
  const fill = declaresDefault(schema) ? (await import('typebox/value')).Value.Default : undefined;
  const factory = name === undefined ? undefined : await prebuiltCheck?.(name, schema);
  if (factory) return { check: factory(Guard), fill };
  const validator = (await import('typebox/compile')).Compile(schema);
  return { check: (value) => validator.Check(value), fill };
}

/** The schema's validation, made once per schema on its first use (from source: compiled then). */
function validation(name: string | undefined, schema: TObject): Validation | Promise<Validation> {
  const done = ready.get(schema);
  if (done) return done;
  let made = loading.get(schema);
  if (!made) {
    made = make(name, schema).then((v) => {
      ready.set(schema, v);
      return v;
    });
    loading.set(schema, made);
  }
  return made;
}

const declaresDefault = (node: unknown): boolean =>
  typeof node === 'object' &&
  node !== null &&
  (Object.hasOwn(node, 'default') || Object.values(node).some(declaresDefault));

/**
 * Checks arguments against a tool's input schema and fills defaults. The error names the field,
 * what was wrong, and for unknown fields the ones the tool takes. `name` (the tool's) finds the check
 * made at build time. Answers at once when the schema's check is loaded and the arguments pass; a
 * promise otherwise (the first use of a schema, an error to describe).
 */
export function validateArgs(
  schema: TObject,
  raw: unknown,
  name?: string,
): Record<string, unknown> | Promise<Record<string, unknown>> {
  const v = validation(name, schema);
  return v instanceof Promise ? v.then((w) => checked(w, schema, raw)) : checked(v, schema, raw);
}

function checked(
  { check, fill }: Validation,
  schema: TObject,
  raw: unknown,
): Record<string, unknown> | Promise<never> {
  const args = raw ?? {};
  if (!check(args)) return invalid(schema, args);
  let copy: Record<string, unknown>;
  try {
    copy = cloneJson(args) as Record<string, unknown>;
  } catch (e) {
    if (e !== MALFORMED) throw e;
    // JSON can carry a lone surrogate ("\ud800"); no engine request can (URLs and bodies are UTF-8).
    throw new ToolError(
      'invalid_argument',
      `invalid argument '${shown(malformedAt(args))}': is not valid Unicode`,
      {
        hint: 'Send the text as valid UTF-8: it holds a lone surrogate (half of a UTF-16 pair).',
      },
    );
  }
  return fill ? (fill(schema, copy) as Record<string, unknown>) : copy;
}

async function invalid(schema: TObject, args: unknown): Promise<never> {
  const { Value } = await import('typebox/value');
  throw new ToolError('invalid_argument', describe(schema, args, [...Value.Errors(schema, args)]), {
    hint: 'Fix the argument and call again.',
  });
}

/**
 * A copy for Value.Default to fill in, so the caller's object is never changed. Arguments come
 * from JSON, so plain objects, arrays and primitives are all there is; structuredClone goes
 * through the serializer for every type (the larger cost in a CPU profile of a stream of calls).
 */
function cloneJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneJson);
  if (typeof v === 'string') {
    if (!v.isWellFormed()) throw MALFORMED;
    return v;
  }
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    if (!k.isWellFormed()) throw MALFORMED;
    // JSON.parse makes "__proto__" an own key; setOwn keeps it one.
    setOwn(out, k, cloneJson((v as Record<string, unknown>)[k]));
  }
  return out;
}

const MALFORMED = Symbol('malformed');

/** The path of the first string (value or key) that is not well-formed UTF-16. */
function malformedAt(v: unknown, path: string[] = []): string[] {
  if (typeof v === 'string') return path;
  if (v === null || typeof v !== 'object') return [];
  for (const [k, x] of Object.entries(v)) {
    if (!k.isWellFormed()) return [...path, k.toWellFormed()];
    const at = malformedAt(x, [...path, k]);
    if (at.length > 0 || (typeof x === 'string' && !x.isWellFormed())) return at;
  }
  return [];
}

/** A JSON Pointer's segments, unescaped: `/volumes/~1src/bind` → volumes, /src, bind. */
const segments = (pointer: string): string[] =>
  pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));

/**
 * A path as the message shows it: a map key is the caller's, of any length, so a long one is cut,
 * and one holding control characters (a newline) is shown escaped, as JSON writes it.
 */
const shown = (parts: string[]): string =>
  parts.map((p) => cut(CONTROL.test(p) ? JSON.stringify(p).slice(1, -1) : p)).join('.');

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function describe(schema: TObject, args: unknown, all: TLocalizedValidationError[]): string {
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    return 'arguments must be a JSON object';
  const known = Object.keys(schema.properties);
  const unknown = Object.keys(args).filter((k) => !known.includes(k));
  if (unknown.length > 0 && (schema as { additionalProperties?: unknown }).additionalProperties === false)
    return `unknown argument '${unknown[0]}'; this tool takes: ${known.join(', ') || 'no arguments'}`;
  // A closed nested object with a key it does not take at all: name the object and the key. (A record
  // reports its own key as 'additional' when the key's value is wrong; that value's error says more.)
  const closed = all.find(
    (e) =>
      e.keyword === 'additionalProperties' &&
      e.instancePath !== '' &&
      !all.some((o) => o.keyword !== 'boolean' && o.instancePath.startsWith(`${e.instancePath}/`)),
  );
  const extraKeys = (closed?.params as { additionalProperties?: string[] } | undefined)?.additionalProperties;
  if (closed && extraKeys?.[0] !== undefined) {
    const parts = segments(closed.instancePath);
    return `invalid argument '${shown(parts)}': unknown key ${preview(extraKeys[0])}${takes(schema, parts)}`;
  }
  const errors = all.filter((e) => e.keyword !== 'boolean');
  // Of alternatives (anyOf), the one of the value's type says what is wrong ('images.0': too long); the
  // others' "must be string" and the summary say nothing. When no alternative has the type, keep those.
  const telling = errors.filter(
    (e) => e.keyword !== 'anyOf' && !(e.keyword === 'type' && /\/anyOf\/\d+$/.test(e.schemaPath)),
  );
  const pool = telling.length > 0 ? telling : errors;
  const err = pool.find((e) => e.instancePath !== '') ?? pool[0];
  if (!err) {
    // Only "schema is false" errors: keys a closed object does not take. Name the object and the key.
    const extra = all.find((e) => e.keyword === 'boolean' && e.instancePath !== '');
    if (!extra) return 'arguments do not match the schema';
    const parts = segments(extra.instancePath);
    const key = parts.pop() ?? '';
    return `invalid argument '${shown(parts) || 'arguments'}': unknown key ${preview(key)}${takes(schema, parts)}`;
  }
  if (err.keyword === 'required') {
    const missing = (err.params as { requiredProperties?: string[] }).requiredProperties ?? [];
    // Inside a nested value, name the full path (volumes./src.bind), not just the leaf key.
    const at = shown(segments(err.instancePath));
    const paths = missing.map((m) => (at ? `${at}.${m}` : m));
    return `missing required argument '${paths.join("', '")}'`;
  }
  const path = segments(err.instancePath);
  const field = shown(path) || 'arguments';
  // A map key that breaks its rule (propertyNames) is named in the path; its value is not at fault.
  const onKey = err.schemaPath.endsWith('/propertyNames');
  // A credential (auth.password, a *_TOKEN key) is never quoted back, not even its first characters.
  const got = onKey || path.some(isSecretName) ? undefined : valueAt(args, path);
  // A regex means nothing to a model: say what is expected in words (`expects`, never listed, or the
  // description), and never print the pattern itself.
  type Described = { expects?: string; description?: string; propertyNames?: { expects?: string } };
  const props = schema.properties as Record<string, Described | undefined>;
  // A key's rule says in words what a key may hold (propertyNames.expects); the map's description
  // describes its values, not its keys.
  const expected = onKey
    ? props[path.slice(0, -1).join('.')]?.propertyNames?.expects
    : (props[path.join('.')]?.expects ?? props[path.join('.')]?.description);
  const message =
    err.keyword === 'pattern'
      ? `has characters or a shape not allowed here${expected ? ` (expected: ${expected})` : ''}`
      : err.keyword === 'type' && expected
        ? `${err.message} (expected: ${expected})`
        : // TypeBox lists the offending keys themselves, whatever their length.
          err.keyword === 'propertyNames'
          ? 'has a key not allowed here'
          : err.message;
  return `invalid argument '${field}': ${onKey ? 'the key ' : ''}${message}${got === undefined ? '' : `, got ${preview(got)}`}`;
}

/** "; it takes: a, b" for the object at `path` in the schema (its own properties), or nothing. */
function takes(schema: TObject, path: string[]): string {
  let node: unknown = schema;
  for (const p of path)
    node = (node as { properties?: Record<string, unknown> } | undefined)?.properties?.[p];
  const keys = Object.keys((node as { properties?: object } | undefined)?.properties ?? {});
  return keys.length > 0 ? `; it takes: ${keys.join(', ')}` : '';
}

const valueAt = (root: unknown, path: string[]): unknown =>
  path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
    root,
  );

const cut = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
const preview = (v: unknown): string => cut(JSON.stringify(v) ?? String(v));

/**
 * How deep tool arguments may nest. No tool's schema goes past a handful of levels; deeper JSON would
 * only exhaust the stack of the recursive steps (masking, the gate, validation) that walk it.
 */
export const MAX_ARG_DEPTH = 64;

/** Whether `value` nests objects or arrays deeper than `max` levels; iterative, stops at the first. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: [object, number][] = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, depth] = next;
    if (depth > max) return true;
    for (const child of Object.values(node))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** The argument of `args` that nests deeper than MAX_ARG_DEPTH levels (the arguments object is the first), if any. */
export function tooDeepArgument(args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  for (const [name, value] of Object.entries(args))
    if (nestsDeeperThan(value, MAX_ARG_DEPTH - 1)) return name;
  return undefined;
}

export const tooDeep = (name: string) =>
  new ToolError(
    'invalid_argument',
    `invalid argument '${name}': it nests deeper than ${MAX_ARG_DEPTH} levels (the limit)`,
    { hint: 'Send the arguments the tool schema describes; none nests that deep.' },
  );
