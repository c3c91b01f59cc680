/**
 * The binary builds schemas with packaging/schema-literals.ts where src/ imports TypeBox's `Type`
 * (build.ts's schemaLiterals plugin). These tests bundle every module of ours that imports `Type` with
 * that plugin, load the bundle in a process of its own (as the binary would: a module that calls a part
 * of `Type` the literals build differently fails to load), and hold each export's shape to the same
 * module's loaded from source with TypeBox: the same keys in the same order, the same hidden markers,
 * the same values, all the way down. Schemas built inside functions are covered by a property test
 * over random mixes of the builders and their options.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import Type from 'typebox';
import { schemaLiterals } from '../../build.ts';
import Literals from '../../packaging/schema-literals.ts';
import { fcParams } from '../helpers/fuzz.ts';
import { sourceFiles } from '../helpers/source-files.ts';

const SRC = resolve(import.meta.dir, '../../src');

/**
 * A value as data: each object as its own keys in order, with their enumerability, all the way down
 * (functions and getters by name only). Plain JavaScript: it is also written into the bundle's runner.
 */
function shape(x: unknown, seen: Map<object, number> = new Map()): unknown {
  if (typeof x === 'function') return '[function]';
  if (x === undefined) return '[undefined]';
  if (x === null || typeof x !== 'object') return x;
  const at = seen.get(x);
  if (at !== undefined) return `[seen ${at}]`;
  seen.set(x, seen.size);
  if (x instanceof RegExp || x instanceof Map || x instanceof Set)
    return `[${x.constructor.name} ${String(x)}]`;
  return Reflect.ownKeys(x).map((k) => {
    const d = Object.getOwnPropertyDescriptor(x, k) as PropertyDescriptor;
    return [String(k), d.enumerable, 'get' in d ? '[getter]' : shape(d.value, seen)];
  });
}

/** A tree of builder calls, run against TypeBox's Type and against the literals. */
type Recipe =
  | { k: 'String' | 'Integer' | 'Number' | 'Boolean' | 'Null' | 'Unknown'; o?: Record<string, unknown> }
  | { k: 'Literal'; v: string | number | boolean; o?: Record<string, unknown> }
  | { k: 'Enum'; v: string[]; o?: Record<string, unknown> }
  | { k: 'Union'; of: Recipe[]; o?: Record<string, unknown> }
  | { k: 'Array'; of: Recipe; o?: Record<string, unknown> }
  | { k: 'Object'; props: [string, Recipe][]; o?: Record<string, unknown> }
  | { k: 'Record'; key: Recipe; of: Recipe; o?: Record<string, unknown> }
  | { k: 'Optional' | 'Unsafe'; of: Recipe };
type Builders = Record<string, (...a: unknown[]) => Record<string, unknown>>;

function build(r: Recipe, T: Builders): Record<string, unknown> {
  const b = (x: Recipe) => build(x, T);
  const call = (name: string, ...a: unknown[]) => (T[name] as Builders[string])(...a);
  switch (r.k) {
    case 'Literal':
    case 'Enum':
      return call(r.k, r.v, r.o);
    case 'Union':
      return call('Union', r.of.map(b), r.o);
    case 'Array':
      return call('Array', b(r.of), r.o);
    case 'Object':
      return call('Object', Object.fromEntries(r.props.map(([n, x]) => [n, b(x)])), r.o);
    case 'Record':
      return call('Record', b(r.key), b(r.of), r.o);
    case 'Optional':
      return call('Optional', b(r.of));
    case 'Unsafe':
      return call('Unsafe', { ...b(r.of), expects: 'x' });
    default:
      return call(r.k, r.o);
  }
}

const options = fc.option(
  fc.record(
    {
      description: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
      minLength: fc.nat(4),
      maxLength: fc.nat(64),
      pattern: fc.constantFrom('^a', '^[a-z]+$'),
      default: fc.oneof(fc.string({ maxLength: 4 }), fc.integer()),
      additionalProperties: fc.boolean(),
      maxItems: fc.nat(9),
      expects: fc.constant('a name'),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);
const { recipe } = fc.letrec<{ recipe: Recipe; leaf: Recipe }>((tie) => ({
  leaf: fc.oneof(
    fc.record({
      k: fc.constantFrom('String', 'Integer', 'Number', 'Boolean', 'Null', 'Unknown'),
      o: options,
    }),
    fc.record({
      k: fc.constant('Literal'),
      v: fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean()),
      o: options,
    }),
    fc.record({
      k: fc.constant('Enum'),
      v: fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
      o: options,
    }),
  ) as fc.Arbitrary<Recipe>,
  recipe: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.record({ k: fc.constant('Union'), of: fc.array(tie('recipe'), { maxLength: 3 }), o: options }),
    fc.record({ k: fc.constant('Array'), of: tie('recipe'), o: options }),
    fc.record({
      k: fc.constant('Object'),
      props: fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), tie('recipe')), {
        maxLength: 4,
        selector: ([n]) => n,
      }),
      o: options,
    }),
    fc.record({
      k: fc.constant('Record'),
      key: fc.record({ k: fc.constant('String'), o: options }),
      of: tie('recipe'),
      o: options,
    }),
    fc.record({ k: fc.constantFrom('Optional', 'Unsafe'), of: tie('recipe') }),
  ) as fc.Arbitrary<Recipe>,
}));

/** Every file under src/ that imports TypeBox's `Type` as a value. */
const files = sourceFiles(SRC).filter((path) =>
  /^import Type\b.*from 'typebox';$/m.test(readFileSync(path, 'utf8')),
);
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
// The bundle runs in a process of its own and prints each module's exports as shapes.
const runner = join(dir, 'runner.js');
writeFileSync(
  runner,
  `import * as bundle from './entry.js';\nconst shape = ${shape.toString()};\n` +
    'const out = {};\nfor (const [m, ns] of Object.entries(bundle)) out[m] = Object.fromEntries(Object.keys(ns).map((k) => [k, shape(ns[k])]));\n' +
    'process.stdout.write(JSON.stringify(out));\n',
);
const ran = Bun.spawnSync([process.execPath, runner], { stdout: 'pipe', stderr: 'pipe' });
if (ran.exitCode !== 0) throw new Error(`the bundle with the schema literals failed to load: ${ran.stderr}`);
const bundled = JSON.parse(ran.stdout.toString()) as Record<string, Record<string, unknown>>;
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
      const fromSource = JSON.parse(
        JSON.stringify(Object.fromEntries(Object.keys(source).map((k) => [k, shape(source[k])]))),
      );
      expect(bundled[`m${i}`]).toEqual(fromSource);
    },
  );

  it('tell a difference: a marker, an option, a key order', () => {
    const schema = shape(
      Type.Object({ a: Type.String(), b: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
    );
    const L = Literals;
    const same = L.Object({ a: L.String(), b: L.Optional(L.Integer()) }, { additionalProperties: false });
    expect(shape(same)).toEqual(schema);
    expect(shape(L.Object({ a: L.String(), b: L.Integer() }, { additionalProperties: false }))).not.toEqual(
      schema,
    );
    expect(shape(L.Object({ a: L.String(), b: L.Optional(L.Integer()) }))).not.toEqual(schema);
    expect(
      shape(L.Object({ b: L.Optional(L.Integer()), a: L.String() }, { additionalProperties: false })),
    ).not.toEqual(schema);
    expect(shape({ ...same })).not.toEqual(schema);
  });

  it('build what TypeBox builds for any mix of the builders and options (a schema built in a function, too)', () => {
    fc.assert(
      fc.property(recipe, (r) => {
        expect(shape(build(r, Literals as unknown as Builders))).toEqual(
          shape(build(r, Type as unknown as Builders)),
        );
      }),
      fcParams(3000),
    );
  });

  it('refuse what they do not build the way TypeBox does', () => {
    expect(() => Literals.Record(Literals.Integer(), Literals.String())).toThrow(/TypeBox/);
    expect(() => Literals.Enum({ A: 'a' } as unknown as string[])).toThrow(/TypeBox/);
    expect(() => Literals.Literal(null)).toThrow(/Literal/);
  });
});
