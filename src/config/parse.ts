/** Raw strings (argv, env, string values in the file) to typed values: one coercion for every layer. */

import { addEngines, type EngineMap, parseEngineFlag, parseEnginesEnv } from './engines.ts';
import { FIELDS, fieldOf } from './fields.ts';
import { ConfigError, kindOf } from './meta.ts';
import type { ConfigKey } from './schema.ts';

type Layer = 'flag' | 'env' | 'file' | 'default';
export type LayerValues = Record<string, { value: unknown; layer: Layer; source: string }>;

const byFlag = new Map(FIELDS.map(([key, s]) => [s.flag, key]));

/** Turns a raw string from a flag or env var into the field's type, or says why it cannot. */
function coerce(key: ConfigKey, raw: string): unknown {
  switch (kindOf(fieldOf(key))) {
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new Error(`expected true or false, got '${raw}'`);
    }
    case 'integer': {
      if (!/^\s*-?\d+\s*$/.test(raw)) throw new Error(`expected a whole number, got '${raw}'`);
      return Number.parseInt(raw, 10);
    }
    case 'list': {
      const v = raw.trim();
      if (v === '') return [];
      if (v.startsWith('[')) {
        const parsed: unknown = JSON.parse(v);
        if (!Array.isArray(parsed)) throw new Error('expected a JSON array');
        return parsed.map(String);
      }
      return v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
    default:
      if (key === 'logLevel') return normaliseLogLevel(raw);
      if (key === 'logFilter') return normaliseLogFilter(raw);
      return raw;
  }
}

// Seed configs use Python level names (WARNING, CRITICAL).
const normaliseLogLevel = (raw: string) =>
  ({ warning: 'warn', critical: 'fatal' })[raw.toLowerCase()] ?? raw.toLowerCase();

// A seed-style boolean reads as on (flag) / off (none).
const normaliseLogFilter = (raw: string) => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return 'flag';
  if (['false', '0', 'no', 'off'].includes(v)) return 'none';
  return v;
};

export function parseLayerValue(key: ConfigKey, raw: string, where: string): unknown {
  // Engines have their own forms (and name their errors themselves).
  if (key === 'engines')
    return where.startsWith('option') ? parseEngineFlag(raw, where) : parseEnginesEnv(raw, where);
  try {
    return coerce(key, raw);
  } catch (e) {
    throw new ConfigError(`${where}: ${(e as Error).message}`);
  }
}

export interface ParsedArgs {
  values: LayerValues;
  positionals: string[];
  help: boolean;
  version: boolean;
}

const isBoolean = (key: ConfigKey) => kindOf(fieldOf(key)) === 'boolean';

/** Parses argv: `--flag value`, `--flag=value`, `--flag` / `--no-flag` for booleans. Unknown flags throw. */
export function parseArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = { values: {}, positionals: [], help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--version' || arg === '-v') out.version = true;
    else if (arg.startsWith('-')) {
      const eq = arg.indexOf('=');
      let name = eq > 0 ? arg.slice(0, eq) : arg;
      let inline: string | undefined = eq > 0 ? arg.slice(eq + 1) : undefined;
      let key = byFlag.get(name);
      if (!key && name.startsWith('--no-')) {
        const positive = byFlag.get(`--${name.slice(5)}`);
        if (positive && isBoolean(positive) && inline === undefined) {
          key = positive;
          name = `--${name.slice(5)}`;
          inline = 'false';
        }
      }
      if (!key)
        throw new ConfigError(`unknown option '${name}'. Run 'mcp-docker --help' to see the options.`);
      let raw = inline;
      if (raw === undefined) {
        const next = argv[i + 1];
        if (isBoolean(key) && (next === undefined || !/^(true|false|1|0)$/i.test(next))) raw = 'true';
        else if (next === undefined || next.startsWith('--'))
          throw new ConfigError(`option '${name}' needs a value, e.g. ${name}=VALUE`);
        else raw = argv[++i] as string;
      }
      const value = parseLayerValue(key, raw, `option '${name}'`);
      const before = out.values[key];
      // --engine accumulates; every other flag keeps its last value.
      out.values[key] =
        key === 'engines' && before
          ? {
              value: addEngines(before.value as EngineMap, value as EngineMap, `option '${name}'`),
              layer: 'flag',
              source: name,
            }
          : { value, layer: 'flag', source: name };
    } else out.positionals.push(arg);
  }
  return out;
}

/**
 * Where the first positional is (a command's name), skipping server options and their values; -1 when
 * there is none. Server options may come before a command (`mcp-docker --read-only doctor --json`).
 */
export function firstPositional(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) return i;
    if (arg.includes('=')) continue;
    const positive = arg.startsWith('--no-') ? `--${arg.slice(5)}` : arg;
    const key = byFlag.get(arg) ?? (arg !== positive ? byFlag.get(positive) : undefined);
    if (!key) continue;
    const next = argv[i + 1];
    if (next === undefined) continue;
    if (isBoolean(key) ? /^(true|false|1|0)$/i.test(next) && key === byFlag.get(arg) : !next.startsWith('--'))
      i++;
  }
  return -1;
}

/**
 * For `mcp-docker <command> …`: server options (and their values) go to the config; everything else
 * (the command's own flags such as `--json` or `--stdin`, and its positionals) is the command's.
 */
export function splitCommandArgv(argv: string[]): { config: string[]; command: string[] } {
  const config: string[] = [];
  const command: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    const positive = name.startsWith('--no-') ? `--${name.slice(5)}` : name;
    const key = byFlag.get(name) ?? byFlag.get(positive);
    if (['-h', '--help', '-v', '--version'].includes(arg)) config.push(arg);
    else if (!arg.startsWith('-') || !key) command.push(arg);
    else {
      config.push(arg);
      const next = argv[i + 1];
      const takesNext = !arg.includes('=') && next !== undefined && !next.startsWith('--');
      if (takesNext && (!isBoolean(key) || /^(true|false|1|0)$/i.test(next)))
        config.push(argv[++i] as string);
    }
  }
  return { config, command };
}
