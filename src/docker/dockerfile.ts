/**
 * What a Dockerfile asks the engine to fetch itself. The classic builder fetches `ADD <url>` in the
 * engine's own process, so in the host's network namespace: it reaches what only the host reaches
 * (loopback services, link-local metadata, the LAN). This reads a Dockerfile as the classic builder of
 * Docker 20.10 splits it (the `# escape=` directive, continuation lines, comments inside them,
 * instructions in any case, ONBUILD triggers, flags, the JSON form) and names every ADD source that is
 * or could become a remote one. It over-approximates: quotes and escape characters are removed before
 * a source is judged (the builder's word lexer removes them), and a source holding a variable is
 * named too, since a build arg could make it a URL. The classic builder has no heredocs: every line is
 * read as an instruction, which can only name more. Pure; knows nothing of MCP or of any tool.
 */

/** One ADD source that the engine would, or could, fetch over the network. */
export interface RemoteSource {
  /** 1-based line of the instruction. */
  line: number;
  source: string;
  why: 'url' | 'variable';
}

/** Go's unicode.IsSpace, which the builder trims lines with (JavaScript's \s differs: U+0085, U+FEFF). */
const SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const COMMENT = new RegExp(`^[${SPACE}]*#`);
const BLANK = new RegExp(`^[${SPACE}]*$`);
const LEADING = new RegExp(`^[${SPACE}]+`);

/** The two directives of Docker 20.10's parser; any other line ends the directives. */
const ESCAPE = /^#[ \t]*escape[ \t]*=[ \t]*(.)/i;
const SYNTAX = /^#[ \t]*syntax[ \t]*=/i;
/** A URL scheme (http, https, git, ssh, anything://), or scp-like git (git@host:repo). */
const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;

/** The escape character the `# escape=` directive sets (default backslash), and where instructions start. */
function directives(lines: string[]): { esc: string; start: number } {
  let esc = '\\';
  let i = 0;
  for (; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(LEADING, '');
    const m = ESCAPE.exec(line);
    if (m) esc = m[1] === '`' ? '`' : '\\';
    else if (!SYNTAX.test(line)) break;
  }
  return { esc, start: i };
}

/** Logical instructions: continuation lines joined, comment and blank lines inside them dropped. */
function instructions(text: string): { line: number; text: string; esc: string }[] {
  // As Go's line scanner: lines end at \n only (a lone \r is whitespace inside a line).
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const { esc, start } = directives(lines);
  const cont = new RegExp(`${esc === '\\' ? '\\\\' : esc}[ \\t]*$`);
  const out: { line: number; text: string; esc: string }[] = [];
  let acc: string | undefined;
  let first = 0;
  for (let i = start; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (COMMENT.test(raw) || (acc !== undefined && BLANK.test(raw))) continue;
    if (acc === undefined) first = i + 1;
    const more = cont.test(raw);
    const part = more ? raw.replace(cont, '') : raw;
    acc = acc === undefined ? part : `${acc}${part}`;
    if (more) continue;
    if (acc.trim()) out.push({ line: first, text: acc, esc });
    acc = undefined;
  }
  if (acc?.trim()) out.push({ line: first, text: acc, esc });
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
  for (const ins of instructions(dockerfile)) {
    let body = ins.text.trimStart();
    // ONBUILD runs its instruction in a build FROM this image: judged as if it ran here.
    for (;;) {
      const m = /^onbuild\s+/i.exec(body);
      if (!m) break;
      body = body.slice(m[0].length);
    }
    const m = /^add(?:\s+|$)/i.exec(body);
    if (!m) continue;
    for (const source of addSources(body.slice(m[0].length), ins.esc)) {
      if (REMOTE.test(source)) found.push({ line: ins.line, source, why: 'url' });
      else if (source.includes('$')) found.push({ line: ins.line, source, why: 'variable' });
    }
  }
  return found;
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
 * that is absolute or leaves the context.
 */
export function dockerfileName(name: string): string | undefined {
  if (name.startsWith('/')) return undefined;
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length > 0 ? parts.join('/') : undefined;
}
