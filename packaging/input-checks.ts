/**
 * Each tool's input check as code, made at build time (build.ts) so the binary never compiles a schema:
 * TypeBox's Compile builds the check's code and evaluates it on a tool's first call, which loads
 * TypeBox's schema engine and compiler and runs them (~1.5–2 MiB of peak RSS in a session, see
 * bench/changes.md). Here the same code (TypeBox's own Build of the schema) is written into modules the
 * bundler compiles with the rest, one per group of tools that load together (a toolset, or a part of
 * one: tools/parts.ts), so a call loads only its group's checks.
 *
 * The code is TypeBox's, unchanged: its functions and entry, with its external values (regular
 * expressions only; anything else fails the build) written as literals. Each group module exports one
 * factory per tool, taking TypeBox's Guard (the one helper that code calls). A fingerprint of the schema
 * the code was made from is kept beside it: a tool whose schema is not that one fails its calls rather
 * than be checked against another (a build fault, never the caller's); a name with no prebuilt check
 * (none outside the catalogue) is compiled as from source.
 */

import type { TSchema } from 'typebox';
import { Build } from 'typebox/schema';
import type { AnyTool } from '../src/core/tool.ts';

/** The module name a group's checks are imported by (resolved by build.ts's plugin). */
export const GROUP_PREFIX = 'mcp-docker-input-checks:';

/**
 * What the binary compares with the schema it is given before trusting a prebuilt check. Its source is
 * written into the generated index as it is, so the build and the binary compute it the same way.
 */
const fingerprint = (schema: unknown): string => Bun.hash(JSON.stringify(schema)).toString(36);

/** One schema's check as a factory expression: `(Guard) => (value) => boolean`. `name` says whose, in errors. */
export function checkFactory(name: string, schema: TSchema): string {
  const build = Build({}, schema);
  if (build.UseUnevaluated())
    throw new Error(
      `${name}: its schema needs unevaluated-property tracking, which prebuilt checks do not carry`,
    );
  const external = build.External();
  const values = external.variables.map((v: unknown, i: number) => {
    if (!(v instanceof RegExp))
      throw new Error(`${name}: external value ${i} of its check is not a regular expression`);
    return v.toString();
  });
  const code = [
    `const ${external.identifier} = [${values.join(', ')}];`,
    ...build.Functions().map((f: string) => `${f};`),
    `return (value) => ${build.Entry()};`,
  ].join('\n');
  // The code may call only what the factory passes in.
  for (const helper of ['Hashing', 'CheckContext'])
    if (new RegExp(`\\b${helper}\\.`).test(code))
      throw new Error(`${name}: its check calls ${helper}, which prebuilt checks do not pass in`);
  return `(Guard) => {\n${code}\n}`;
}

/**
 * The modules: `index` replaces src/pipeline/checks.ts (which tool is in which group, each group's
 * import, each schema's fingerprint); `groups` holds one module per group.
 */
export function inputCheckModules(
  tools: readonly Pick<AnyTool, 'name' | 'input' | 'toolset'>[],
  partOf: ReadonlyMap<string, string>,
): { index: string; groups: Record<string, string> } {
  const members = new Map<string, Pick<AnyTool, 'name' | 'input'>[]>();
  const groupOf: Record<string, string> = {};
  const prints: Record<string, string> = {};
  for (const tool of tools) {
    const group = partOf.get(tool.name) ?? tool.toolset;
    if (!group) throw new Error(`${tool.name}: no toolset, so no group for its input check`);
    members.set(group, [...(members.get(group) ?? []), tool]);
    groupOf[tool.name] = group;
    prints[tool.name] = fingerprint(tool.input);
  }
  const groups: Record<string, string> = {};
  for (const [group, list] of members)
    groups[group] =
      `export default {\n${list.map((t) => `${JSON.stringify(t.name)}: ${checkFactory(t.name, t.input)},`).join('\n')}\n};\n`;
  const loaders = [...members.keys()]
    .map((g) => `${JSON.stringify(g)}: () => import(${JSON.stringify(GROUP_PREFIX + g)}),`)
    .join('\n');
  const index = `
const GROUP = ${JSON.stringify(groupOf)};
const PRINT = ${JSON.stringify(prints)};
const LOAD = {\n${loaders}\n};
const fingerprint = ${fingerprint.toString()};
export const prebuiltCheck = async (name, schema) => {
  const group = GROUP[name];
  if (group === undefined) return undefined;
  if (fingerprint(schema) !== PRINT[name])
    throw new Error(\`the input check built for \${name} was made from another schema\`);
  return (await LOAD[group]()).default[name];
};
`;
  return { index, groups };
}

/**
 * Replaces src/config/checks.ts: each config field's check as code, so a start with settings given
 * checks them without TypeBox's validator (the source version uses Value.Check).
 */
export function configCheckModule(fields: readonly (readonly [string, TSchema])[]): string {
  const checks = fields.map(
    ([key, schema]) => `${JSON.stringify(key)}: ${checkFactory(`setting '${key}'`, schema)},`,
  );
  return `import { Guard } from 'typebox/guard';
const CHECKS = {\n${checks.join('\n')}\n};
const made = {};
export const fieldCheck = (key) => {
  const make = CHECKS[key];
  if (make === undefined) throw new Error(\`no check was built for setting '\${key}'\`);
  made[key] ??= make(Guard);
  return made[key];
};
`;
}
