/** `--help` text, generated from the schema (grouped by section) so it can never drift from the options. */

import { FIELDS } from './fields.ts';
import { defaultText, type FieldSchema, kindOf, SECTIONS, type Section } from './meta.ts';
import type { ConfigKey } from './schema.ts';

/** The fields of each section, in SECTIONS order: --help, the README table and doctor all group this way. */
export function fieldsBySection(): [Section, [ConfigKey, FieldSchema][]][] {
  return (Object.keys(SECTIONS) as Section[]).map((section) => [
    section,
    FIELDS.filter(([, s]) => s.section === section),
  ]);
}

const ARG = { boolean: '', list: ' <a,b>', integer: ' <n>', string: ' <value>' } as const;
const usage = (s: FieldSchema) => `  ${s.flag}${s.arg ? ` <${s.arg}>` : ARG[kindOf(s)]}`;

export function helpText(version: string): string {
  const w = Math.max(...FIELDS.map(([, s]) => usage(s).length)) + 2;
  const option = (key: ConfigKey, s: FieldSchema) => {
    const def = defaultText(s);
    return [
      `${usage(s).padEnd(w)}${s.description}${def !== undefined ? ` [default: ${def}]` : ''}`,
      `${' '.repeat(w)}env: ${s.env.join(', ')}${key === 'config' ? '' : `; config file key: ${key}`}`,
    ];
  };
  const sections = fieldsBySection().flatMap(([section, fields]) => [
    '',
    `${SECTIONS[section]}:`,
    ...fields.flatMap(([key, s]) => option(key, s)),
  ]);
  return [
    `mcp-docker ${version} — an MCP server for Docker engines`,
    '',
    'Usage: mcp-docker [options]        serve MCP over stdio (or --transport http)',
    '       mcp-docker doctor [--json]        check the engine connection, safety mode and settings',
    '       mcp-docker config <client>        print the MCP client snippet (claude-desktop, claude-code, cursor, vscode…)',
    '       mcp-docker hash-token [--stdin]   make a bearer token and the hash for the auth file',
    '       mcp-docker --version | --help',
    '',
    'Options (flags win over env, env over the config file):',
    ...sections,
    '',
    `${'  -v, --version'.padEnd(w)}Print the version`,
    `${'  -h, --help'.padEnd(w)}Print this help`,
    '',
  ].join('\n');
}
