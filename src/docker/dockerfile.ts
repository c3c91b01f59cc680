/**
 * What a Dockerfile asks the engine to fetch itself. The classic builder fetches `ADD <url>` in the
 * engine's own process, so in the host's network namespace: it reaches what only the host reaches
 * (loopback services, link-local metadata, the LAN). This reads a Dockerfile as the classic builder of
 * Docker 20.10 splits it (the `# escape=` directive, continuation lines, comments inside them,
 * instructions in any case, ONBUILD triggers, flags, the JSON form) and names every ADD source that is
 * or could become a remote one. It over-approximates: quotes and escape characters are removed before
 * a source is judged (the builder's word lexer removes them), and a source holding a variable is
 * named too, since a build arg could make it a URL. The classic builder has no heredocs: every line is
 * read as an instruction, which can only name more. Where the builder's Go reading could still differ
 * from ours (its flag splitter works byte by byte), an ADD is refused whole: a URL anywhere in its
 * arguments, or a character we cannot split as it does. Pure; knows nothing of MCP or of any tool.
 */

/** One ADD source that the engine would, or could, fetch over the network. */
export interface RemoteSource {
  /** 1-based line of the instruction. */
  line: number;
  source: string;
  /** A URL; a variable a build arg could make one; or characters the builder may split otherwise. */
  why: 'url' | 'variable' | 'unclear' | 'directive';
}

/** Go's unicode.IsSpace, which the builder trims lines with (JavaScript's \s differs: U+0085, U+FEFF). */
const SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const COMMENT = new RegExp(`^[${SPACE}]*#`);
const BLANK = new RegExp(`^[${SPACE}]*$`);
const LEADING = new RegExp(`^[${SPACE}]+`);

/** Go RE2's `\\s`, which the directive pattern uses: no \\v, nothing beyond ASCII. */
const GO_S = '[\\t\\n\\f\\r ]';
/** Docker 20.10's directive pattern; only `escape` and `syntax` are directives, any other line ends them. */
const DIRECTIVE = new RegExp(`^#${GO_S}*([a-zA-Z][a-zA-Z0-9]*)${GO_S}*=${GO_S}*([^\n]+?)${GO_S}*$`);
/** A URL scheme (http, https, git, ssh, anything://), or scp-like git (git@host:repo). */
const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;
/** What the builder splits an instruction's name from its arguments on (Go's `[\t\v\f\r ]+`), widened to Go's IsSpace. */
const WORD_END = `[${SPACE}]+`;
const ONBUILD = new RegExp(`^onbuild(?:${WORD_END}|$)`, 'i');
const ADD = new RegExp(`^add(?:${WORD_END}|$)`, 'i');
const ONE_SPACE = new RegExp(`^[${SPACE}]$`);
const TRIM = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, 'g');

/** A line as Go's scanner and the builder's trimNewline leave it: no trailing \r or \n. */
const trimNewline = (line: string) => line.replace(/[\r\n]+$/, '');

/** The escape character the `# escape=` directive sets (default backslash), and where instructions start. */
function directives(lines: string[]): { esc: string; start: number } {
  let esc = '\\';
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(trimNewline(lines[i] ?? '').replace(LEADING, ''));
    const key = m?.[1]?.toLowerCase();
    if (key === 'escape') esc = m?.[2] === '`' ? '`' : '\\';
    else if (key !== 'syntax') break;
  }
  return { esc, start: i };
}

/** Logical instructions: continuation lines joined, comment and blank lines inside them dropped. */
function instructions(text: string): { line: number; text: string; esc: string }[] {
  // As Go's line scanner: lines end at \n only (a lone \r is whitespace inside a line).
  const lines = text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map(trimNewline);
  const { esc, start } = directives(lines);
  // Docker's own pattern: an escape character ending the line continues it, unless another escape
  // character precedes it ('RUN a \\' ends there, and the next line is an instruction of its own).
  const e = esc === '\\' ? '\\\\' : esc;
  const cont = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  const out: { line: number; text: string; esc: string }[] = [];
  let acc: string | undefined;
  let first = 0;
  for (let i = start; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (COMMENT.test(raw) || (acc !== undefined && BLANK.test(raw))) continue;
    if (acc === undefined) first = i + 1;
    const more = cont.test(raw);
    const part = more ? raw.replace(cont, '$1') : raw;
    acc = acc === undefined ? part : `${acc}${part}`;
    if (more) continue;
    if (!BLANK.test(acc)) out.push({ line: first, text: acc, esc });
    acc = undefined;
  }
  if (acc !== undefined && !BLANK.test(acc)) out.push({ line: first, text: acc, esc });
  return out;
}

/**
 * The sources of one ADD: after its flags (--chown, --chmod, --checksum…), the JSON form's strings or
 * else whitespace-separated words, without the destination; quotes, escape characters and JSON
 * punctuation removed, as the builder's word lexer would (an over-approximation).
 */
function addSources(args: string, esc: string): string[] {
  const rest = args.replace(/^\s*(?:--\S*\s*)*/, '').trim();
  let all: string[] | undefined;
  if (rest.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(rest);
      if (Array.isArray(parsed) && parsed.every((w) => typeof w === 'string')) all = parsed as string[];
    } catch {
      // Not JSON: the builder reads it as the plain form.
    }
  }
  all ??= rest.split(/\s+/).filter(Boolean);
  // One word alone: the builder refuses it, but judge it anyway.
  const sources = all.length > 1 ? all.slice(0, -1) : all;
  const strip = new RegExp(`["'\\[\\],${esc === '\\' ? '\\\\' : esc}]`, 'g');
  return sources.map((s) => s.replace(strip, '').trim());
}

/**
 * The ADD sources (ONBUILD ADD included) in `dockerfile` that are remote (a URL, or scp-like git) or
 * hold a variable (`$X`, `${X}`), in order.
 */
export function remoteAddSources(dockerfile: string): RemoteSource[] {
  const found: RemoteSource[] = [];
  const late = laterEscape(dockerfile);
  if (late) found.push(late);
  for (const ins of instructions(dockerfile)) {
    // As the builder: trimmed with Go's IsSpace, the name lower-cased by Go (which maps U+0130 to 'i').
    let body = ins.text.replace(TRIM, '').replace(/\u0130/g, 'i');
    // ONBUILD runs its instruction in a build FROM this image: judged as if it ran here.
    for (;;) {
      const m = ONBUILD.exec(body);
      if (!m) break;
      body = body.slice(m[0].length).replace(TRIM, '');
    }
    const m = ADD.exec(body);
    if (!m) continue;
    const args = body.slice(m[0].length);
    const before = found.length;
    for (const source of addSources(args, ins.esc)) {
      if (REMOTE.test(source)) found.push({ line: ins.line, source, why: 'url' });
      else if (source.includes('$')) found.push({ line: ins.line, source, why: 'variable' });
    }
    if (found.length > before) continue;
    // What the builder could read differently from the split above is refused whole.
    const why = unreadable(args, ins.esc);
    if (why) found.push({ line: ins.line, source: args.trim(), why });
  }
  return found;
}

/**
 * An `# escape=` directive after a directive Docker 20.10 does not know (`# check=`, which newer
 * builders read): a newer engine applies that escape character and 20.10 does not, so which lines
 * continue depends on the engine. Such a Dockerfile is refused whole rather than read one way.
 */
function laterEscape(dockerfile: string): RemoteSource | undefined {
  const lines = dockerfile
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map(trimNewline);
  for (let i = directives(lines).start; i < lines.length; i++) {
    const m = DIRECTIVE.exec((lines[i] ?? '').replace(LEADING, ''));
    if (!m) return undefined;
    if (m[1]?.toLowerCase() === 'escape')
      return { line: i + 1, source: (lines[i] ?? '').trim(), why: 'directive' };
  }
  return undefined;
}

/**
 * Why an ADD's arguments are refused whole though no source above was remote: a URL or scp-like git
 * anywhere in them (quotes, escape characters, JSON punctuation and \u escapes removed), which a
 * reading of flags or words other than ours could make a source; or a character we cannot split as
 * the builder does. The builder ends a flag at any byte Go's IsSpace takes for a space, 0x85 and 0xA0
 * included, so a character whose UTF-8 holds one (à is C3 A0) splits a flag where we would not; other
 * Unicode spaces, and bytes that are not UTF-8 (read here as U+FFFD), are refused as well.
 */
function unreadable(args: string, esc: string): RemoteSource['why'] | undefined {
  const strip = new RegExp(`["'\\[\\],${esc === '\\' ? '\\\\' : esc}]`, 'g');
  const decoded = args.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) =>
    String.fromCharCode(Number.parseInt(h, 16)),
  );
  for (const text of [args, decoded]) {
    const plain = text.replace(strip, '');
    if (plain.includes('://') || /git@/i.test(plain)) return 'url';
  }
  for (const ch of args) {
    if (ch.charCodeAt(0) < 0x80) continue;
    if (ch === '\ufffd' || ONE_SPACE.test(ch)) return 'unclear';
    if (Buffer.from(ch).some((b) => b === 0x85 || b === 0xa0)) return 'unclear';
  }
  return undefined;
}

/** The Dockerfile a context stream carries, exactly as sent: its name in the context and its text. */
export interface SentDockerfile {
  name: string;
  text: string;
}

/** Context streams build-context.ts packed, with their Dockerfile; the engine guard judges a build by it. */
export const sentDockerfiles = new WeakMap<object, SentDockerfile>();

/** The Dockerfile inside `upload`, when it is a context stream this server packed; else undefined. */
export function sentDockerfile(upload: unknown): SentDockerfile | undefined {
  return typeof upload === 'object' && upload !== null ? sentDockerfiles.get(upload) : undefined;
}

/**
 * A Dockerfile name as the engine joins it to the context root ('./a//b' is 'a/b'); undefined for one
 * that is absolute or leaves the context. On a Windows server `\` separates too (the name is joined to
 * the context there with Windows' rules), and a drive or UNC name is absolute; elsewhere a `..` between
 * backslashes is refused all the same, as a name meant for Windows.
 */
export function dockerfileName(name: string, platform: string = process.platform): string | undefined {
  const windows = platform === 'win32';
  if (name.startsWith('/') || (windows && (name.startsWith('\\') || /^[A-Za-z]:/.test(name))))
    return undefined;
  if (!windows && name.split(/[\\/]/).includes('..') && name.includes('\\')) return undefined;
  const parts: string[] = [];
  for (const part of name.split(windows ? /[\\/]/ : '/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length > 0 ? parts.join('/') : undefined;
}
