/**
 * Compose interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}` and `$$` for a literal `$`, applied to every string
 * value of a loaded file (not to keys). Defaults may hold further interpolation.
 */
import { ToolError } from '../../core/errors.ts';

export type Vars = Readonly<Record<string, string | undefined>>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** How deep a default may hold further interpolation (`${A:-${B:-…}}`). */
const MAX_DEPTH = 16;

/** `text` with every variable replaced; `where` names the file and key for an error. */
export function interpolate(text: string, vars: Vars, where: string, depth = 0): string {
  if (depth > MAX_DEPTH) throw bad(where, `interpolation nested more than ${MAX_DEPTH} deep`);
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closing(text, i + 2);
      if (end < 0) throw bad(where, `unclosed "\${" in "${text}"`);
      out += braced(text.slice(i + 2, end), vars, where, depth);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (!m) {
      out += '$';
      i++;
      continue;
    }
    out += vars[m[0]] ?? '';
    i += 1 + m[0].length;
  }
  return out;
}

/** The index of the `}` closing a `${` whose body starts at `from`, nested braces counted. */
function closing(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

function braced(body: string, vars: Vars, where: string, depth: number): string {
  const m = NAME.exec(body);
  if (!m) throw bad(where, `invalid interpolation "\${${body}}"`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = vars[name];
  if (rest === '') return value ?? '';
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw bad(where, `invalid interpolation "\${${body}}"`);
  const arg = rest.slice(op.length);
  const unset = op.startsWith(':') ? value === undefined || value === '' : value === undefined;
  switch (op.replace(':', '')) {
    case '-':
      return unset ? interpolate(arg, vars, where, depth + 1) : (value ?? '');
    case '+':
      return unset ? '' : interpolate(arg, vars, where, depth + 1);
    default:
      if (unset)
        throw new ToolError(
          'invalid_argument',
          `${where}: required variable ${name} is missing a value${arg ? `: ${interpolate(arg, vars, where, depth + 1)}` : ''}`,
          { hint: `Set ${name} in env, in .env, or in the environment.` },
        );
      return value ?? '';
  }
}

const bad = (where: string, why: string) =>
  new ToolError('invalid_argument', `${where}: ${why}`, { hint: 'Write $$ for a literal $.' });

/** Every string in `value` interpolated; `path` is the key path used in errors. */
export function interpolateTree(value: unknown, vars: Vars, path: string): unknown {
  if (typeof value === 'string') return interpolate(value, vars, path);
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, vars, `${path}[${i}]`));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        interpolateTree(v, vars, !path || path.endsWith(': ') ? `${path}${k}` : `${path}.${k}`),
      ]),
    );
  return value;
}

/** A `.env` / `env_file` body: KEY=VALUE lines, `#` comments, optional `export `, quotes stripped. */
export function parseEnvFile(text: string, vars: Vars = {}): Record<string, string> {
  const out: Record<string, string> = {};
  // What a value sees: the variables given, then the file's own lines so far (one map, not a copy a line).
  const scope: Record<string, string | undefined> = Object.assign(Object.create(null), vars);
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(=)?\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1] as string;
    if (!m[2]) continue; // a bare name takes nothing from the file
    let value = m[3] as string;
    const q = value[0];
    if ((q === '"' || q === "'") && value.lastIndexOf(q) > 0) {
      value = value.slice(1, value.lastIndexOf(q));
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
      else {
        out[key] = value;
        scope[key] = value;
        continue;
      }
    } else value = value.replace(/\s+#.*$/, '');
    out[key] = interpolate(value, scope, `env file ${key}`);
    scope[key] = out[key];
  }
  return out;
}
