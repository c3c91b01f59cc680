import { realpathSync } from 'node:fs';
import type { HostEnv } from '../config/host.ts';
import { ToolError } from '../core/errors.ts';

/**
 * Argument policy: refuses container-escape arguments before a request reaches the engine. It is
 * generic — it looks at well-known argument names wherever they appear, never at tool names.
 */
export interface PolicySettings {
  allowPrivileged: boolean;
  mountAllowlist: string[];
  mountBlocklist: string[];
  /** The engine's own unix socket path(s), if known. */
  dockerSocketPaths: string[];
}

/** `realpath` returns undefined when the path does not exist. */
export interface PathResolver {
  realpath(path: string): string | undefined;
}

export const nodePathResolver: PathResolver = {
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  },
};

const PRIVILEGED_SETTING = 'SAFETY_ALLOW_PRIVILEGED_CONTAINERS';
/** The hints say "Mount …" for a bind mount and "Use …" for a host path (build context, tar file). */
type Verb = 'Mount' | 'Use';
const MOUNT_HINT = (v: Verb) =>
  `${v} a project directory instead, or list the path in SAFETY_VOLUME_MOUNT_ALLOWLIST if you really mean it.`;

// NET_RAW is deliberately absent: it is in Docker's default set.
const DANGEROUS_CAPS = new Set([
  ...'ALL SYS_ADMIN NET_ADMIN SYS_PTRACE SYS_MODULE SYS_RAWIO SYS_BOOT SYS_TIME'.split(' '),
  ...'DAC_READ_SEARCH MAC_ADMIN MAC_OVERRIDE BPF PERFMON SYSLOG'.split(' '),
]);
const HOST_NAMESPACES = new Set(['networkmode', 'pidmode', 'ipcmode', 'usernsmode', 'utsmode']);
// An inline seccomp profile ('seccomp={json}', what the CLI sends for a profile file) can allow every
// syscall, so it counts as unconfined too.
const UNCONFINED =
  /^(?:(?:seccomp|apparmor|systempaths)[=:]unconfined|seccomp[=:]\{.*|label[=:](?:disable|type:(?:spc_t|unconfined_t))|no-new-privileges[=:]false)$/s;
// Values of these are user data (label keys, env names, volume names), not argument names.
const FREE_FORM = new Set(['labels', 'env', 'environment', 'volumes', 'binds', 'buildargs']);
const MAX_DEPTH = 8;
const PIPE = /^[\\/]{2}[.?][\\/]pipe[\\/]/i;
const DRIVE = /^[a-zA-Z]:(?:[\\/]|$)/;
const WINDOWS_SENSITIVE = /^[a-z]:\/(?:windows(?:\/.*)?)?$/;

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

/** Built-in paths a container must not see (before symlink resolution). */
export function sensitivePaths(host: HostEnv, settings: PolicySettings): string[] {
  const paths = [
    '/',
    '/etc',
    '/root',
    '/proc',
    '/sys',
    '/dev',
    '/boot',
    '/var/run',
    '/run',
    '/var/lib/docker',
  ];
  paths.push('/var/run/docker.sock', '/run/docker.sock', ...settings.dockerSocketPaths);
  if (host.xdgRuntimeDir) paths.push(`${host.xdgRuntimeDir}/docker.sock`);
  const home = host.home.replace(/[\\/]+$/, '');
  if (home)
    for (const dir of ['.ssh', '.aws', '.kube', '.docker', '.gnupg', '.config/gcloud', '.azure'])
      paths.push(`${home}/${dir}`);
  return [...new Set(paths.map(displayPath))];
}

/**
 * `hostPathArgs` names the arguments that are files or directories on the server's own host (a
 * build context, a tar to save or load): they get the same sensitive-path, allowlist and blocklist
 * rules as bind mount sources, since reading or writing them reaches the host just the same.
 */
export function checkArgumentPolicy(
  args: Record<string, unknown>,
  settings: PolicySettings,
  host: HostEnv,
  fs: PathResolver = nodePathResolver,
  hostPathArgs: readonly string[] = [],
): void {
  const ctx: Ctx = { settings, host, fs };
  walk(args, ctx, 0);
  for (const name of hostPathArgs) {
    const v = args[name];
    if (typeof v === 'string' && v.trim()) checkSource(v, ctx, 'host path');
  }
}

interface Ctx {
  settings: PolicySettings;
  host: HostEnv;
  fs: PathResolver;
  rules?: MountRules;
}
interface MountRules {
  blocked: string[];
  allowed: string[];
  sensitive: string[];
}

// Matches snake_case, camelCase and the engine's PascalCase spellings of the same argument.
const nameKey = (k: string) => k.toLowerCase().replace(/[_-]/g, '');
const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const field = (o: Record<string, unknown>, name: string) =>
  Object.entries(o).find(([k]) => nameKey(k) === name)?.[1];

function walk(value: unknown, ctx: Ctx, depth: number): void {
  if (!isObject(value) || depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    for (const item of value) walk(item, ctx, depth + 1);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const name = nameKey(key);
    checkArgument(name, key, v, ctx);
    if (!FREE_FORM.has(name)) walk(v, ctx, depth + 1);
  }
}

function checkArgument(name: string, key: string, v: unknown, ctx: Ctx): void {
  const refuseEscape = (message: string, what = 'it') => {
    if (!ctx.settings.allowPrivileged)
      throw new ToolError('policy_denied', message, {
        hint: `Set ${PRIVILEGED_SETTING}=true to allow ${what}.`,
      });
  };
  if (name === 'privileged' && (v === true || v === 'true'))
    refuseEscape('privileged containers are refused', 'them');
  else if (HOST_NAMESPACES.has(name) && typeof v === 'string' && v.trim().toLowerCase() === 'host')
    refuseEscape(`${key} 'host' is refused: it shares a host namespace with the container`);
  else if (name === 'capadd') {
    for (const c of strings(v)) {
      const cap = c.trim().toUpperCase().replace(/^CAP_/, '');
      if (DANGEROUS_CAPS.has(cap))
        refuseEscape(`capability '${cap}' in ${key} is refused: it lets a container reach the host`);
    }
  } else if ((name === 'devices' || name === 'devicecgrouprules') && Array.isArray(v) && v.length > 0)
    refuseEscape(`${key} is refused: host devices give a container direct access to the host`);
  else if (name === 'securityopt') {
    for (const o of strings(v))
      if (UNCONFINED.test(o.toLowerCase().replace(/\s+/g, '')))
        refuseEscape(`security option '${o}' is refused: it disables the container's confinement`);
  } else if (name === 'volumes' || name === 'binds') {
    if (Array.isArray(v) || typeof v === 'string')
      for (const entry of [v].flat()) checkMountEntry(entry, ctx);
    // docker-py style: { "<src>": { bind, mode } } or { "<src>": "/dst" }; the key is the host side.
    else if (isObject(v)) for (const src of Object.keys(v)) checkSource(src, ctx);
  } else if (name === 'mounts') {
    for (const entry of [v].flat()) checkMountEntry(entry, ctx);
  } else if ((name === 'driveropts' || name === 'options') && isObject(v)) {
    checkVolumeDriverOpts(v, ctx);
  }
}

const BIND_OPTION = /^r?bind$/i;
const OVERLAY_DIRS = new Set(['lowerdir', 'upperdir', 'workdir']);

/**
 * The local volume driver mounts `device` behind a named volume: with `o=bind` (or `type=none,o=bind`)
 * it is a host path, and overlay's lowerdir/upperdir/workdir in `o` are host paths too. The engine
 * resolves a relative one against its own working directory (often '/'), so `device: etc` means /etc:
 * where the option is certainly a host path, it must be absolute.
 */
function checkVolumeDriverOpts(opts: Record<string, unknown>, ctx: Ctx): void {
  const o = field(opts, 'o');
  const mountOpts = typeof o === 'string' ? o.split(',').map((m) => m.trim()) : [];
  const type = field(opts, 'type');
  const binds =
    mountOpts.some((m) => BIND_OPTION.test(m)) || (typeof type === 'string' && BIND_OPTION.test(type.trim()));
  const device = field(opts, 'device');
  if (typeof device === 'string') checkVolumePath(device, binds, ctx);
  for (const m of mountOpts) {
    const eq = m.indexOf('=');
    if (eq > 0 && OVERLAY_DIRS.has(m.slice(0, eq).toLowerCase()))
      for (const dir of m.slice(eq + 1).split(':')) checkVolumePath(dir, true, ctx);
  }
}

function checkVolumePath(raw: string, hostPath: boolean, ctx: Ctx): void {
  const p = raw.trim();
  if (!p) return;
  const absolute = p.startsWith('/') || p.startsWith('\\') || DRIVE.test(p);
  if (hostPath && !absolute && !p.startsWith('~') && !p.startsWith('.'))
    throw new ToolError('invalid_argument', `host path '${p}' in the volume driver options is not absolute`, {
      hint: "The engine resolves it against its own working directory (often '/'); give an absolute host path such as /srv/data.",
    });
  checkSource(p, ctx);
}

/** A "src:dst[:mode]" string or a { type, source, target } object. */
function checkMountEntry(entry: unknown, ctx: Ctx): void {
  if (typeof entry === 'string') {
    const from = DRIVE.test(entry) ? 2 : 0;
    const colon = entry.indexOf(':', from);
    // No ':' means an anonymous volume at a container path: nothing from the host.
    if (colon > 0) checkSource(entry.slice(0, colon), ctx);
  } else if (isObject(entry)) {
    const type = field(entry, 'type');
    if (typeof type === 'string' && !['bind', 'npipe'].includes(type.trim().toLowerCase())) return;
    const source = field(entry, 'source') ?? field(entry, 'src');
    if (typeof source === 'string') checkSource(source, ctx);
  }
}

function checkSource(raw: string, ctx: Ctx, what: PathUse = 'bind mount'): void {
  const src = raw.trim();
  if (src.startsWith('~') || src.startsWith('.'))
    throw new ToolError(
      'invalid_argument',
      `${what === 'bind mount' ? 'bind mount source' : 'host path'} '${src}' is not an absolute host path`,
      {
        hint: 'Use an absolute host path such as /home/you/project; the engine does not expand ~ or relative paths.',
      },
    );
  // Anything else that is not a path is a named volume.
  if (!src.startsWith('/') && !src.startsWith('\\') && !DRIVE.test(src)) return;
  ctx.rules ??= mountRules(ctx);
  const lexical = displayPath(src);
  const shown = lexical === src ? `'${src}'` : `'${lexical}' (from '${src}')`;
  refuseMount(lexical.toLowerCase(), shown, ctx.rules, what);
  const resolved = resolvePosix(src, ctx);
  if (resolved !== undefined && resolved.toLowerCase() !== lexical.toLowerCase())
    refuseMount(resolved.toLowerCase(), `'${src}' (through a symlink)`, ctx.rules, what);
}

type PathUse = 'bind mount' | 'host path';

function refuseMount(key: string, shown: string, rules: MountRules, what: PathUse = 'bind mount'): void {
  const verb: Verb = what === 'bind mount' ? 'Mount' : 'Use';
  const deny = (why: string, hint: (v: Verb) => string) =>
    new ToolError(
      'policy_denied',
      `${what === 'bind mount' ? 'bind mount of' : 'host path'} ${shown} is refused: ${why}`,
      { hint: hint(verb) },
    );
  if (rules.blocked.some((b) => isAtOrUnder(key, b)))
    throw deny(
      'it is in SAFETY_VOLUME_MOUNT_BLOCKLIST',
      (v) => `${v} another directory; the blocklist wins over SAFETY_VOLUME_MOUNT_ALLOWLIST.`,
    );
  if (rules.allowed.length > 0) {
    if (rules.allowed.some((a) => isAtOrUnder(key, a))) return;
    throw deny(
      'it is not under any SAFETY_VOLUME_MOUNT_ALLOWLIST entry',
      (v) => `${v} a path under an allowlisted directory, or add it to SAFETY_VOLUME_MOUNT_ALLOWLIST.`,
    );
  }
  // Ancestors count too: mounting /home/me exposes /home/me/.ssh. '/' only as an exact match,
  // otherwise every path would be its descendant.
  const sensitive =
    key === '/' ||
    WINDOWS_SENSITIVE.test(key) ||
    PIPE.test(key) ||
    rules.sensitive.some((s) => s !== '/' && (isAtOrUnder(key, s) || isAtOrUnder(s, key)));
  if (sensitive) throw deny('it exposes a sensitive host path', MOUNT_HINT);
}

function isAtOrUnder(path: string, base: string): boolean {
  return path === base || path.startsWith(base.endsWith('/') ? base : `${base}/`);
}

/** Lexically normalised, with Windows drive and named-pipe sources in forward-slash form. */
function displayPath(src: string): string {
  if (PIPE.test(src)) return `//./pipe/${src.slice(9).replace(/\\/g, '/')}`;
  if (DRIVE.test(src)) return `${src.slice(0, 2)}${normaliseHostPath(src.slice(2).replace(/\\/g, '/'))}`;
  return normaliseHostPath(src); // a backslash is an ordinary character in a POSIX name
}

/**
 * The path the engine would really mount. The engine creates a missing source, following symlinks
 * in its existing ancestors, so resolve the deepest existing one and append the rest.
 */
function resolvePosix(src: string, ctx: Ctx): string | undefined {
  if (ctx.host.platform === 'win32' || !src.startsWith('/') || PIPE.test(src)) return undefined;
  let head = src.replace(/\/+$/, '') || '/';
  let tail = '';
  for (let i = 0; i < 256; i++) {
    const real = ctx.fs.realpath(head);
    if (real !== undefined) return normaliseHostPath(`${real}/${tail}`);
    if (head === '/') return undefined;
    const cut = head.lastIndexOf('/');
    tail = `${head.slice(cut + 1)}/${tail}`;
    head = head.slice(0, cut) || '/';
  }
  return undefined;
}

/** Lists as comparison keys, with each entry's real path added so symlinked entries still match. */
function mountRules(ctx: Ctx): MountRules {
  const keys = (paths: string[]) => {
    const out = new Set<string>();
    for (const p of paths.map((s) => s.trim()).filter(Boolean)) {
      out.add(displayPath(p).toLowerCase());
      const real = resolvePosix(p, ctx);
      if (real !== undefined) out.add(real.toLowerCase());
    }
    return [...out];
  };
  return {
    blocked: keys(ctx.settings.mountBlocklist),
    allowed: keys(ctx.settings.mountAllowlist),
    sensitive: keys(sensitivePaths(ctx.host, ctx.settings)),
  };
}
