/**
 * A small YAML emitter for the subset a compose file needs: nested maps, lists, strings, numbers,
 * booleans. Every string value is double-quoted JSON-style (a JSON string is a valid YAML
 * double-quoted scalar), so nothing is ever read back as a number, boolean, date, null or
 * sexagesimal by any YAML 1.1 or 1.2 parser (`"on"`, `"012"`, `"12:30"`, `"2024-01-01"` stay
 * strings). Keys are quoted unless plainly safe. Kept although `yaml` is a dependency (the auth file
 * parser): its stringify emits YAML 1.2, leaving 1.1 scalars such as on, 12:30 and 2024-01-01 plain for
 * 1.1 readers (docker-compose 1.x, PyYAML) to retype unless configured to quote every string, and
 * 66 lines tested in test/unit/prompts-yaml.test.ts do this one job without loading it into prompts.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

const SAFE_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
// Plain keys YAML 1.1 would read as booleans or null.
const RESERVED = /^(y|n|yes|no|on|off|true|false|null)$/i;

/**
 * JSON escapes C0 controls, quotes and backslashes; YAML also wants DEL, C1 controls, the Unicode
 * line separators and BOM escaped, and has no escape for a lone surrogate.
 */
const quote = (s: string) =>
  JSON.stringify(s.replace(/[\ud800-\udfff]/gu, '\ufffd')).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

export interface YamlOptions {
  /** Keys to quote even when they could stay plain. */
  quoteKey?: (key: string) => boolean;
}

function scalar(v: string | number | boolean | null): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : quote(String(v));
  return String(v);
}

const isEmpty = (v: YamlValue) =>
  Array.isArray(v) ? v.length === 0 : v !== null && typeof v === 'object' && Object.keys(v).length === 0;
const inline = (v: YamlValue) => (Array.isArray(v) ? '[]' : '{}');
const isCollection = (v: YamlValue): v is YamlValue[] | { [key: string]: YamlValue } =>
  v !== null && typeof v === 'object';

function lines(value: YamlValue, indent: string, o: YamlOptions): string[] {
  if (!isCollection(value)) return [indent + scalar(value)];
  const key = (k: string) => (SAFE_KEY.test(k) && !RESERVED.test(k) && !o.quoteKey?.(k) ? k : quote(k));
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isCollection(item) && !isEmpty(item)) {
        // "- " then the first line of the nested block on the same line, the rest indented under it.
        const [first, ...rest] = lines(item, `${indent}  `, o);
        out.push(`${indent}- ${(first as string).trimStart()}`, ...rest);
      } else out.push(`${indent}- ${isCollection(item) ? inline(item) : scalar(item)}`);
    }
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    if (isCollection(v) && !isEmpty(v)) out.push(`${indent}${key(k)}:`, ...lines(v, `${indent}  `, o));
    else out.push(`${indent}${key(k)}: ${isCollection(v) ? inline(v) : scalar(v)}`);
  }
  return out;
}

/** A YAML document for a map, two-space indented, ending with a newline. */
export function toYaml(doc: { [key: string]: YamlValue }, options: YamlOptions = {}): string {
  return isEmpty(doc) ? '{}\n' : `${lines(doc, '', options).join('\n')}\n`;
}
