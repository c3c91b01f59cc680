/**
 * The host-path rule: a bind source, a bind volume's device, a build context or an image tar is
 * allowed only under an allowed root, never at or around a sensitive path. Roots default to the
 * user's home and the system temp dir (for an engine that shares this server's filesystem); setting
 * the allowlist replaces them. The home's dot-directories and the home itself stay refused unless an
 * explicit allowlist entry names them. Paths are resolved with realpath where the engine sees this
 * server's filesystem; otherwise the check is lexical. Pure apart from the injected resolver.
 */
import { ToolError } from '../../core/errors.ts';

/** `realpath` returns undefined when the path does not exist. */
export interface PathResolver {
  realpath(path: string): string | undefined;
}

export const ALLOWLIST_SETTING = 'SAFETY_VOLUME_MOUNT_ALLOWLIST (--mount-allowlist)';
export const BLOCKLIST_SETTING = 'SAFETY_VOLUME_MOUNT_BLOCKLIST (--mount-blocklist)';

/** System directories whose exposure is root on the host: config, binaries, libraries, kernel interfaces. */
export const SYSTEM_PATHS = [
  ...'/etc /usr /lib /lib32 /lib64 /libx32 /bin /sbin /boot /proc /sys /dev /var/run /run'.split(' '),
  ...'/var/lib/docker /var/lib/containerd /run/containerd /var/run/docker.sock /run/docker.sock'.split(' '),
];

export interface PathPolicy {
  /** --mount-allowlist as written ('~' and '~/x' allowed); empty = the default roots. */
  allowlist: readonly string[];
  blocklist: readonly string[];
  home: string;
  tmpDir: string;
  /** Engine directories and sockets plus SYSTEM_PATHS: refused at, under or above them. */
  sensitive: readonly string[];
  /** Resolve symlinks (the engine sees this filesystem); false: lexical, allowlist only. */
  shares: boolean;
  /**
   * The path is on whichever Swarm node runs a service's task, not on the engine's host alone: no
   * default roots (allowlist only), the path as written must be under an entry (a node's symlinks are
   * not seen from here) and, with `shares`, also as it resolves here (a task may run on this host);
   * the home's dot-directories are refused as written too, and the refusal says why.
   */
  onNodes?: boolean;
  /** Case-insensitive filesystem (macOS, Windows): allowlist entries match in any case. */
  foldCase?: boolean;
  fs: PathResolver;
  /** Told when an explicit allowlist entry admits a sensitive path. */
  onAdmit?: (message: string) => void;
}

const DRIVE = /^[a-zA-Z]:(?:[\\/]|$)/;
const PIPE = /^[\\/]{2}[.?][\\/]pipe[\\/]/i;

/** Lexical: collapses '//', resolves '.' and '..' (never above '/'), drops a trailing '/'. */
export function normaliseHostPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** Lexically normalised, Windows drive and pipe paths in forward-slash form. */
export function displayPath(src: string): string {
  if (PIPE.test(src)) return `//./pipe/${src.slice(9).replace(/\\/g, '/')}`;
  if (DRIVE.test(src)) return `${src.slice(0, 2)}${normaliseHostPath(src.slice(2).replace(/\\/g, '/'))}`;
  return normaliseHostPath(src);
}

/** Whitespace and invisible format characters, which a reader (and String.trim) passes over but the engine keeps. */
const BLANK = /[\s\p{Cf}]/u;

/**
 * Why `src` would be read otherwise by a person or a trimming parser than by the engine, which keeps
 * every character (Go's path.Clean treats only a bare `.` or `..` as special): it begins or ends
 * with whitespace, or a component looks like `.` or `..` but carries whitespace (`/a/t/.. `).
 */
function unkeptPart(src: string): string | undefined {
  if (/^[\s\p{Cf}]/u.test(src)) return 'begins with whitespace';
  if (/[\s\p{Cf}]$/u.test(src)) return 'ends with whitespace';
  const seg = src
    .split(/[\\/]/)
    .find((s) => s !== '.' && s !== '..' && /^[.\s\p{Cf}]+$/u.test(s) && BLANK.test(s) && s.includes('.'));
  return seg === undefined ? undefined : `has a component '${visible(seg)}', which is not '.' or '..'`;
}

/** `s` with whitespace other than a plain space, and invisible characters, written as \uXXXX. */
const visible = (s: string) =>
  s.replace(/[\s\p{Cf}]/gu, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return c === ' '
      ? c
      : code > 0xffff
        ? `\\u{${code.toString(16)}}`
        : `\\u${code.toString(16).padStart(4, '0')}`;
  });

/** Whether a string is a host path (absolute, or meant as one: '~', '.'), not a volume name. */
export const looksLikeHostPath = (s: string): boolean => /^[/\\~.]/.test(s.trim()) || DRIVE.test(s.trim());

export function isAtOrUnder(path: string, base: string): boolean {
  if (base === '/') return path.startsWith('/');
  return path === base || path.startsWith(`${base}/`);
}

/**
 * The path the engine would really use. It creates a missing bind source, following symlinks in
 * the existing ancestors, so resolve the deepest existing one and append the rest.
 */
export function resolveHostPath(src: string, fs: PathResolver): string | undefined {
  if (!src.startsWith('/') || PIPE.test(src)) return undefined;
  let head = normaliseHostPath(src);
  let tail = '';
  for (let i = 0; i < 4096; i++) {
    const real = fs.realpath(head);
    if (real !== undefined) return normaliseHostPath(`${real}/${tail}`);
    if (head === '/') return undefined;
    const cut = head.lastIndexOf('/');
    tail = `${head.slice(cut + 1)}/${tail}`;
    head = head.slice(0, cut) || '/';
  }
  return undefined;
}

/** Where `raw` resolves now under `p`: lexically normalised, then through symlinks when the engine shares this filesystem. */
export function resolvedHostPath(raw: string, p: PathPolicy): string {
  const lexical = displayPath(raw);
  return p.shares ? (resolveHostPath(lexical, p.fs) ?? lexical) : lexical;
}

interface Root {
  keys: string[];
  /** Written as a path (not '~', not a default): it may admit a sensitive path it names. */
  explicit: boolean;
}

/**
 * Checks one host path; `arg` names the argument in the refusal (`binds[0]`, `path`). Returns the
 * path as it resolves now (what to open or mount). Throws invalid_argument for a path that is not
 * absolute, policy_denied for one the policy refuses.
 */
export function checkHostPath(raw: string, arg: string, p: PathPolicy): string {
  // Judged as written: the engine neither trims nor treats `.. ` as `..`, so neither may we.
  const src = raw;
  if (src.includes('\0'))
    throw new ToolError('invalid_argument', `invalid argument '${arg}': the host path contains a NUL byte`, {
      hint: 'Remove it.',
    });
  const odd = unkeptPart(src);
  if (odd)
    throw new ToolError(
      'invalid_argument',
      `invalid argument '${arg}': host path '${visible(src)}' ${odd}, which the engine keeps as part of the name`,
      {
        hint: 'Remove the whitespace: the engine would mount (and create, as root) a path of that exact name.',
      },
    );
  if (!src.startsWith('/') && !src.startsWith('\\') && !DRIVE.test(src))
    throw new ToolError('invalid_argument', `invalid argument '${arg}': host path '${src}' is not absolute`, {
      hint: 'Give an absolute host path such as /home/you/project; the engine does not expand ~ or relative paths.',
    });
  const lexical = displayPath(src);
  const resolved = resolvedHostPath(src, p);
  const shown =
    resolved !== lexical
      ? `'${src}' (resolving to '${resolved}')`
      : lexical === src
        ? `'${src}'`
        : `'${lexical}' (from '${src}')`;
  // A caller on another host is told its own path (and its lexical form), not what it resolves to on
  // the server nor the server's roots and sensitive places; `remoteWhy` is the reason in those terms.
  const own = lexical === src ? `'${src}'` : `'${lexical}' (from '${src}')`;
  const deny = (why: string, hint: string, remoteWhy = why, settings = ALLOWLIST_SETTING) =>
    new ToolError('policy_denied', `${arg}: host path ${shown} is refused: ${why}`, {
      hint,
      remote: {
        message: `${arg}: host path ${own} is refused: ${remoteWhy}`,
        hint: `Use a host path this server allows; its operator decides which with ${settings}.`,
      },
    });
  const keysOf = (path: string) => {
    const lex = displayPath(path);
    const real = p.shares ? resolveHostPath(lex, p.fs) : undefined;
    return [...new Set([lex, ...(real ? [real] : [])])];
  };
  const lower = (s: string) => s.toLowerCase();
  const paths = [...new Set([lexical, resolved])];

  // The blocklist wins over everything, in any case.
  for (const b of p.blocklist.filter((s) => s.trim()).flatMap((s) => keysOf(expandHome(s.trim(), p.home))))
    if (paths.some((x) => isAtOrUnder(lower(x), lower(b))))
      throw deny(
        `it is in ${BLOCKLIST_SETTING}`,
        `Use another directory; the blocklist wins over ${ALLOWLIST_SETTING}.`,
        undefined,
        `${BLOCKLIST_SETTING} and ${ALLOWLIST_SETTING}`,
      );

  const home = p.home.replace(/[\\/]+$/, '');
  const fold = (s: string) => (p.foldCase ? lower(s) : s);
  const named: { path: string; explicit: boolean }[] =
    p.allowlist.length > 0
      ? p.allowlist
          .map((s) => s.trim())
          .filter(Boolean)
          .map((s) => ({ path: displayPath(expandHome(s, home)), explicit: s !== '~' && s !== '~/' }))
      : p.shares && !p.onNodes
        ? // A home of '/' (some service accounts) would admit everything: only the temp dir then.
          [...(home && home !== '/' ? [home] : []), p.tmpDir].map((r) => ({
            path: displayPath(r),
            explicit: false,
          }))
        : [];
  // A root is trusted only up to the outermost root that contains it: a container that can write
  // `/A` can make `/A/t` a link, so an inner root keeps where it resolves only while that stays
  // inside its outer roots (it still names itself, for the sensitive paths it may admit).
  const roots: Root[] = named.map((r) => {
    const keys = keysOf(r.path);
    const outer = named
      .filter((o) => o.path !== r.path && isAtOrUnder(fold(r.path), fold(o.path)))
      .flatMap((o) => keysOf(o.path));
    return {
      keys: outer.length
        ? keys.filter((k) => k === r.path || outer.some((o) => isAtOrUnder(fold(k), fold(o))))
        : keys,
      explicit: r.explicit,
    };
  });
  // What the engine uses is the resolved path: it must be under a root.
  const under = (x: string) => roots.filter((r) => r.keys.some((k) => isAtOrUnder(fold(x), fold(k))));
  const admitting = under(resolved);
  // On a node the path is read as written: that too must be under an entry.
  if (admitting.length === 0 || (p.onNodes && under(lexical).length === 0)) {
    if (p.onNodes) {
      const where = `${p.allowlist.length > 0 ? 'it is not under any allowlist entry, and ' : ''}a service's mounts are on the nodes that run its tasks, so only ${ALLOWLIST_SETTING} entries are allowed`;
      throw deny(
        where,
        `Add the directory, as it is on every node that may run the service's tasks, to ${ALLOWLIST_SETTING}; or use a named volume or a tmpfs mount instead.`,
      );
    }
    const where =
      p.allowlist.length > 0
        ? resolved !== lexical && named.some((r) => isAtOrUnder(fold(lexical), fold(r.path)))
          ? 'it is not under any allowlist entry as it resolves: a link below an entry leads out of it (an entry inside another is trusted only as far as the outer one holds it)'
          : 'it is not under any allowlist entry'
        : p.shares
          ? `it is not under an allowed root (${home || '~'}, ${p.tmpDir})`
          : 'this engine does not share the server filesystem, so only allowlisted paths may be used';
    throw deny(
      where,
      `Use a directory under an allowed root, or add it to ${ALLOWLIST_SETTING}; the allowlist replaces the defaults, so list ~ and /tmp too to keep them.`,
      p.allowlist.length > 0 || !p.shares ? where : 'it is not under an allowed root',
    );
  }

  // Sensitive regions this path touches: at or under one (Z = the sensitive path), or above one (Z = the path).
  // `remote`: the reason without the server's paths.
  const regions: { zone: string; why: string; remote: string }[] = [];
  for (const s of p.sensitive.filter(Boolean).flatMap(keysOf)) {
    for (const x of paths) {
      if (isAtOrUnder(lower(x), lower(s)))
        regions.push({ zone: s, why: `it exposes ${s}`, remote: 'it exposes a sensitive path of the host' });
      else if (isAtOrUnder(lower(s), lower(x)))
        regions.push({
          zone: x,
          why: `it contains ${s}`,
          remote: 'it contains a sensitive path of the host',
        });
    }
  }
  // A service's node may be this host: its dot-directories are refused there too (lexically).
  if (home && home !== '/' && (p.shares || p.onNodes)) {
    for (const h of keysOf(home))
      for (const x of paths) {
        // In the case the filesystem compares names in: on macOS /users/me/.ssh is ~/.ssh.
        const dot = fold(x).startsWith(`${fold(h)}/`) ? x.slice(h.length + 1).split('/')[0] : undefined;
        if (dot?.startsWith('.'))
          regions.push({
            zone: `${h}/${dot}`,
            why: `it is in ${h}/${dot}, where credentials live`,
            remote: "it is in a dot-directory of the server's home, where credentials live",
          });
        else if (isAtOrUnder(fold(h), fold(x)))
          regions.push({
            zone: x,
            why: `it contains the home's dot-directories (${h}/.ssh, ${h}/.docker…)`,
            remote: "it contains the dot-directories of the server's home, where credentials live",
          });
      }
  }
  if (paths.some((x) => x === '/' || PIPE.test(x) || /^[a-z]:\/(?:windows(?:\/.*)?)?$/i.test(x)))
    regions.push({ zone: '/', why: 'it exposes the whole host', remote: 'it exposes the whole host' });
  for (const r of regions) {
    const admittedBy = admitting.find(
      (root) => root.explicit && root.keys.some((k) => k !== '/' && isAtOrUnder(k, r.zone)),
    );
    if (!admittedBy)
      throw deny(
        r.why,
        `Use a project directory instead; an explicit ${ALLOWLIST_SETTING} entry naming this path admits it.`,
        r.remote,
      );
    p.onAdmit?.(`${arg}: sensitive host path ${shown} admitted by an explicit allowlist entry`);
  }
  return resolved;
}

/** '~' and '~/x' in an allowlist or blocklist entry mean the home. */
export const expandHome = (s: string, home: string): string =>
  s === '~' || s === '~/' ? home : s.startsWith('~/') ? `${home.replace(/\/+$/, '')}/${s.slice(2)}` : s;

/**
 * The sensitive paths of an engine: system directories plus its own, as its facts say, and those of
 * the server's other engines on this host.
 */
export function sensitivePaths(facts: {
  socketPaths?: readonly string[];
  dataRoot?: string;
  execRoot?: string;
  containerdSocket?: string;
  xdgRuntimeDir?: string;
  otherEngines?: () => readonly string[];
}): string[] {
  const out = [...SYSTEM_PATHS, ...(facts.socketPaths ?? [])];
  for (const p of [facts.dataRoot, facts.execRoot, facts.containerdSocket]) if (p) out.push(p);
  if (facts.xdgRuntimeDir) out.push(`${facts.xdgRuntimeDir}/docker.sock`);
  if (facts.otherEngines) out.push(...facts.otherEngines());
  return [...new Set(out)];
}
