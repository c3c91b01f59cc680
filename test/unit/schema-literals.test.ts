/**
 * The binary builds schemas with packaging/schema-literals.ts where src/ imports TypeBox's `Type`
 * (build.ts's schemaLiterals plugin). These tests bundle every module of ours that imports `Type` with
 * that plugin, load the bundle, and hold each export to the same module loaded from source with TypeBox:
 * the same keys in the same order, the same hidden markers, the same values, all the way down. A module
 * that calls a part of `Type` the literals lack fails to load here, as it would in the binary.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Type from 'typebox';
import { schemaLiterals } from '../../build.ts';
import Literals from '../../packaging/schema-literals.ts';

const SRC = resolve(import.meta.dir, '../../src');

/** Every file under src/ that imports TypeBox's `Type` as a value. */
function typeImporters(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return typeImporters(path);
    return /\.ts$/.test(name) && /^import Type\b.*from 'typebox';$/m.test(readFileSync(path, 'utf8'))
      ? [path]
      : [];
  });
}

/** Where `a` and `b` first differ (own keys in order, enumerability, values), or undefined. */
function difference(
  a: unknown,
  b: unknown,
  path: string,
  seen = new WeakMap<object, unknown>(),
): string | undefined {
  if (typeof a !== typeof b) return `${path}: ${typeof a} against ${typeof b}`;
  if (typeof a === 'function') return undefined;
  if (a === null || typeof a !== 'object' || b === null)
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} against ${String(b)}`;
  if (seen.get(a) === b) return undefined;
  seen.set(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array against not`;
  if (a instanceof RegExp || a instanceof Map || a instanceof Set)
    return String(a) === String(b) ? undefined : `${path}: ${String(a)} against ${String(b)}`;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b as object);
  if (ka.join() !== kb.join())
    return `${path}: keys ${ka.map(String).join(',')} against ${kb.map(String).join(',')}`;
  for (const k of ka) {
    const da = Object.getOwnPropertyDescriptor(a, k) as PropertyDescriptor;
    const db = Object.getOwnPropertyDescriptor(b, k) as PropertyDescriptor;
    const at = `${path}.${String(k)}`;
    if (da.enumerable !== db.enumerable) return `${at}: enumerable ${da.enumerable} against ${db.enumerable}`;
    if ('get' in da || 'get' in db) continue;
    const d = difference(da.value, db.value, at, seen);
    if (d) return d;
  }
  return undefined;
}

const files = typeImporters();
const dir = mkdtempSync(join(tmpdir(), 'mcp-schema-literals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const entry = join(dir, 'entry.ts');
writeFileSync(entry, files.map((f, i) => `export * as m${i} from ${JSON.stringify(f)};`).join('\n'));
const built = await Bun.build({
  entrypoints: [entry],
  outdir: dir,
  target: 'bun',
  format: 'esm',
  external: ['cpu-features'],
  plugins: [schemaLiterals()],
});
if (!built.success) throw new AggregateError(built.logs, 'bundling with the schema literals failed');
const bundle = (await import(join(dir, 'entry.js'))) as Record<string, Record<string, unknown>>;
const bundleText = readFileSync(join(dir, 'entry.js'), 'utf8');

describe('schema literals in the binary', () => {
  it('cover the modules that build schemas', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(files).toContain(join(SRC, 'tools/containers/inspect.ts'));
    expect(files).toContain(join(SRC, 'config/schema.ts'));
    // The bundle holds the literals, not TypeBox's `Type` (the module src/ imports).
    expect(bundleText).toContain('// packaging/schema-literals.ts');
    expect(bundleText).not.toContain('// node_modules/typebox/build/typebox.mjs');
  });

  it.each(files.map((f, i) => [f.slice(SRC.length + 1), i] as const))(
    '%s: every export is what TypeBox builds from source',
    async (_name, i) => {
      const source = (await import(files[i] as string)) as Record<string, unknown>;
      const literal = bundle[`m${i}`] as Record<string, unknown>;
      expect(Object.keys(literal).sort()).toEqual(Object.keys(source).sort());
      for (const k of Object.keys(source)) expect(difference(literal[k], source[k], k)).toBeUndefined();
    },
  );

  it('catch a difference: a marker, an option, a key order', () => {
    const schema = Type.Object(
      { a: Type.String(), b: Type.Optional(Type.Integer()) },
      { additionalProperties: false },
    );
    expect(
      difference(
        Literals.Object(
          { a: Literals.String(), b: Literals.Optional(Literals.Integer()) },
          { additionalProperties: false },
        ),
        schema,
        's',
      ),
    ).toBeUndefined();
    expect(
      difference(
        Literals.Object({ a: Literals.String(), b: Literals.Integer() }, { additionalProperties: false }),
        schema,
        's',
      ),
    ).toContain('required');
    expect(
      difference(
        Literals.Object({ a: Literals.String(), b: Literals.Optional(Literals.Integer()) }),
        schema,
        's',
      ),
    ).toBeDefined();
    expect(
      difference(
        Literals.Object(
          { b: Literals.Optional(Literals.Integer()), a: Literals.String() },
          { additionalProperties: false },
        ),
        schema,
        's',
      ),
    ).toContain('keys');
    expect(difference({ ...schema }, schema, 's')).toContain('keys');
  });

  it('refuse what they do not build the way TypeBox does', () => {
    expect(() => Literals.Record(Literals.String({ pattern: '^a' }), Literals.String())).toThrow(/TypeBox/);
    expect(() => Literals.Enum({ A: 'a' } as unknown as string[])).toThrow(/TypeBox/);
    expect(() => Literals.Literal(null)).toThrow(/Literal/);
  });
});
