/**
 * The spellings container options come in, parsed into ContainerSpec values: sizes ('512m'), CPU
 * counts, and shell-string commands. Shared by every front-end (tool arguments, Compose).
 */
import { ToolError } from '../core/errors.ts';

/** How an error names a field: the tools write `invalid argument 'cpus'`, Compose adds file and service. */
export type FieldName = (key: string) => string;
export const argumentName: FieldName = (key) => `invalid argument '${key}'`;

/** Most CPUs a limit can name: Linux's own ceiling (NR_CPUS at most 8192). */
export const MAX_CPUS = 8192;
/** Most PIDs a limit can name: the kernel's PID_MAX_LIMIT (a higher pids limit means nothing). */
export const MAX_PIDS = 4_194_304;
/** CPU shares, as cgroup v1's cpu.shares takes them (the engine clamps and warns below 2). */
export const MAX_CPU_SHARES = 262_144;
/** The largest whole number JSON carries exactly: the ceiling for bytes and nanoseconds (~8 PiB, ~104 days). */
const MAX_WHOLE = Number.MAX_SAFE_INTEGER;

/**
 * `value × scale` as the whole number the engine reads into an int64 (nanoseconds, nano-CPUs, bytes),
 * refused naming the field when it is not finite, below `min` or above `max` (in the value's own
 * units), or not a safe integer once scaled. Unchecked, 1e300 CPUs became Infinity, which JSON sends
 * as null: a container with no CPU limit at all, and an update that changed nothing said it succeeded.
 */
export function engineWhole(
  value: number,
  scale: number,
  key: string,
  range: { min?: number; max?: number; unit: string; hint: string },
  name: FieldName = argumentName,
): number {
  const min = range.min ?? 0;
  const max = Math.min(range.max ?? Number.POSITIVE_INFINITY, Math.floor(MAX_WHOLE / scale));
  const n = Math.round(value * scale);
  if (Number.isFinite(value) && value >= min && value <= max && Number.isSafeInteger(n)) return n;
  const unit = range.unit ? ` ${range.unit}` : '';
  throw new ToolError(
    'invalid_argument',
    `${name(key)}: ${Number.isNaN(value) ? 'not a number' : `${value}${unit} is out of range`} (${min} to ${max}${unit})`,
    { hint: range.hint },
  );
}

const UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * '512m' → 536870912; the schema has already checked the shape. A size past what the engine's int64
 * (and JSON's exact integers) hold is refused naming `key`: the engine's own answer is a Go decode error.
 */
export function bytes(
  size: number | string | undefined,
  key: string,
  name: FieldName = argumentName,
): number | undefined {
  if (size === undefined) return undefined;
  if (size === -1 || size === '-1') return -1; // unlimited, where the schema allows it
  if (typeof size === 'number') return engineWhole(size, 1, key, BYTE_RANGE, name);
  const [, num = 'NaN', unit = ''] = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(size) ?? [];
  // Scaled first, so a refusal shows bytes against a ceiling in bytes.
  return engineWhole(Number(num) * (UNIT[unit.toLowerCase()] ?? 1), 1, key, BYTE_RANGE, name);
}

const BYTE_RANGE = { unit: 'bytes', hint: 'Give a size such as 512m or 2g (at most 8 PiB).' };

/** A whole count the engine reads into an int64 (CPU shares, a PID limit), up to `max`. */
export const engineCount = (
  value: unknown,
  key: string,
  max: number,
  name: FieldName = argumentName,
  min = 0,
): number =>
  engineWhole(
    Number(value),
    1,
    key,
    { min, max, unit: '', hint: `Give a whole number from ${min} to ${max}.` },
    name,
  );

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

/** Seconds (a number) as the engine's nanoseconds: past ~104 days is refused, naming `key`. */
export const secondsNs = (seconds: number, key: string, name: FieldName = argumentName): number =>
  engineWhole(seconds, 1e9, key, DURATION_RANGE, name);

export const DURATION_RANGE = {
  unit: 's',
  hint: 'Give a duration such as 30s, 1m30s or 500ms (at most 104 days).',
};

/** CPUs (0.5, 2) as the engine's NanoCpus; 0 is no limit, more than MAX_CPUS is refused naming `key`. */
export const nanoCpus = (cpus: number | undefined, key: string, name: FieldName = argumentName) =>
  cpus === undefined
    ? undefined
    : engineWhole(
        cpus,
        1e9,
        key,
        { max: MAX_CPUS, unit: 'CPUs', hint: 'Give the number of CPUs, e.g. 0.5 or 2.' },
        name,
      );

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
