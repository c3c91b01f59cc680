/**
 * One canonical (long) form per service key, so that files merge by the specification's rules and
 * the mapping to ContainerSpec reads one shape: short port, volume, network, depends_on,
 * environment, label, ulimit, sysctl and extra_hosts syntaxes are turned into their long forms here.
 * Relative host paths resolve against the project directory, `~` against the home directory.
 */
import { posix } from 'node:path';
import { reword, ToolError } from '../../core/errors.ts';

export type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export interface ServiceCtx {
  file: string;
  service: string;
  /** Base of relative paths; '' when the project has no directory (inline content). */
  dir: string;
  home: string;
  /** A KEY=value file (env_file, label_file: `key` names it in a refusal). */
  readEnvFile(path: string, key?: string): Promise<Record<string, string> | undefined>;
  /** A variable of the interpolation environment, for a bare `environment: [NAME]`. */
  lookup?(name: string): string | undefined;
}

const bad = (
  c: ServiceCtx,
  key: string,
  why: string,
  hint = 'See the Compose Specification for its syntax.',
) => new ToolError('invalid_argument', `${c.file}: service "${c.service}": ${key}: ${why}`, { hint });

/** "K=v" entries or a mapping, as a mapping (a bare "K" maps to null). */
export function keyValues(v: unknown, sep = '='): Record<string, string | null> {
  if (Array.isArray(v))
    return Object.fromEntries(
      v.map((e) => {
        const s = str(e);
        const i = s.indexOf(sep);
        return i < 0 ? [s, null] : [s.slice(0, i), s.slice(i + 1)];
      }),
    );
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null ? null : str(x)]));
  return {};
}

const list = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map(str) : [str(v)];

export function hostPath(p: string, c: ServiceCtx, key: string): string {
  if (p === '~' || p.startsWith('~/')) return posix.join(c.home, p.slice(1));
  if (posix.isAbsolute(p)) return posix.normalize(p);
  if (!c.dir)
    throw bad(c, key, `relative path "${p}" needs project_dir`, 'Pass project_dir, or use an absolute path.');
  return posix.resolve(c.dir, p);
}

const isPath = (s: string) => /^[./~]/.test(s);

/** "[[ip:]host:]container[/proto]" or the long form, as { target, published?, host_ip?, protocol }. */
export function port(v: unknown, c: ServiceCtx): Obj {
  if (isObj(v)) {
    if (v.target === undefined) throw bad(c, 'ports', 'the long form needs target');
    return checkedPort(
      {
        target: v.target,
        ...(v.published !== undefined && { published: str(v.published) }),
        // An empty host_ip (`${BIND_IP}` unset) is none: the default address applies.
        ...(str(v.host_ip) !== '' && { host_ip: str(v.host_ip) }),
        protocol: str(v.protocol ?? 'tcp'),
        // Swarm's publish mode (ingress or host): a stack must not turn a host port into an ingress one.
        ...(v.mode !== undefined && { mode: str(v.mode) }),
      },
      c,
    );
  }
  const s = str(v);
  // The host IP may be empty (`${BIND_IP}:8080:80` with BIND_IP unset), as Docker reads it: none given.
  const m = /^(?:(?:(\[[^\]]+\]|[\d.]*):)?([\d-]*):)?([\d-]+)(?:\/(tcp|udp|sctp))?$/.exec(s);
  if (!m)
    throw bad(c, 'ports', `cannot read "${s}"`, 'Write [[host_ip:]host_port:]container_port[/protocol].');
  const [, ip, published, target = '', protocol = 'tcp'] = m;
  return checkedPort(
    {
      target,
      ...(published && { published }),
      ...(ip && { host_ip: ip.replace(/^\[|\]$/g, '') }),
      protocol,
    },
    c,
  );
}

/** "a" or "a-b" as [a, b]; undefined when it is neither or out of [min, 65535]. */
function portSpan(s: string, min: number): [number, number] | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return lo >= min && hi >= lo && hi <= 65535 ? [lo, hi] : undefined;
}

/** An `expose` entry: a port or a range of ports (1-65535), with a protocol or not. */
function exposed(e: string, c: ServiceCtx): string {
  const m = /^([\d-]+)(?:\/(tcp|udp|sctp))?$/.exec(e);
  if (!m || !portSpan(m[1] as string, 1))
    throw bad(
      c,
      'expose',
      `"${e}" is not a port or a range of ports`,
      'Write PORT, LOW-HIGH or either with /tcp, /udp or /sctp (ports 1-65535, LOW up to HIGH).',
    );
  return e;
}

/**
 * A port as Docker Compose takes it: a container port or range; a host port, a host range the engine
 * picks one from (one container port), or a host range as long as the container range (port by port).
 * Anything else is refused here, so config refuses it and up makes nothing.
 */
function checkedPort(p: Obj, c: ServiceCtx): Obj {
  const target = str(p.target);
  const published = p.published === undefined ? '' : str(p.published);
  const inner = portSpan(target, 1);
  if (!inner) throw bad(c, 'ports', `container port "${target}" is not a port or range (1-65535, low-high)`);
  const outer = published === '' ? undefined : portSpan(published, 0);
  if (published !== '' && !outer)
    throw bad(c, 'ports', `host port "${published}" is not a port or range (0-65535, low-high)`);
  if (outer && inner[1] > inner[0] && outer[1] - outer[0] !== inner[1] - inner[0])
    throw bad(
      c,
      'ports',
      outer[0] === outer[1]
        ? `one host port "${published}" cannot publish the container ports "${target}"`
        : `host ports "${published}" and container ports "${target}" are ranges of different lengths`,
      'Give a host range as long as the container range (8000-8001:80-81), or leave the host port out.',
    );
  if (!['tcp', 'udp', 'sctp'].includes(str(p.protocol)))
    throw bad(c, 'ports', `protocol "${str(p.protocol)}" is not tcp, udp or sctp`);
  return { ...p, target: inner[0] === inner[1] ? inner[0] : target };
}

/** A container path as Compose writes it: normalised, no trailing slash. */
const containerPath = (p: string) => (p.length > 1 ? posix.normalize(p).replace(/\/+$/, '') || '/' : p);

/** "src:dst[:mode]", "dst" or the long form, as { type, source?, target, read_only?, … }. */
export function volume(v: unknown, c: ServiceCtx): Obj {
  const out = volumeAsGiven(v, c);
  return { ...out, target: containerPath(str(out.target)) };
}

function volumeAsGiven(v: unknown, c: ServiceCtx): Obj {
  if (isObj(v)) {
    const type = str(v.type || 'volume');
    const out: Obj = { ...v, type, target: str(v.target) };
    if (v.source !== undefined && type === 'bind') out.source = hostPath(str(v.source), c, 'volumes');
    if (!out.target) throw bad(c, 'volumes', 'the long form needs target');
    return out;
  }
  const s = str(v);
  const parts = s.split(':');
  if (parts.length === 1) return { type: 'volume', target: s };
  const [src = '', dst = '', mode = ''] = parts;
  const opts = mode.split(',');
  const out: Obj = isPath(src)
    ? { type: 'bind', source: hostPath(src, c, 'volumes'), target: dst }
    : { type: 'volume', source: src, target: dst };
  if (opts.includes('ro')) out.read_only = true;
  const sel = opts.find((o) => /^[zZ]$/.test(o));
  if (sel && out.type === 'bind') out.bind = { selinux: sel };
  return out;
}

/** An env_file or label_file read for a service: a refusal (a host path, its size) names the service. */
async function readFor(c: ServiceCtx, path: string, key?: string) {
  try {
    return await c.readEnvFile(path, key);
  } catch (e) {
    throw e instanceof ToolError ? reword(e, (m) => `${c.file}: service "${c.service}": ${m}`) : e;
  }
}

export async function normaliseService(raw: Obj, c: ServiceCtx): Promise<Obj> {
  const s: Obj = { ...raw };
  delete s.extends;
  if (raw.environment !== undefined || raw.env_file !== undefined) {
    const fromFiles: Record<string, string> = {};
    for (const f of Array.isArray(raw.env_file)
      ? raw.env_file
      : raw.env_file === undefined
        ? []
        : [raw.env_file]) {
      const entry: Obj = isObj(f) ? f : { path: f };
      const path = hostPath(str(entry.path), c, 'env_file');
      const vars = await readFor(c, path);
      if (vars === undefined) {
        if (entry.required === false) continue;
        throw bad(
          c,
          'env_file',
          `file not found: ${str(entry.path)}`,
          'Create it, or mark it required: false.',
        );
      }
      Object.assign(fromFiles, vars);
    }
    // A bare name takes the interpolation environment's value, as Compose; unset, it stays bare (null:
    // a container leaves it out) unless an env_file gave it.
    const given = Object.entries(keyValues(raw.environment)).flatMap(([k, v]) => {
      const value = v ?? c.lookup?.(k) ?? (k in fromFiles ? undefined : null);
      return value === undefined ? [] : [[k, value] as const];
    });
    s.environment = { ...fromFiles, ...Object.fromEntries(given) };
    delete s.env_file;
  }
  if (raw.labels !== undefined || raw.label_file !== undefined) {
    // As env_file under environment: the files in order, then `labels` over them.
    const fromFiles: Record<string, string> = {};
    for (const f of list(raw.label_file)) {
      const vars = await readFor(c, hostPath(f, c, 'label_file'), 'label_file');
      if (vars === undefined) throw bad(c, 'label_file', `file not found: ${f}`, 'Create it, or remove it.');
      Object.assign(fromFiles, vars);
    }
    s.labels = { ...fromFiles, ...keyValues(raw.labels) };
    delete s.label_file;
  }
  for (const k of ['links', 'volumes_from']) if (raw[k] !== undefined) s[k] = list(raw[k]);
  if (raw.sysctls !== undefined) s.sysctls = keyValues(raw.sysctls);
  if (raw.ports !== undefined) s.ports = (raw.ports as unknown[]).map((p) => port(p, c));
  if (raw.expose !== undefined) s.expose = list(raw.expose).map((e) => exposed(e, c));
  if (raw.volumes !== undefined) s.volumes = (raw.volumes as unknown[]).map((v) => volume(v, c));
  for (const k of ['dns', 'dns_search', 'tmpfs', 'cap_add', 'cap_drop', 'security_opt', 'profiles'])
    if (raw[k] !== undefined) s[k] = list(raw[k]);
  if (raw.extra_hosts !== undefined)
    s.extra_hosts = isObj(raw.extra_hosts)
      ? Object.entries(raw.extra_hosts).map(([h, ip]) => `${h}:${list(ip).join(',')}`)
      : list(raw.extra_hosts).map((e) => e.replace(/^([^=:]+)=/, '$1:'));
  if (raw.networks !== undefined)
    s.networks = Array.isArray(raw.networks)
      ? Object.fromEntries(raw.networks.map((n) => [str(n), {}]))
      : Object.fromEntries(Object.entries(raw.networks as Obj).map(([n, v]) => [n, isObj(v) ? v : {}]));
  if (raw.depends_on !== undefined)
    s.depends_on = Object.fromEntries(
      (Array.isArray(raw.depends_on)
        ? raw.depends_on.map((d) => [str(d), {}] as const)
        : Object.entries(raw.depends_on as Obj)
      ).map(([n, v]) => [n, { condition: 'service_started', required: true, ...(isObj(v) ? v : {}) }]),
    );
  if (raw.ulimits !== undefined)
    s.ulimits = Object.fromEntries(
      Object.entries(raw.ulimits as Obj).map(([n, v]) => [
        n,
        isObj(v) ? { soft: Number(v.soft), hard: Number(v.hard) } : { soft: Number(v), hard: Number(v) },
      ]),
    );
  if (raw.healthcheck !== undefined && isObj(raw.healthcheck)) {
    const h = { ...raw.healthcheck };
    if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
    s.healthcheck = h;
  }
  for (const k of ['secrets', 'configs'])
    if (raw[k] !== undefined)
      s[k] = (raw[k] as unknown[]).map((e) =>
        isObj(e) ? { ...e, source: str(e.source) } : { source: str(e) },
      );
  if (raw.build !== undefined) {
    const b: Obj = isObj(raw.build) ? { ...raw.build } : { context: raw.build };
    b.context = hostPath(str(b.context ?? '.'), c, 'build.context');
    if (isObj(raw.build) && raw.build.args !== undefined) b.args = keyValues(raw.build.args);
    s.build = b;
  }
  return s;
}

/**
 * The services a service's `links` (`db`, `db:alias`) and `volumes_from` (`db`, `service:db:ro`; not
 * `container:x`) name, with the key: they start before it, as Compose orders them.
 */
export function linkedServices(s: Obj): [key: string, service: string][] {
  const out: [string, string][] = [];
  for (const l of (s.links as string[] | undefined) ?? []) out.push(['links', l.split(':')[0] as string]);
  for (const v of (s.volumes_from as string[] | undefined) ?? [])
    if (!v.startsWith('container:'))
      out.push(['volumes_from', v.replace(/^service:/, '').split(':')[0] as string]);
  return out;
}

/** Keys whose lists replace the earlier file's; other lists are appended (duplicates dropped). */
const REPLACE = new Set(['command', 'entrypoint', 'test']);

const UNIQUE: Record<string, (v: unknown) => unknown> = {
  volumes: (v) => (v as Obj).target,
  extra_hosts: (v) => str(v).split(':')[0],
  // A secret or config by where it lands in the container.
  secrets: (v) => mountedAt(v as Obj, '/run/secrets/'),
  configs: (v) => mountedAt(v as Obj, '/'),
};

const mountedAt = (v: Obj, dir: string) => {
  const t = str(v.target) || str(v.source);
  return t.startsWith('/') ? t : dir + t;
};

/** `b` merged over `a` by the specification's rules. */
export function mergeService(a: Obj, b: Obj): Obj {
  return merge(a, b, '') as Obj;
}

function merge(a: unknown, b: unknown, key: string): unknown {
  if (b === undefined) return a;
  if (isObj(a) && isObj(b)) {
    // Logging for another driver replaces the earlier one whole: its options mean nothing to the new driver.
    if (key === 'logging' && a.driver !== undefined && b.driver !== undefined && a.driver !== b.driver)
      return b;
    const out: Obj = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v, k);
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b) && !REPLACE.has(key)) {
    // Entries with a unique key: the later file's replaces the earlier's (a volume by its target, a
    // host by its name, as Compose).
    const keyOf = UNIQUE[key];
    if (keyOf) {
      const byKey = new Map(a.map((v) => [keyOf(v), v]));
      for (const v of b) byKey.set(keyOf(v), v);
      return [...byKey.values()];
    }
    const seen = new Set(a.map((x) => JSON.stringify(x)));
    return [...a, ...b.filter((x) => !seen.has(JSON.stringify(x)))];
  }
  return b;
}
