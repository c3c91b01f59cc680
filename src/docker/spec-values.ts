/**
 * The spellings container options come in, parsed into ContainerSpec values: sizes ('512m'), CPU
 * counts, and shell-string commands. Shared by every front-end (tool arguments, Compose).
 */
import { ToolError } from '../core/errors.ts';

const UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** '512m' → 536870912; the schema has already checked the shape. */
export function bytes(size: number | string | undefined): number | undefined {
  if (size === undefined || typeof size === 'number') return size;
  if (size === '-1') return -1; // unlimited, where the schema allows it
  const [, num = '0', unit = ''] = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(size) ?? [];
  return Math.round(Number(num) * (UNIT[unit.toLowerCase()] ?? 1));
}

/** An environment as the engine takes it: "K=v" entries (a list is taken as it is). */
export const envEntries = (env: Record<string, string> | string[]): string[] =>
  Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);

const DURATION_UNIT: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go-style duration ('1m30s', '10s', '500ms') in nanoseconds; undefined when it cannot be read. */
export function parseDuration(text: string): number | undefined {
  let total = 0;
  let rest = text;
  if (!rest) return undefined;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (DURATION_UNIT[m[2] as string] ?? 0);
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

export const nanoCpus = (cpus: number | undefined) =>
  cpus === undefined ? undefined : Math.round(cpus * 1e9);

/** POSIX-shell word splitting (quotes and backslashes, no expansion), as docker-py does for a string. */
export function shellSplit(text: string, field = 'command'): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  let escaped = false;
  for (const ch of text) {
    if (escaped) {
      // Inside double quotes a backslash only escapes these; elsewhere it escapes anything.
      if (quote === '"' && !'"\\$`'.includes(ch)) word += '\\';
      word += ch;
      escaped = false;
    } else if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (ch === '\\') {
      escaped = true;
      inWord = true;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote || escaped)
    throw new ToolError(
      'invalid_argument',
      `invalid argument '${field}': ${quote ? `unclosed ${quote} quote` : 'trailing backslash'}`,
      {
        hint: 'Close the quote, or pass the command as an array of arguments.',
      },
    );
  if (inWord) words.push(word);
  return words;
}
