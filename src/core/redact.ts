/**
 * Secret redaction, applied to everything that leaves the server: structured results, text, errors.
 * Names are split into words (FOO_BAR, fooBar, foo-bar, foo.bar) and matched word by word, so
 * DB_PASSWORD and apiKey are caught while PWD, AUTHOR or KEYBOARD are not.
 */
const SECRET_WORDS =
  /^(pass|passwd|password|passphrase|secret|secrets|token|tokens|key|keys|apikey|credential|credentials|creds|auth|authorization|cookie|privatekey|signature|salt|dsn)$/;
const QUICK = /pass|secret|token|key|credential|creds|auth|cookie|bearer|signature|salt|dsn|:\/\/[^\s/]*@/i;

export const MASK = '***';

/** `${DB_PASSWORD}` names a secret without holding one (compose placeholders, templates). */
const PLACEHOLDER = /^(["']?)\$\{[A-Za-z_][A-Za-z0-9_]*\}\1$/;

export function isSecretName(name: string): boolean {
  if (!QUICK.test(name)) return false;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  // Joined neighbours catch API_KEY → apikey, PRIVATE_KEY → privatekey.
  return words.some((w, i) => SECRET_WORDS.test(w) || SECRET_WORDS.test(w + (words[i + 1] ?? '')));
}

// NAME=value, NAME: value (YAML, log lines) and "NAME":"value" (JSON), quoted or bare. A colon with
// nothing around it is not a separator: 'registry/app-auth:v1' is an image tag, not a secret.
const ASSIGNMENT =
  /([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*|["']?\s*:\s+|["']\s*:\s*)((?:Bearer|Basic|Token)\s+[^\s,;&"']+|"[^"\n]*"|'[^'\n]*'|[^\s,;&"']+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):([^@\s/]+)@/gi;

/** validate.ts names a field as `argument 'auth.password': <what is wrong>`; that is no assignment. */
const FIELD_NAMED = "argument '";

export function redactText(text: string): string {
  if (!QUICK.test(text)) return text;
  return text
    .replace(ASSIGNMENT, (whole, name: string, sep: string, value: string, at: number) =>
      isSecretName(name) &&
      value !== MASK &&
      !PLACEHOLDER.test(value) &&
      text.slice(at - FIELD_NAMED.length, at) !== FIELD_NAMED
        ? `${name}${sep}${MASK}`
        : whole,
    )
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${MASK}`)
    .replace(URL_CREDENTIALS, `$1:${MASK}@`);
}

/** Returns a redacted copy: secret-named properties masked, every string scanned for secrets. */
export function redact<T>(value: T): T {
  return walk(value) as T;
}

/**
 * isSecretName per property name seen in results. Rows repeat the same few names (30 rows of
 * id, name, image…), so this answers most lookups without the regexes; bounded, cleared when full.
 */
const secretNames = new Map<string, boolean>();
function secretName(k: string): boolean {
  let hit = secretNames.get(k);
  if (hit === undefined) {
    hit = isSecretName(k);
    if (secretNames.size >= 4096) secretNames.clear();
    secretNames.set(k, hit);
  }
  return hit;
}

function walk(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        (typeof v === 'string' || typeof v === 'number') &&
        v !== '' &&
        secretName(k) &&
        !PLACEHOLDER.test(String(v))
          ? MASK
          : walk(v);
    }
    return out;
  }
  return value;
}
