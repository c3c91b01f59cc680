/**
 * The binary checks tool arguments and config values with code written at build time
 * (packaging/input-checks.ts) instead of compiling each schema when first used. These tests load the
 * modules the build writes and hold each check to TypeBox's own (Compile, Value.Check) on valid,
 * invalid and random values, so the prebuilt checks decide exactly as the source does.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Guard } from 'typebox/guard';
import { Value } from 'typebox/value';
import {
  checkFactory,
  configCheckModule,
  GROUP_PREFIX,
  inputCheckModules,
} from '../../packaging/input-checks.ts';
import { FIELDS } from '../../src/config/fields.ts';
import type { CheckFactory } from '../../src/pipeline/checks.ts';
import { catalogue } from '../../src/tools/index.ts';
import { PART_OF } from '../../src/tools/parts.ts';
import { fcParams } from '../helpers/fuzz.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcp-input-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The modules as the bundler gets them, written out, the group imports pointing at those files. */
const modules = inputCheckModules(catalogue, PART_OF);
for (const [group, code] of Object.entries(modules.groups)) writeFileSync(join(dir, `${group}.js`), code);
const indexFile = join(dir, 'index.js');
writeFileSync(
  indexFile,
  modules.index
    .replaceAll(`import("${GROUP_PREFIX}`, `import("./`)
    .replace(/import\("\.\/([^"]+)"\)/g, 'import("./$1.js")'),
);
const configFile = join(dir, 'config.js');
// The module imports TypeBox's Guard by package name: point it at the package from here.
writeFileSync(
  configFile,
  configCheckModule(FIELDS).replace(
    "'typebox/guard'",
    JSON.stringify(Bun.resolveSync('typebox/guard', import.meta.dir)),
  ),
);

const factoryOf = (name: string, schema: TSchema): ReturnType<CheckFactory> =>
  (new Function(`return ${checkFactory(name, schema)}`)() as CheckFactory)(Guard);

/** A value a schema may well accept: required properties filled with plain values of their kind. */
function example(schema: unknown): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  if ('const' in s) return s.const;
  if (Array.isArray(s.anyOf)) return example(s.anyOf[0]);
  switch (s.type) {
    case 'string':
      return 'web';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const required = (s.required ?? []) as string[];
      return Object.fromEntries(required.map((k) => [k, example(props[k])]));
    }
    default:
      return null;
  }
}

/** Values a check must judge: an example, its properties each given a wrong kind, junk. */
function samples(schema: TSchema): unknown[] {
  const made = example(schema) as object;
  const out: unknown[] = [null, [], 'x', 0, true, {}, { not_an_argument: 1 }, made];
  const props = (schema as { properties?: Record<string, unknown> }).properties ?? {};
  for (const key of Object.keys(props))
    for (const wrong of [
      42,
      -1,
      1.5,
      'x',
      '',
      'a'.repeat(300),
      '../x',
      true,
      null,
      [],
      ['a'],
      {},
      { a: ['b'] },
    ])
      out.push({ ...made, [key]: wrong });
  return out;
}

describe('prebuilt input checks', () => {
  it('decide as TypeBox does for every tool, on examples, wrong kinds and random values', () => {
    let accepted = 0;
    for (const tool of catalogue) {
      const prebuilt = factoryOf(tool.name, tool.input);
      const compiled = Compile(tool.input);
      for (const v of samples(tool.input)) {
        expect([tool.name, prebuilt(v)]).toEqual([tool.name, compiled.Check(v)]);
        if (compiled.Check(v)) accepted++;
      }
      fc.assert(
        fc.property(fc.jsonValue(), (v) => prebuilt(v) === compiled.Check(v)),
        fcParams(30),
      );
    }
    // Both verdicts are exercised: many samples pass, most do not.
    expect(accepted).toBeGreaterThan(catalogue.length);
  });

  it('put each tool in the group that loads with it (its part, else its toolset)', async () => {
    const { prebuiltCheck } = (await import(indexFile)) as {
      prebuiltCheck: (name: string, schema: unknown) => Promise<CheckFactory | undefined>;
    };
    for (const tool of catalogue) {
      const factory = await prebuiltCheck(tool.name, tool.input);
      expect(typeof factory).toBe('function');
      const group = (await import(join(dir, `${PART_OF.get(tool.name) ?? tool.toolset}.js`))).default;
      expect(group[tool.name]).toBe(factory);
    }
    expect(Object.keys(modules.groups)).toContain('container-views');
  });

  it('are used only for the schema they were made from: another one fails loudly, an unknown tool has none', async () => {
    const { prebuiltCheck } = (await import(indexFile)) as {
      prebuiltCheck: (name: string, schema: unknown) => Promise<CheckFactory | undefined>;
    };
    const list = catalogue.find((t) => t.name === 'docker_list_containers');
    const other = { ...list?.input, properties: { ...list?.input.properties, extra: { type: 'string' } } };
    await expect(prebuiltCheck('docker_list_containers', other)).rejects.toThrow('made from another schema');
    expect(await prebuiltCheck('docker_no_such_tool', {})).toBeUndefined();
  });

  it('refuse a schema whose check needs a helper they do not pass in', () => {
    expect(() => checkFactory('t', { type: 'object', unevaluatedProperties: false } as TSchema)).toThrow(
      'unevaluated-property tracking',
    );
  });
});

describe('prebuilt config checks', () => {
  it('decide as Value.Check does for every field', async () => {
    const { fieldCheck } = (await import(configFile)) as {
      fieldCheck: (key: string) => (value: unknown) => boolean;
    };
    for (const [key, schema] of FIELDS) {
      const values: unknown[] = [
        schema.default,
        0,
        -1,
        1,
        1023,
        1024,
        65536,
        86401,
        1.5,
        '',
        'x',
        'stdio',
        'debug',
        true,
        null,
        [],
        ['a'],
        [1],
        {},
      ];
      for (const v of values) expect([key, v, fieldCheck(key)(v)]).toEqual([key, v, Value.Check(schema, v)]);
    }
    expect(() => fieldCheck('noSuchSetting')).toThrow("no check was built for setting 'noSuchSetting'");
  });
});
