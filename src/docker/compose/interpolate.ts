/**
 * Compose interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}` and `$$` for a literal `$`, applied to every string
 * value of a loaded file (not to keys). Defaults may hold further interpolation.
 *
 * What one load may make is capped (Expansion): `.env` lines that each repeat the one before
 * (`A1=$A0$A0`, `A2=$A1$A1`…) double at every line, so a few hundred bytes would otherwise fill the
 * server's memory.
 */
import { ToolError } from '../../core/errors.ts';
import { isSecretName, MASK } from '../../core/redact.ts';

export type Vars = Readonly<Record<string, string | undefined>>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** How deep a default may hold further interpolation (`${A:-${B:-…}}`). */
const MAX_DEPTH = 16;

/** The most one interpolated value may hold: as much as a project file may (open.ts). */
export const MAX_VALUE_CHARS = 4 * 1024 * 1024;
/** The most one load's interpolation may make in all, over every file, `.env` and env file. */
export const MAX_TOTAL_CHARS = 16 * 1024 * 1024;

/** One load's interpolation: what it may still make, and the secret values it put in the model. */
export interface Expansion {
  /** Characters left of MAX_TOTAL_CHARS. */
  left: number;
  /** Values of secret-named variables (redact.ts's rule) that interpolation used, for maskSecrets. */
  readonly secrets: Set<string>;
}

export const expansion = (): Expansion => ({ left: MAX_TOTAL_CHARS, secrets: new Set() });

/** `text` with every variable replaced; `where` names the file and key for an error. */
export function interpolate(text: string, vars: Vars, where: string, x: Expansion = expansion()): string {
  // Most strings hold no variable: kept as they are (no copy, nothing counted).
  if (!text.includes('$')) return text;
  const out = expand(text, vars, where, x, 0);
  x.left -= out.length;
  return out;
}

function expand(text: string, vars: Vars, where: string, x: Expansion, depth: number): string {
  if (depth > MAX_DEPTH) throw bad(where, `interpolation nested more than ${MAX_DEPTH} deep`);
  let out = '';
  let i = 0;
  const put = (value: string, name: string) => {
    out += value;
    if (out.length > Math.min(MAX_VALUE_CHARS, x.left)) throw tooLarge(where, name, x);
  };
  while (i < text.length) {
    const at = text.indexOf('$', i);
    if (at < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, at);
    i = at;
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closing(text, i + 2);
      if (end < 0) throw bad(where, `unclosed "\${" in "${text}"`);
      const body = text.slice(i + 2, end);
      put(braced(body, vars, where, x, depth), NAME.exec(body)?.[0] ?? body);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (!m) {
      out += '$';
      i++;
      continue;
    }
    put(used(m[0], vars, x) ?? '', m[0]);
    i += 1 + m[0].length;
  }
  if (out.length > Math.min(MAX_VALUE_CHARS, x.left)) throw tooLarge(where, undefined, x);
  return out;
}

/** A variable's value, noted when its name says it is a secret. */
function used(name: string, vars: Vars, x: Expansion): string | undefined {
  const value = vars[name];
  if (value && isSecretName(name)) x.secrets.add(value);
  return value;
}

function tooLarge(where: string, name: string | undefined, x: Expansion): ToolError {
  const mib = (n: number) => `${n / 1024 / 1024} MiB`;
  const by = name === undefined ? 'interpolation' : `interpolating ${name}`;
  const why =
    x.left < MAX_VALUE_CHARS
      ? `${by} takes the project past ${mib(MAX_TOTAL_CHARS)} of interpolated text, the most one load may make`
      : `${by} makes a value over ${mib(MAX_VALUE_CHARS)}, the most one value may hold`;
  return new ToolError('invalid_argument', `${where}: ${why}`, {
    hint: 'Variables that repeat each other grow at every step: set the value itself, or a shorter one.',
  });
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

function braced(body: string, vars: Vars, where: string, x: Expansion, depth: number): string {
  const m = NAME.exec(body);
  if (!m) throw bad(where, `invalid interpolation "\${${body}}"`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = used(name, vars, x);
  if (rest === '') return value ?? '';
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw bad(where, `invalid interpolation "\${${body}}"`);
  const arg = rest.slice(op.length);
  const unset = op.startsWith(':') ? value === undefined || value === '' : value === undefined;
  switch (op.replace(':', '')) {
    case '-':
      return unset ? expand(arg, vars, where, x, depth + 1) : (value ?? '');
    case '+':
      return unset ? '' : expand(arg, vars, where, x, depth + 1);
    default:
      if (unset)
        throw new ToolError(
          'invalid_argument',
          `${where}: required variable ${name} is missing a value${arg ? `: ${expand(arg, vars, where, x, depth + 1)}` : ''}`,
          { hint: `Set ${name} in env, in .env, or in the environment.` },
        );
      return value ?? '';
  }
}

const bad = (where: string, why: string) =>
  new ToolError('invalid_argument', `${where}: ${why}`, { hint: 'Write $$ for a literal $.' });

/** Every string in `value` interpolated; `path` is the key path used in errors. */
export function interpolateTree(
  value: unknown,
  vars: Vars,
  path: string,
  x: Expansion = expansion(),
): unknown {
  if (typeof value === 'string') return interpolate(value, vars, path, x);
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, vars, `${path}[${i}]`, x));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        interpolateTree(v, vars, !path || path.endsWith(': ') ? `${path}${k}` : `${path}.${k}`, x),
      ]),
    );
  return value;
}

/**
 * A `.env` / `env_file` body: KEY=VALUE lines, `#` comments, optional `export `, quotes stripped.
 * `file` names it in an error.
 */
export function parseEnvFile(
  text: string,
  vars: Vars = {},
  file = 'env file',
  x: Expansion = expansion(),
): Record<string, string> {
  const out: Record<string, string> = {};
  // What a value sees: the variables given, then the file's own lines so far (one map, not a copy a line).
  const scope: Record<string, string | undefined> = Object.assign(Object.create(null), vars);
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(=)?\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1] as string;
    if (!m[2]) continue; // a bare name takes nothing from the file
    let value = m[3] as string;
    const q = value[0];
    // A quoted value may run over several lines, as Compose v2 reads it: up to the line that closes it.
    if ((q === '"' || q === "'") && value.lastIndexOf(q) === 0) {
      const end = lines.findIndex((l, j) => j > i && l.includes(q));
      if (end > i) {
        value = [value, ...lines.slice(i + 1, end + 1)].join('\n').trimEnd();
        i = end;
      }
    }
    if ((q === '"' || q === "'") && value.lastIndexOf(q) > 0) {
      value = value.slice(1, value.lastIndexOf(q));
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
      else {
        out[key] = value;
        scope[key] = value;
        continue;
      }
    } else value = value.replace(/\s+#.*$/, '');
    out[key] = interpolate(value, scope, `${file}: ${key}`, x);
    scope[key] = out[key];
  }
  return out;
}

/** A secret this short is masked where it is a whole string, not inside others ('x' in every name). */
const MIN_INSIDE = 4;

/**
 * The text that may show a secret interpolation used, longest first: each secret, each piece of it
 * Compose splits off (`${TOKEN}:/x` in volumes, ports, extra_hosts, devices) and shows in a message,
 * and their JSON-quoted forms; pieces shorter than MIN_INSIDE left out. What an error must not quote.
 */
export function secretForms(secrets: ReadonlySet<string>): string[] {
  const pieces = [...secrets].flatMap((s) => [s, ...s.split(/[:=,]/), ...s.split(/[\s:=,]+/)]);
  return [...new Set(pieces.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))]
    .filter((s) => s.length >= MIN_INSIDE)
    .sort((a, b) => b.length - a.length);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `value` with every secret value interpolation used (Expansion.secrets) masked in its strings (keys
 * are never interpolated, and stay), in any letter case (a check may upper-case what it quotes), longest
 * first (one may hold another): for what shows the model (config's summary, an error quoting a value).
 */
export function maskSecrets<T>(value: T, secrets: ReadonlySet<string>): T {
  if (secrets.size === 0) return value;
  const forms = secretForms(secrets);
  const inside = forms.length ? new RegExp(forms.map(escapeRe).join('|'), 'gi') : undefined;
  const whole = new Set([...secrets].map((s) => s.toLowerCase()));
  const text = (s: string) => (whole.has(s.toLowerCase()) ? MASK : inside ? s.replace(inside, MASK) : s);
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? text(v)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, w]) => [k, walk(w)]))
          : v;
  return walk(value) as T;
}
