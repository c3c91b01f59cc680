/**
 * Secret redaction, applied to everything that leaves the server: structured results, text, errors.
 *
 * Names: a secret word of five letters or more counts anywhere in a word of the name (PGPASSWORD,
 * CLIENTSECRET, APITOKEN, MYSQL_ROOT_PASSWORD), unless it only begins a longer ordinary word
 * (TOKENIZERS, SECRETARY). Short words (KEY, PAT, AUTH, PW…) count only as a whole word, the name being
 * split at `_ - .`, spaces and camelCase (GITHUB_PAT, API_KEY, apiKey), so PATH, PWD, MONKEY and
 * AUTHOR are not secrets. A name whose last word is FILE, PATH or DIR (KEY_FILE, DB_PASSWORD_FILE)
 * says where a secret is kept, as the official images' `_FILE` convention does, and is not masked.
 *
 * Values: the whole value is masked, spaces and `;` included (`PASSWORD=correct horse; battery`): a
 * quoted value to its closing quote, a bare one to the end of the line. An entry of a list of strings
 * (an env list: `TLS_KEY=<a key over several lines>`) is one assignment, its value all the rest. A
 * secret-named flag's value is masked too: the next word in text (`--password x`), the next element
 * in a list (`["--password", "x"]`). A PEM private key block is masked whole wherever it appears, also
 * over the items of a list that hold one line each (log lines).
 * Also: a JSON document inside a string (`{\"password\": \"x\"}`), a header with no blank after its
 * colon (`X-Api-Key:x`), Redis's `requirepass x`, and, after the client's name only, curl's
 * `-u user:x`, mysql's `-px`, redis-cli's `-a x`, sshpass's and `docker login`'s `-p x` (elsewhere
 * `-u` is a user and `-p` a port).
 *
 * Text is judged as a reader sees it: escape sequences, control characters and invisible format
 * characters (zero-width, bidi), which the fence removes and a terminal does not show, are no part of
 * a name or value (`\x1b[31mpassword\x1b[0m=x` and `pass\u200bword=x` are `password=x`). A string
 * holding them comes back as it was when nothing in it is masked, and cleaned (fence.ts's clean) and
 * masked otherwise.
 */
import { mapChanged } from './copy-on-change.ts';
import { clean, hasControl, INVISIBLE } from './fence.ts';

// Also settings whose value is a password though their name says so in a word of its own: Redis's
// `requirepass` and `masterauth`, Java keytool's `storepass` and `keypass`.
const LONG_WORDS =
  /password|passwd|passphrase|secret(?!ar(?:y|ies|iat))|token(?!i[sz])|credential|private|apikey|requirepass|masterauth|storepass|keypass/;
const WHOLE_WORDS = /^(?:key|keys|pat|pw|pass|auth|authorization|creds|cookie|cookies|signature|salt|dsn)$/;
const LOCATION = /^(?:file|files|path|paths|dir|dirs|directory)$/;

/**
 * Cheap first test on a whole text or name: no hit, nothing to do (most strings in most results). Its
 * last part is the clients of CLIENTS below, as a word (`mysql:8`, `mysqld` are no hit).
 */
const QUICK =
  /pa(?:ss|t(?![a-z]))|secret|token|key|cred|auth|cookie|bearer|signature|salt|dsn|private|pw(?![a-z])|:\/\/[^\s/]*@|(?:curl|redis-cli|sshpass|docker[ \t]+login|mysql(?:dump|admin|import|check|show|slap)?|mariadb(?:-dump|-admin|-import|-check|-show|-slap)?)(?![A-Za-z0-9_.:/-])/i;

export const MASK = '***';

/** `${DB_PASSWORD}` names a secret without holding one (compose placeholders, templates). */
const PLACEHOLDER = /^(["']?)\$\{[A-Za-z_][A-Za-z0-9_]*\}\1$/;

export function isSecretName(raw: string): boolean {
  const name = hasControl(raw) ? clean(raw) : raw;
  if (!QUICK.test(name)) return false;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  if (words.length > 1 && LOCATION.test(words[words.length - 1] as string)) return false;
  return words.some((w) => WHOLE_WORDS.test(w) || LONG_WORDS.test(w));
}

const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

export function redactText(text: string): string {
  return hasControl(text) ? asShown(text, maskText) : maskText(text);
}

/** `mask` applied to `text` as clean() shows it; `text` itself when that masks nothing. */
function asShown(text: string, mask: (shown: string) => string): string {
  const shown = clean(text);
  const masked = mask(shown);
  return masked === shown ? text : masked;
}

/** `shell`: the text is a shell script (`sh -c SCRIPT`), where a bare value is one word. */
function maskText(text: string, shell = false): string {
  if (!QUICK.test(text)) return text;
  return maskUrlCredentials(
    maskClients(maskDirectives(maskFlags(maskAssignments(maskPrivateKeys(text), shell)))).replace(
      BEARER,
      (_m, scheme: string) => `${scheme} ${MASK}`,
    ),
  );
}

/**
 * One entry of a list of strings, as redact() masks it: `NAME=value` with a secret name and a value
 * over several lines (a key or certificate bundle in an env list) is masked to its end, since a list
 * entry holds one value; anything else as redactText masks it.
 */
export function redactEntry(entry: string): string {
  return hasControl(entry) ? asShown(entry, maskEntry) : maskEntry(entry);
}

const ENTRY = /^([A-Za-z_][A-Za-z0-9_.-]*)=/;
const LINE_BREAK = /[\n\r]/;

function maskEntry(entry: string): string {
  const m = LINE_BREAK.test(entry) ? ENTRY.exec(entry) : null;
  return m && secretName(m[1] as string) && LINE_BREAK.test(entry.slice(m[0].length))
    ? m[0] + MASK
    : maskText(entry);
}

// A PEM private key's armour: `-----BEGIN RSA PRIVATE KEY-----`, `OPENSSH`, `ENCRYPTED`, `EC`, PGP's
// `PRIVATE KEY BLOCK`. Certificates and public keys are not secrets and stay.
const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/g;
const PEM_BODY = /^[ \t]*[A-Za-z0-9+/=]+[ \t]*$/;
const PEM_HEADER = /^[ \t]*(?:Proc-Type|DEK-Info|Comment|Version|Hash):/;

/**
 * Each PEM private key block, from its BEGIN line to its END line, becomes `***` (so
 * `TLS_KEY=-----BEGIN…` reads `TLS_KEY=***`). A block with no END (cut short) runs to the end of the
 * BEGIN line and over the lines after it that read as its body. Linear: once an END is missing,
 * later blocks of the same label are not searched for one again.
 */
function maskPrivateKeys(text: string): string {
  if (!text.includes('-----BEGIN ')) return text;
  let out = '';
  let copied = 0;
  const unended = new Set<string>();
  PEM_BEGIN.lastIndex = 0;
  for (let m = PEM_BEGIN.exec(text); m; m = PEM_BEGIN.exec(text)) {
    const label = m[1] as string;
    const from = m.index + m[0].length;
    const endMark = `-----END ${label}-----`;
    const at = unended.has(label) ? -1 : text.indexOf(endMark, from);
    let end: number;
    if (at >= 0) end = at + endMark.length;
    else {
      unended.add(label);
      end = bodyEnd(text, from);
    }
    out += text.slice(copied, m.index) + MASK;
    copied = end;
    PEM_BEGIN.lastIndex = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Where an unended PEM body stops: the end of the line at `from`, then of each body or header line. */
function bodyEnd(text: string, from: number): number {
  let end = lineEnd(text, from);
  let afterHeader = false;
  while (end < text.length) {
    const next = end + (text.startsWith('\r\n', end) ? 2 : 1);
    const stop = lineEnd(text, next);
    const line = text.slice(next, stop);
    const header = PEM_HEADER.test(line);
    if (!(header || PEM_BODY.test(line) || (afterHeader && line.trim() === ''))) break;
    afterHeader = header;
    end = stop;
  }
  return end;
}

// A flag: one or two dashes at the start of a word, its name, blanks. The value is the next word.
const FLAG = /(?<![A-Za-z0-9_.-])--?([A-Za-z][A-Za-z0-9_.-]*)[ \t]+/g;
// Secret-named flags that take no secret: `--no-auth`, `--password-stdin`, `--auth-type basic`, and
// Docker's `--secret id=…,src=…`, which names a secret and where it is kept.
const NOT_SECRET_FLAG = /^(?:no[-_].*|secrets?|.*[-_.](?:stdin|type|mode))$/i;

const secretFlag = (name: string) => name.length > 1 && !NOT_SECRET_FLAG.test(name) && secretName(name);

/** Whether a list element is a flag whose value is the next element: `--password`, `-token`. */
const FLAG_ELEMENT = /^--?([A-Za-z][A-Za-z0-9_.-]*)$/;
function isSecretFlag(raw: string): boolean {
  const element = hasControl(raw) ? clean(raw) : raw;
  if (element.charCodeAt(0) !== 45) return false;
  const m = FLAG_ELEMENT.exec(element);
  return m !== null && secretFlag(m[1] as string);
}

/**
 * `--password value` → `--password ***`: the word after a secret-named flag and blanks, or a quoted
 * value to its closing quote. A word starting with `-` is the next flag; a single letter is never a
 * secret name (`-p` is a password to mysql and a port to docker).
 */
function maskFlags(text: string): string {
  return text.includes('-') ? maskAfter(text, FLAG, whole, (m) => secretFlag(m[1] as string)) : text;
}

/**
 * The value that starts at `v`, as [start, end): a quoted one inside its quotes; one quoted inside a
 * quoted string (`"run --password \\"a b\\""`) inside its escaped quotes; else a bare word.
 */
function wordAt(text: string, v: number): [number, number] {
  const open = text.charCodeAt(v);
  if (isQuote(open)) return [v + 1, closingQuote(text, v + 1, open)];
  const q = escapedQuoteEnd(text, v);
  return q > v ? [q, escapedQuoteAt(text, q)] : [v, wordEnd(text, v)];
}

/** Past a run of backslashes and the quote they escape at `at` (`\\"`, `\\\\\\"`), or `at` if none. */
function escapedQuoteEnd(text: string, at: number): number {
  let i = at;
  while (text.charCodeAt(i) === 92) i++;
  return i > at && isQuote(text.charCodeAt(i)) ? i + 1 : at;
}

/** Index of the next run of backslashes that escapes a quote on this line, or of the line's end. */
function escapedQuoteAt(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isEol(c) || escapedQuoteEnd(text, i) > i) return i;
    if (c === 92) while (text.charCodeAt(i + 1) === 92) i++; // past a run that escapes no quote
  }
  return text.length;
}

// Redis's `requirepass` and `masterauth` set a password with a blank, in redis.conf and in
// `CONFIG SET requirepass x` alike: the next word is the value (`--requirepass x` is a flag).
const DIRECTIVE = /(?<![A-Za-z0-9_.-])(?:requirepass|masterauth)[ \t]+/gi;

const whole = (start: number, end: number): [number, number] => [start, end];

/** `requirepass x` → `requirepass ***`. */
function maskDirectives(text: string): string {
  return maskAfter(text, DIRECTIVE, whole);
}

/**
 * For each match of `re` (global) that `accept` takes, the value after it (wordAt) through `span`,
 * which says what of it to mask ([start, end) or nothing). The next match is looked for after the
 * value; after a match not taken, right after the match (its value may hold one).
 */
function maskAfter(
  text: string,
  re: RegExp,
  span: (start: number, end: number) => [number, number] | undefined,
  accept?: (m: RegExpExecArray) => boolean,
): string {
  let out = '';
  let copied = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const v = m.index + m[0].length;
    const c = text.charCodeAt(v);
    if (v >= text.length || c === 45 || isSpace(c) || (accept && !accept(m))) continue;
    const [start, end] = wordAt(text, v);
    re.lastIndex = Math.max(re.lastIndex, end); // past the value, masked or not: linear
    const masked = span(start, end);
    if (!masked) continue;
    const [a, b] = masked;
    const value = text.slice(a, b);
    if (value === '' || value.startsWith(MASK) || PLACEHOLDER.test(value)) continue;
    out += text.slice(copied, a) + MASK;
    copied = b;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Clients whose short flags take a password: curl's `-u user:password` (`--user`); mysql's and
 * mariadb's `-ppassword`, attached (`-p x` asks for one, and x is the database); redis-cli's `-a x`;
 * sshpass's and `docker login`'s `-p x`. Elsewhere `-u` is a user (`docker run -u 1000:1000`), `-p` a
 * port and `-a` anything, so only after the client's name, up to the end of its command (`;`, `|`,
 * `&`, the line's end).
 */
const CLIENTS =
  '(curl)|(redis-cli)|(sshpass|docker[ \\t]+login)|mysql(?:dump|admin|import|check|show|slap)?|mariadb(?:-dump|-admin|-import|-check|-show|-slap)?';
const CLIENT = new RegExp(String.raw`(?<![A-Za-z0-9_.-])(?:${CLIENTS})(?=[ \t])`, 'g');
const CLIENT_ELEMENT = new RegExp(`(?:^|/)(?:${CLIENTS})$`);
type Client = 'curl' | 'redis' | 'next-p' | 'mysql';
const clientOfMatch = (m: RegExpExecArray): Client =>
  m[1] ? 'curl' : m[2] ? 'redis' : m[3] ? 'next-p' : 'mysql';
const COMMAND_END = /[;|&\n\r]/g;
const CURL_USER = /(?<![A-Za-z0-9_.-])(?:-u(?:[ \t]+|(?=[^\s-]))|--user(?:[ \t]+|=))/g;
const MYSQL_PASSWORD = /(?<![A-Za-z0-9_.-])-p(?=[^\s-])/g;
const NEXT_P = /(?<![A-Za-z0-9_.-])-p(?:[ \t]+|(?=[^\s-]))/g;
const REDIS_AUTH = /(?<![A-Za-z0-9_.-])-a[ \t]+/g;

function maskClients(text: string): string {
  if (!text.includes('-')) return text;
  let out = '';
  let copied = 0;
  CLIENT.lastIndex = 0;
  for (let m = CLIENT.exec(text); m; m = CLIENT.exec(text)) {
    const from = m.index + m[0].length;
    COMMAND_END.lastIndex = from;
    const end = COMMAND_END.exec(text)?.index ?? text.length;
    const command = text.slice(from, end);
    const client = clientOfMatch(m);
    const masked =
      client === 'curl'
        ? maskCurlUser(command)
        : maskAfter(
            command,
            client === 'redis' ? REDIS_AUTH : client === 'next-p' ? NEXT_P : MYSQL_PASSWORD,
            whole,
          );
    if (masked !== command) {
      out += text.slice(copied, from) + masked;
      copied = end;
    }
    CLIENT.lastIndex = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** curl's `-u user:password`: the part after the first colon (`-u user` alone asks for one). */
const maskCurlUser = (text: string) =>
  maskAfter(text, CURL_USER, (start, end) => {
    const colon = text.slice(start, end).indexOf(':');
    return colon >= 0 && start + colon + 1 < end ? [start + colon + 1, end] : undefined;
  });

/** Which client a list element names (`curl`, `/usr/bin/mysql`), if any. */
function clientOf(element: string): Client | undefined {
  const m = CLIENT_ELEMENT.exec(element);
  return m ? clientOfMatch(m) : undefined;
}

/**
 * A list element after a client's name, its password masked to the element's end (an element is one
 * value): `-pX` → `-p***` (mysql, sshpass); the element after sshpass's `-p` and redis-cli's `-a`;
 * curl's `-u` element (`user:X`), `-uuser:X` and `--user=user:X` after the colon, and the value of a
 * secret-named header, its own element after `-H` (`x-api-key:X`).
 */
function clientArg(client: Client, previous: unknown, element: string): string {
  if (client !== 'curl') {
    const after = client === 'redis' ? '-a' : client === 'next-p' ? '-p' : undefined;
    if (after !== undefined && previous === after) return flagValue(element) ? MASK : element;
    return client !== 'redis' && ATTACHED_P.test(element) && !element.startsWith(MASK, 2)
      ? `-p${MASK}`
      : element;
  }
  if (previous === '-H' || previous === '--header') {
    const h = HEADER_ELEMENT.exec(element);
    return h && secretName(h[1] as string) && !element.startsWith(MASK, h[0].length) ? h[0] + MASK : element;
  }
  const at =
    previous === '-u' || previous === '--user'
      ? 0
      : element.startsWith('--user=')
        ? 7
        : ATTACHED_U.test(element)
          ? 2
          : -1;
  const colon = at < 0 ? -1 : element.indexOf(':', at);
  return colon < 0 || colon + 1 === element.length || element.startsWith(MASK, colon + 1)
    ? element
    : element.slice(0, colon + 1) + MASK;
}
const ATTACHED_P = /^-p[^\s-]/;
const ATTACHED_U = /^-u[^\s-]/;

/** The end of a bare word: a blank, a quote, or an escaped quote (the word sits in a JSON string). */
function wordEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c) || isQuote(c) || (c === 92 && isQuote(text.charCodeAt(i + 1)))) return i;
  }
  return text.length;
}

const isUserChar = (c: number) => !(c === 58 || c === 47 || c === 64 || isSpace(c)); // not : / @ or blank
const isPasswordChar = (c: number) => !(c === 47 || c === 64 || isSpace(c)); // not / @ or blank
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

/**
 * `scheme://user:password@host` → `scheme://user:***@host`. Scans from each `://` (a regex starting
 * at every letter of a long run would be quadratic); each scan stops at the next `/`, so it is linear.
 */
function maskUrlCredentials(text: string): string {
  let out = '';
  let copied = 0;
  for (let p = text.indexOf('://'); p > 0; p = text.indexOf('://', p + 3)) {
    const c = text.charCodeAt(p - 1);
    if (!(isNameStart(c) || (c >= 48 && c <= 57) || c === 43 || c === 46 || c === 45)) continue;
    let i = p + 3;
    while (i < text.length && isUserChar(text.charCodeAt(i))) i++;
    if (i === p + 3 || text.charCodeAt(i) !== 58) continue;
    const start = i + 1;
    let j = start;
    while (j < text.length && isPasswordChar(text.charCodeAt(j))) j++;
    if (j === start || text.charCodeAt(j) !== 64) continue;
    out += text.slice(copied, start) + MASK;
    copied = j;
    p = j - 3;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** validate.ts names a field as `argument 'auth.password': <what is wrong>`; that is no assignment. */
const FIELD_NAMED = "argument '";
const SEPARATOR = /[=:]/g;

const isNameChar = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
const isNameStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isBlank = (c: number) => c === 32 || c === 9;
const isQuote = (c: number) => c === 34 || c === 39;
const isEol = (c: number) => c === 10 || c === 13;

/**
 * Masks the values of secret-named assignments: `NAME=value`, `NAME: value` (YAML, log lines; a colon
 * needs a blank after it, so 'registry/app-auth:v1' is an image tag, not a secret) and
 * `"NAME": "value"` (JSON). One pass: each separator looks back over the name before it, which ends at
 * the previous separator at the latest, so the work is linear in the text.
 */
function maskAssignments(text: string, shell: boolean): string {
  let out = '';
  let copied = 0;
  // Whether `scanned` lies inside a double-quoted string of its line, kept up to date as the scan moves
  // on (only forward, so linear): a bare value inside one ends at its closing quote.
  let scanned = 0;
  let inString = false;
  const insideString = (at: number): boolean => {
    for (; scanned < at; scanned++) {
      const c = text.charCodeAt(scanned);
      if (isEol(c)) inString = false;
      else if (c === 34) inString = !inString;
      else if (c === 92 && inString) scanned++;
    }
    return inString;
  };
  SEPARATOR.lastIndex = 0;
  for (let m = SEPARATOR.exec(text); m; m = SEPARATOR.exec(text)) {
    const sep = m.index;
    // Back over blanks and an optional quote to the name's end, then over the name.
    let j = sep - 1;
    while (j >= copied && isBlank(text.charCodeAt(j))) j--;
    const quotedName = j >= copied && isQuote(text.charCodeAt(j));
    // A JSON document inside a string escapes its quotes: `{\\"password\\": \\"x\\"}`.
    if (quotedName) for (j--; j >= copied && text.charCodeAt(j) === 92; ) j--;
    const nameEnd = j + 1;
    while (j >= copied && isNameChar(text.charCodeAt(j))) j--;
    let nameStart = j + 1;
    while (nameStart < nameEnd && !isNameStart(text.charCodeAt(nameStart))) nameStart++;
    if (nameStart === nameEnd) continue;
    // Past the separator: blanks; a bare colon needs one (`image:tag` is no assignment).
    let v = sep + 1;
    while (v < text.length && isBlank(text.charCodeAt(v))) v++;
    const header =
      text[sep] === ':' && !quotedName && v === sep + 1 ? headerKind(text, nameStart, nameEnd) : 0;
    if (header === NO_HEADER) continue;
    if (text.slice(nameStart - FIELD_NAMED.length, nameStart) === FIELD_NAMED) continue;
    if (!secretName(text.slice(nameStart, nameEnd))) continue;

    const open = text.charCodeAt(v);
    // A quoted value ends at its quote, an escaped one at its escaped quote; so does a bare one
    // inside a double-quoted string (`"cmd": "run PASSWORD=a b"`) or right after a quote
    // (`got 'DB_PASSWORD=x'`); otherwise the value runs to the end of the line, spaces and `;` included.
    const before = nameStart > 0 ? text.charCodeAt(nameStart - 1) : 0;
    const escapedOpen = escapedQuoteEnd(text, v);
    const start = isQuote(open) ? v + 1 : escapedOpen;
    const end = isQuote(open)
      ? closingQuote(text, start, open)
      : escapedOpen > v
        ? escapedQuoteAt(text, start)
        : insideString(start)
          ? closingQuote(text, start, 34)
          : isQuote(before) && !quotedName
            ? closingQuote(text, start, before)
            : header === AFTER_HEADER_FLAG
              ? wordEnd(text, start) // `-H x-api-key:k url`: one word, as the shell splits it
              : shell
                ? shellWordEnd(text, start)
                : lineEnd(text, start);
    const value = text.slice(start, end);
    const shown = isQuote(open) ? text.slice(v, end + 1) : value; // escaped quotes: the value alone
    // Already masked (a second pass over text made from redacted data): leave it, and its quotes.
    if (value.trim() === '' || value.startsWith(MASK) || PLACEHOLDER.test(shown.trim())) {
      SEPARATOR.lastIndex = Math.max(SEPARATOR.lastIndex, end);
      continue;
    }
    // In a shell script, `echo DB_PASSWORD=$DB_PASSWORD; sleep 9`: a variable the shell fills in,
    // as the whole value, holds no secret, and what follows is more of the command, read on.
    if (shell && wholeReference(text, nameStart, value, end)) {
      SEPARATOR.lastIndex = Math.max(SEPARATOR.lastIndex, end);
      continue;
    }
    out += text.slice(copied, start) + MASK;
    copied = end;
    SEPARATOR.lastIndex = Math.max(SEPARATOR.lastIndex, end);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** A shell variable: `$NAME` (upper case, as environment variables are) or `${name}`. */
const REFERENCE = /^\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Z_][A-Z0-9_]*)$/;

/**
 * Whether a value in a shell script is one variable and nothing else: the value (`text` up to `end`)
 * is the reference, and the shell word ends with it (a blank, `;`, `&`, `|`, `)`, the script's end),
 * or with the `"` that closes the string it sits in, then the word's end (`echo "P=$X"`). The shell
 * joins whatever else touches it (`$X"pw"`, `"$X"pw`), and single quotes keep `$X` literal: masked.
 * An assignment that opens a line (`PASSWORD=$X`, as an env entry or an env file holds it) is masked.
 */
function wholeReference(text: string, nameStart: number, value: string, end: number): boolean {
  if (nameStart === 0 || isEol(text.charCodeAt(nameStart - 1)) || !REFERENCE.test(value)) return false;
  const after = text.charCodeAt(end);
  return endsWord(text, end) || (after === 34 && endsWord(text, end + 1));
}
const endsWord = (text: string, at: number) => {
  const c = text.charCodeAt(at);
  return at >= text.length || isSpace(c) || c === 59 || c === 38 || c === 124 || c === 41;
};

/**
 * Whether `name:value`, with no blank after the colon, is an HTTP header (`X-Api-Key:k`,
 * `Authorization:Basic k`): a capitalised, hyphenated name (`Api-Key`, `X-AUTH-TOKEN`) or
 * Authorization, Proxy-Authorization or Cookie, standing as a word of its own; or any name right
 * after curl's `-H`/`--header` (`-H x-api-key:k`). Left: an image reference, which is lower case
 * (`app-auth:v1`), and one capitalised word, a status or a field (`AUTH:OK`, `Key:Name`).
 */
function headerKind(text: string, nameStart: number, nameEnd: number): number {
  if (HEADER_FLAG.test(text.slice(Math.max(0, nameStart - 12), nameStart))) return AFTER_HEADER_FLAG;
  const before = nameStart > 0 ? text.charCodeAt(nameStart - 1) : 32;
  const word = isSpace(before) || isQuote(before) || before === 91 || before === 123 || before === 44;
  return word && HEADER_NAME.test(text.slice(nameStart, nameEnd)) ? HEADER : NO_HEADER;
}
const NO_HEADER = 1;
const HEADER = 2;
const AFTER_HEADER_FLAG = 3;
const HEADER_NAME = /^(?:[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+|Authorization|AUTHORIZATION|Cookie|COOKIE)$/;
const HEADER_FLAG = /(?:^|[\s"'])(?:-H|--header)(?:[ \t]+|=)["']?$/;
/** A list element after `-H` (`["curl", "-H", "x-api-key:k"]`): the header's name and blanks. */
const HEADER_ELEMENT = /^([A-Za-z0-9-]+):[ \t]*(?=\S)/;

/** Index of the next unescaped `quote` on this line, or of the line's end. */
function closingQuote(text: string, from: number, quote: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === quote || isEol(c)) return i;
    if (c === 92) i++; // a backslash escapes the next character
  }
  return text.length;
}

/**
 * Where a bare shell word ends: a blank, or `;`, `&`, `|`, `)` (the command goes on). A quoted part
 * is part of the word (`x"a b"` is one word), to its closing quote or the line's end.
 */
function shellWordEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c) || c === 59 || c === 38 || c === 124 || c === 41) return i;
    if (c === 92)
      i++; // a backslash escapes the next character
    else if (isQuote(c)) {
      i = closingQuote(text, i + 1, c);
      if (i >= text.length || isEol(text.charCodeAt(i))) return i;
    }
  }
  return text.length;
}

function lineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (isEol(text.charCodeAt(i))) return i;
  return text.length;
}

/**
 * Secret-named properties masked, every string scanned for secrets: `value` itself when nothing in it
 * is masked, else a copy of what changed (sharing the rest). Callers never change what it returns.
 */
export function redact<T>(value: T): T {
  return walkChanged(value) as T;
}

/**
 * redact() for a result about to be sent as JSON, with that JSON when it could be kept. Every name
 * and string redact() tests is in the JSON text, changed only by escapes (a backslash, then no letter
 * QUICK reads on), so when QUICK finds nothing in the whole text no name or string can hold a secret:
 * the value is left as it is and its JSON handed on (the cap measures it, the reply sends it).
 * Otherwise: what redact() makes. One scan of one string instead of a walk over every row.
 */
export function redactResult<T extends object>(value: T): { value: T; json?: string } {
  const json = JSON.stringify(value);
  // A control character (an escape in the JSON) may split a name QUICK would find: the walk decides.
  if (!CONTROL_IN_JSON.test(json) && !masksSomething(json)) return { value, json };
  // The walk copies only what it masks, so a result it leaves whole keeps its JSON too.
  const masked = redact(value);
  return masked === value ? { value, json } : { value: masked };
}

const QUICK_ALL = new RegExp(QUICK.source, 'gi');
// What JSON.stringify makes of a character clean() removes: `\u0000`–`\u001f` but for tab and
// newline, `\b`, `\f`, `\r`, and U+007F–U+009F and the invisible format characters (zero-width, bidi)
// as they are. (An escaped backslash before `b`, `f`, `r` or `u00` matches too: the walk then finds
// nothing to mask, and the JSON is kept.)
const CONTROL_IN_JSON = new RegExp(String.raw`\\(?:u00[01]|[bfr])|[\u007f-\u009f${INVISIBLE}]`);
const QUOTE = 34;
const BACKSLASH = 92;

/**
 * Whether redact() would mask anything in the value `json` is the compact JSON of. A hit of QUICK
 * starts inside one string token (its patterns begin with a letter or `://`, which JSON's syntax never
 * holds): that name or string is decoded and tested as the walk tests it, a name by secretName (the
 * walk masks only some values under such a name: any counts here) and a string by redactText. An
 * ordinary word ('compassionate', 'leakey' in a container's name) then costs one token, not a walk
 * over every row. The scan goes on after that token, not after the hit: a hit may run on past the
 * token's end (`://` then anything up to an `@`), over names it must still see.
 */
function masksSomething(json: string): boolean {
  QUICK_ALL.lastIndex = 0;
  for (let hit = QUICK_ALL.exec(json); hit !== null; hit = QUICK_ALL.exec(json)) {
    const open = openingQuote(json, hit.index);
    const close = closingQuoteOf(json, hit.index);
    if (open < 0 || close < 0) return true; // not inside a string as expected: the walk decides
    const text = tokenText(json, open, close);
    if (text === undefined) return true;
    const isName = json.charCodeAt(close + 1) === 58; // a name is followed by `:`
    if (isName ? secretName(text) : masksToken(json, open, close, text)) return true;
    QUICK_ALL.lastIndex = close + 1;
  }
  return false;
}

/**
 * Whether the walk would mask something for the string value `text` (its token from `open` to
 * `close`). A value after `[` or `,` is a list element (an object's values follow `:`): an entry, a
 * secret-named flag with another element after it, or a client's name.
 */
function masksToken(json: string, open: number, close: number, text: string): boolean {
  const before = json.charCodeAt(open - 1);
  if (before !== 91 && before !== 44) return redactText(text) !== text;
  // A client's name (`"curl"` in a command list): the walk reads the elements after it. A key's END
  // line: the list may start inside that key (headlessKey).
  return (
    redactEntry(text) !== text ||
    (text.includes('-----END ') && KEY_END_LINE.test(text)) ||
    (json.charCodeAt(close + 1) === 44 && isSecretFlag(text)) ||
    clientOf(text) !== undefined
  );
}

function tokenText(json: string, open: number, close: number): string | undefined {
  try {
    return JSON.parse(json.slice(open, close + 1)) as string;
  } catch {
    return undefined;
  }
}

/** The unescaped quote that opens the string token holding `at`, or -1 if none does. */
function openingQuote(json: string, at: number): number {
  for (let i = at - 1; i >= 0; i--) {
    if (json.charCodeAt(i) !== QUOTE || escaped(json, i)) continue;
    // An opening quote follows the start, `{`, `[`, `,` or `:`; anything else closed a token before `at`.
    const before = i === 0 ? 44 : json.charCodeAt(i - 1);
    return before === 123 || before === 91 || before === 44 || before === 58 ? i : -1;
  }
  return -1;
}

/** The unescaped quote that closes the string token holding `at`, or -1. */
function closingQuoteOf(json: string, at: number): number {
  for (let i = at; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return -1;
}

/** Whether the character at `i` is escaped: an odd run of backslashes before it. */
function escaped(json: string, i: number): boolean {
  let n = 0;
  while (i - 1 - n >= 0 && json.charCodeAt(i - 1 - n) === BACKSLASH) n++;
  return n % 2 === 1;
}

/**
 * isSecretName per name seen in results and texts. Rows repeat the same few names (30 rows of
 * id, name, image…), so this answers most lookups without the regexes; bounded, cleared when full.
 */
const secretNames = new Map<string, boolean>();
function secretName(k: string): boolean {
  let hit = secretNames.get(k);
  if (hit === undefined) {
    hit = isSecretName(k);
    if (k.length > 128) return hit; // a long run of name characters in some text: not worth keeping
    if (secretNames.size >= 4096) secretNames.clear();
    secretNames.set(k, hit);
  }
  return hit;
}

const masksValue = (k: string, v: unknown): boolean =>
  (typeof v === 'string' || typeof v === 'number') &&
  v !== '' &&
  secretName(k) &&
  !PLACEHOLDER.test(String(v));

/** The walk of redact(): copies only the objects and arrays on the way to what it masks. */
function walkChanged(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  return Array.isArray(value) ? walkList(value) : mapChanged(value, redactChild);
}

// A command list that runs a shell script: `["sh", "-c", SCRIPT]`, `["/bin/bash", "-ec", SCRIPT]`.
const SHELL = /(?:^|\/)(?:ba|da|z|k|a)?sh$/;
const SCRIPT_FLAG = /^-[a-z]*c$/;
const isScript = (list: unknown[], i: number): boolean =>
  i >= 2 &&
  typeof list[0] === 'string' &&
  SHELL.test(list[0]) &&
  typeof list[i - 1] === 'string' &&
  SCRIPT_FLAG.test(list[i - 1] as string);

/**
 * A shell script as the list element after `sh -c`: masked as text, but a bare value ends with its
 * word (`echo PASSWORD=x; sleep 9` keeps `; sleep 9`), since the shell reads it so.
 */
function redactScript(script: string): string {
  return hasControl(script) ? asShown(script, (t) => maskText(t, true)) : maskText(script, true);
}

/**
 * A list: each string an entry (redactEntry), each other element walked; the element after a
 * secret-named flag (`["--password", "x"]`) masked, unless it is the next flag or says nothing.
 */
function walkList(list: unknown[]): unknown[] {
  let out: unknown[] | undefined;
  let afterFlag = false;
  // The client a command list runs (`["curl", "-u", "user:x"]`), once an element names one.
  let client: Client | undefined;
  // Private keys whose lines are items of their own (log lines): their last items, and what marks their
  // lines. Several at once when two streams print keys with their lines interleaved.
  let keys: KeySpan[] | undefined = headlessKey(list);
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    let w: unknown =
      afterFlag && flagValue(v)
        ? MASK
        : typeof v === 'string'
          ? isScript(list, i)
            ? redactScript(v)
            : redactEntry(v)
          : walkChanged(v);
    // Only an item that masked a key's BEGIN line is looked at further: nothing else pays for this.
    if (typeof v === 'string' && w !== v && v.includes('-----BEGIN ')) {
      const span = keySpan(list, i);
      if (span) keys = [...(keys ?? []), span];
    } else if (keys && typeof v === 'string') {
      keys = keys.filter((k) => i <= k.last);
      w = keyLine(v, keys) ?? w;
      if (keys.length === 0) keys = undefined;
    }
    if (client && typeof w === 'string') w = clientArg(client, list[i - 1], w);
    if (typeof v === 'string') client = clientOf(v) ?? client;
    afterFlag = typeof v === 'string' && isSecretFlag(v);
    if (w !== v && !out) out = list.slice(0, i);
    out?.push(w);
  }
  return out ?? list;
}

/**
 * A private key printed one line per item (a log's `lines`): from the item that begins it to the item
 * holding its END line, every item is masked. `prefix` is what stands before the BEGIN armour in its
 * item (a stream mark `[err] `, a service `web | `, a timestamp), kept on each masked item that starts
 * with it; `last` the index of the END item, or without one the last item that reads as the key's body.
 */
interface KeySpan {
  last: number;
  prefix: string;
  endMark: string;
}

/** Items looked at past a BEGIN item for its END: more than any key's lines, with another stream's between. */
const KEY_ITEMS = 256;

/** The span of the last key item `i` begins and does not end, if any (keySpan). */
function keySpan(list: unknown[], i: number): KeySpan | undefined {
  const item = shownItem(list[i]);
  let m: RegExpExecArray | null = null;
  PEM_BEGIN.lastIndex = 0;
  for (let next = PEM_BEGIN.exec(item); next; next = PEM_BEGIN.exec(item)) m = next;
  if (!m) return undefined;
  const endMark = `-----END ${m[1]}-----`;
  if (item.includes(endMark, m.index)) return undefined;
  const prefix = item.slice(0, m.index);
  const shape = digitless(prefix);
  const stop = Math.min(list.length - 1, i + KEY_ITEMS);
  // Its END: on an item marked as the BEGIN item is (the same stream or service; a timestamp differs in
  // its digits only), before another BEGIN of the same key on such an item.
  for (let j = i + 1; j <= stop; j++) {
    const text = shownItem(list[j]);
    const at = text.indexOf(endMark);
    if (at >= 0 && digitless(text.slice(0, at)) === shape) return { last: j, prefix, endMark };
    const again = text.indexOf(`-----BEGIN ${m[1]}-----`);
    if (again >= 0 && digitless(text.slice(0, again)) === shape) break;
  }
  // No END (the key was cut short, or is still being printed): the items after it that read as its
  // body. A few lines of another stream, or a progress line, may interrupt it: past such a gap the
  // body goes on from a full body line (a word such as `MORE` after a gap is not taken for one).
  const words = prefix.split(' ').length - 1;
  let last = i;
  let gap = 0;
  for (let j = i + 1; j <= stop; j++) {
    const body = bodyOf(shownItem(list[j]), prefix, words);
    if (PEM_LINE.test(body) && (gap === 0 || FULL_BODY.test(body))) {
      last = j;
      gap = 0;
    } else if (++gap > KEY_GAP) break;
  }
  return last > i ? { last, prefix, endMark } : undefined;
}

/**
 * A masker of log lines as they are read, one stream's lines after another's: each line of a PEM
 * private key printed one line at a time becomes `***` (its BEGIN line redacted, what follows its END
 * armour kept), so a filter run on the lines (grep, a wait's pattern) matches, and keeps, masked text
 * only. Each stream's key is followed on its own; an unended one as keySpan follows it.
 */
export function keyLineMasker(): (line: string, stream: string) => string {
  const open = new Map<string, { endMark: string; gap: number }>();
  return (line, stream) => {
    const key = open.get(stream);
    if (key) {
      const end = line.indexOf(key.endMark);
      if (end >= 0 && line.slice(0, end).trim() === '') {
        open.delete(stream);
        return MASK + redactText(line.slice(end + key.endMark.length));
      }
      if (PEM_LINE.test(line) && (key.gap === 0 || FULL_BODY.test(line))) {
        key.gap = 0;
        return MASK;
      }
      if (++key.gap > KEY_GAP) open.delete(stream);
    }
    if (!line.includes('-----BEGIN ')) return line;
    let m: RegExpExecArray | null = null;
    PEM_BEGIN.lastIndex = 0;
    for (let next = PEM_BEGIN.exec(line); next; next = PEM_BEGIN.exec(line)) m = next;
    if (m) {
      const endMark = `-----END ${m[1]}-----`;
      if (!line.includes(endMark, m.index)) open.set(stream, { endMark, gap: 0 });
    }
    return redactText(line);
  };
}

/** Items not of a key's body that may interrupt an unended one before it is taken to have stopped. */
const KEY_GAP = 8;
/** A full line of a PEM body (64 characters of base64, 70 in PGP's armour; letters of both cases, digits). */
const FULL_BODY = /^[ \t]*(?=\S*[A-Z])(?=\S*[a-z])(?=\S*[0-9])[A-Za-z0-9+/]{40,76}={0,2}[ \t]*$/;
/** The end of an item that may be a line of a key's body: what a list starting inside a key starts with. */
const BODY_TAIL = /(?:^|[ \]|])[A-Za-z0-9+/]{8,}={0,2}[ \t]*$/;

/**
 * The span of a key a list starts inside (`tail` or a cut kept its last lines but not its BEGIN): from
 * the first items, one reading as a body line, to the END line within reach, if no BEGIN comes first.
 */
function headlessKey(list: unknown[]): KeySpan[] | undefined {
  // Its first body line among the first items (another stream's line may come before it).
  let body = false;
  for (let j = 0; j < list.length && j < KEY_GAP && !body; j++) {
    const item = list[j];
    if (typeof item !== 'string') return undefined;
    body = BODY_TAIL.test(item);
  }
  if (!body) return undefined;
  const stop = Math.min(list.length - 1, KEY_ITEMS);
  for (let j = 0; j <= stop; j++) {
    const item = list[j];
    if (typeof item !== 'string') return undefined;
    if (item.includes('-----BEGIN ')) return undefined;
    if (!item.includes('-----END ')) continue;
    const text = shownItem(item);
    const end = KEY_END_LINE.exec(text);
    if (!end) continue;
    return [{ last: j, prefix: text.slice(0, end.index), endMark: end[0] }];
  }
  return undefined;
}

const KEY_END_LINE = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;

const PEM_LINE = new RegExp(`${PEM_BODY.source}|${PEM_HEADER.source}`);
const shownItem = (v: unknown): string => (typeof v !== 'string' ? '' : hasControl(v) ? clean(v) : v);
const digitless = (text: string) => text.replace(/\d+/g, '');

/** An item's text after its mark: the key's prefix, or as many words as it has. */
function bodyOf(text: string, prefix: string, words: number): string {
  if (text.startsWith(prefix)) return text.slice(prefix.length);
  let at = 0;
  for (let n = 0; n < words && at >= 0; n++) at = text.indexOf(' ', at) + 1 || -1;
  return at < 0 ? text : text.slice(at);
}

/**
 * An item inside keys' spans that reads as a key's line (body, header or END) after a mark shaped as
 * that key's: `***` after the item's own mark, what follows the END armour kept, redacted. Another
 * stream's line printed between (not key text) is left as it is; undefined then.
 */
function keyLine(item: string, keys: readonly KeySpan[]): string | undefined {
  const text = shownItem(item);
  for (const key of keys) {
    const body = bodyOf(text, key.prefix, key.prefix.split(' ').length - 1);
    const mark = text.slice(0, text.length - body.length);
    if (digitless(mark) !== digitless(key.prefix)) continue;
    const end = body.indexOf(key.endMark);
    if (end >= 0 && body.slice(0, end).trim() === '')
      return mark + MASK + redactText(body.slice(end + key.endMark.length));
    if (PEM_LINE.test(body)) return mark + MASK;
  }
  return undefined;
}

/** Whether a list element after a secret flag is its value to mask. */
const flagValue = (v: unknown): boolean =>
  typeof v === 'number' ||
  (typeof v === 'string' &&
    v !== '' &&
    v.charCodeAt(0) !== 45 &&
    !v.startsWith(MASK) &&
    !PLACEHOLDER.test(v));

const redactChild = (v: unknown, k: string | undefined): unknown =>
  k !== undefined && masksValue(k, v) ? MASK : walkChanged(v);
