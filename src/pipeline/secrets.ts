/**
 * A tool's declared secret arguments (`secretArgs`: dotted paths such as 'auth'): masked before the
 * arguments reach the observe hook (audit log), and their values cut out of any error text, whatever
 * stage wrote it. The handler still gets them whole.
 */
import { reword, type ToolError } from '../core/errors.ts';
import { MASK } from '../core/redact.ts';

/** A copy of `args` with the value at each path replaced by the mask (objects on the way copied). */
export function maskSecretArgs(args: unknown, paths: readonly string[] | undefined): unknown {
  if (!paths?.length) return args;
  let out = args;
  for (const path of paths) out = maskAt(out, path.split('.'));
  return out;
}

function maskAt(value: unknown, keys: string[]): unknown {
  if (!isRecord(value)) return value;
  const [head, ...rest] = keys as [string, ...string[]];
  if (!(head in value) || value[head] === undefined) return value;
  return { ...value, [head]: rest.length === 0 ? MASK : maskAt(value[head], rest) };
}

/**
 * What the audit log and the confirmation question show of `args`: the secret arguments masked, and
 * each declared Compose text (`composeArgs`) with its values that may hold secrets masked. Only a tool
 * declaring Compose text loads the YAML parser, so other calls pay nothing.
 */
export function shownArgs(
  args: unknown,
  tool: { secretArgs?: readonly string[]; composeArgs?: readonly string[] },
): unknown | Promise<unknown> {
  const masked = maskSecretArgs(args, tool.secretArgs);
  const keys = tool.composeArgs?.filter((k) => isRecord(masked) && typeof masked[k] === 'string');
  if (!keys?.length || !isRecord(masked)) return masked;
  return import('../docker/compose/shown.ts').then(({ maskComposeText }) => {
    const out = { ...masked };
    for (const k of keys) out[k] = maskComposeText(out[k] as string);
    return out;
  });
}

/** Every string (and number) held at or under the secret paths: what an error must never quote. */
export function secretValues(args: unknown, paths: readonly string[] | undefined): string[] {
  if (!paths?.length) return [];
  const found: string[] = [];
  const collect = (v: unknown) => {
    if (typeof v === 'string' || typeof v === 'number') {
      const s = String(v);
      if (s.length >= 3) found.push(s); // shorter ones would mask ordinary words, and guess nothing
    } else if (Array.isArray(v)) v.forEach(collect);
    else if (isRecord(v)) Object.values(v).forEach(collect);
  };
  for (const path of paths) {
    const v = path.split('.').reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), args);
    collect(v);
  }
  // Longest first, so a secret holding another is masked whole.
  return found.sort((a, b) => b.length - a.length);
}

/** Below this length a secret is masked only where it stands alone, not inside a longer word. */
const WHOLE_TOKEN_BELOW = 8;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The error with every secret value in its message and hint masked, in any letter case. A short secret ('arg', a user
 * name) is masked where no letter or digit touches it, so our own words ("argument") survive; a quoted
 * or delimited one is still masked, and a longer one is masked wherever it appears.
 */
export function withoutSecrets(error: ToolError, secrets: readonly string[]): ToolError {
  if (secrets.length === 0) return error;
  // In any letter case (a check may upper-case what it quotes) and as JSON quotes it (`\"`, `\\`).
  const forms = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].sort(
    (a, b) => b.length - a.length,
  );
  // A secret longer than the text cannot be in it (and a 10 MB one would make too large a pattern).
  const maskOne = (t: string, s: string) =>
    s.length > t.length
      ? t
      : t.replace(
          new RegExp(
            s.length >= WHOLE_TOKEN_BELOW ? escapeRe(s) : `(?<![A-Za-z0-9])${escapeRe(s)}(?![A-Za-z0-9])`,
            'gi',
          ),
          MASK,
        );
  const scrub = (text: string) => forms.reduce(maskOne, text);
  const hint = (h: string | undefined) => h && scrub(h);
  const { remote } = error;
  const same = (w: { message: string; hint?: string }) =>
    scrub(w.message) === w.message && hint(w.hint) === w.hint;
  if (same(error) && (!remote || same(remote))) return error;
  return reword(error, scrub, hint);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
