/**
 * The arguments create and run share (seed names, docker-py shapes) and their mapping to the Engine
 * API create body. Container-only, so they live here rather than in params.ts.
 */
import Type, { type Static } from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { SHAPE_IN_EXAMPLE } from '../../lean-schema.ts';
import {
  MAX_ARG,
  MAX_ENTRIES,
  MAX_KEY,
  MAX_NAME,
  MAX_VALUE,
  mapBounds,
  StringList,
  StringMap,
} from '../params.ts';

/** Docker's own rule for container names. */
export const NAME_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$';

/** 1-65535 as a pattern, so string forms get the same range as numbers. */
const PORT = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d{2}|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3})';

/** Published ports bind here unless the caller names a host address: an AI-driven tool stays local. */
export const DEFAULT_HOST_IP = '127.0.0.1';

// Alternatives are JSON Schema type lists rather than anyOf: fewer bytes in the tool list, and
// validation errors that name the field ("must be either string or array").

/** Bytes, or a size such as '512m' or '2g' (binary units, as the docker CLI reads them). */
export const Size = (description: string, minimum = 0) =>
  Type.Unsafe<number | string>({
    type: ['integer', 'string'],
    minimum,
    maxLength: 32,
    pattern: '^\\d+(\\.\\d+)?[kmgKMG]?[bB]?$',
    description,
  });

export const MemLimit = Size('Bytes or "512m"');

export const RestartPolicy = Type.Enum(['no', 'always', 'unless-stopped', 'on-failure']);

// Ranges (CPU shares, CPU count) are left to the engine, which knows the host's.
export const CpuShares = Type.Integer({ description: '1024 = normal' });
export const Cpus = Type.Number();

/** A command as one string or an argument vector. */
export const Argv = (description?: string) =>
  Type.Unsafe<string | string[]>({
    type: ['string', 'array'],
    maxLength: MAX_ARG,
    items: { type: 'string', maxLength: MAX_ARG },
    description,
  });

// A name with '=' would silently set another variable ({"A=B":"c"} became A="B=c"); NUL ends the string.
// An entry ("K=v") or value is one string in the process's environment: MAX_ARG, like argv.
export const Environment = Type.Unsafe<Record<string, string> | string[]>({
  type: ['object', 'array'],
  ...SHAPE_IN_EXAMPLE,
  ...mapBounds(),
  propertyNames: { pattern: '^[^=\\u0000]+$', maxLength: MAX_KEY },
  additionalProperties: { type: 'string', pattern: '^[^\\u0000]*$', maxLength: MAX_ARG },
  items: { type: 'string', pattern: '^[^=\\u0000][^\\u0000]*$', maxLength: MAX_ARG },
  maxItems: MAX_ENTRIES,
  description: '{"K":"v"} or ["K=v"]',
});
const Text = (description?: string) => Type.Optional(Type.String({ maxLength: MAX_VALUE, description }));

/**
 * Properties of docker_create_container; docker_run_container adds its own. A property is described
 * only where its name and type leave a format or unit open (tty, hostname, pid_mode… say it all).
 */
export const createProperties = {
  image: Type.String({ minLength: 1, maxLength: 512 }),
  name: Type.Optional(Type.String({ pattern: NAME_PATTERN, maxLength: 256 })),
  command: Type.Optional(Argv('String (shell-split) or argv')),
  entrypoint: Type.Optional(Argv()),
  environment: Type.Optional(Environment),
  ports: Type.Optional(
    Type.Unsafe<Record<string, number | string | null>>({
      type: 'object',
      ...SHAPE_IN_EXAMPLE,
      // Ports are 1-65535 in the container and 0-65535 on the host (0 or empty: any free port).
      // No entry count: each key is a distinct port, so the map is bounded by its keys.
      propertyNames: { pattern: `^${PORT}(/(tcp|udp|sctp))?$`, maxLength: MAX_NAME },
      additionalProperties: {
        type: ['integer', 'string', 'null'],
        minimum: 0,
        maximum: 65535,
        maxLength: MAX_NAME,
        pattern: `^([\\d.]+:|\\[[\\da-fA-F:]+\\]:)?(0|${PORT})?$`,
      },
      description: '{"80/tcp":8080|"ip:port"|null}; default host IP 127.0.0.1',
    }),
  ),
  volumes: Type.Optional(
    Type.Unsafe<string[] | Record<string, string | { bind: string; mode?: string }>>({
      type: ['array', 'object'],
      ...SHAPE_IN_EXAMPLE,
      ...mapBounds(MAX_VALUE),
      maxItems: MAX_ENTRIES,
      items: { type: 'string', maxLength: MAX_VALUE },
      additionalProperties: {
        type: ['string', 'object'],
        maxLength: MAX_VALUE,
        properties: {
          bind: { type: 'string', maxLength: MAX_VALUE },
          mode: { type: 'string', maxLength: MAX_NAME },
        },
        required: ['bind'],
      },
      description: '["src:/dst[:ro]"] or {"src":{"bind":"/dst","mode":"ro"}}',
    }),
  ),
  labels: StringMap(),
  working_dir: Text(),
  user: Text('user[:group]'),
  hostname: Text(),
  restart_policy: Type.Optional(RestartPolicy),
  mem_limit: Type.Optional(MemLimit),
  cpu_shares: Type.Optional(CpuShares),
  cpus: Type.Optional(Cpus),
  network_mode: Text('bridge, none or a network'),
  tty: Type.Optional(Type.Boolean()),
  privileged: Type.Optional(Type.Boolean()),
  cap_add: StringList(MAX_NAME),
  cap_drop: StringList(MAX_NAME),
  devices: StringList(MAX_VALUE, '"/dev/x[:/dev/y[:rwm]]"'),
  // seccomp=<profile JSON> carries a whole profile (the docker CLI inlines the file the same way).
  security_opt: StringList(MAX_ARG),
  pid_mode: Text(),
  ipc_mode: Text(),
  userns_mode: Text(),
};

const CreateArgs = Type.Object(createProperties);
export type CreateArgs = Static<typeof CreateArgs>;

/** The Engine API create body (without the name, which travels in the query). */
export function createBody(a: CreateArgs): Record<string, unknown> {
  const ports = a.ports && portSpec(a.ports);
  const mounts = a.volumes && volumeSpec(a.volumes);
  return compact({
    Image: a.image,
    Cmd: argv(a.command, 'command'),
    Entrypoint: argv(a.entrypoint, 'entrypoint'),
    Env: a.environment && envList(a.environment),
    Labels: a.labels,
    WorkingDir: a.working_dir,
    User: a.user,
    Hostname: a.hostname,
    Tty: a.tty,
    ExposedPorts: ports?.exposed,
    Volumes: mounts?.anonymous,
    HostConfig: compact({
      Binds: mounts?.binds,
      PortBindings: ports?.bindings,
      RestartPolicy: a.restart_policy && { Name: a.restart_policy },
      Memory: bytes(a.mem_limit),
      CpuShares: a.cpu_shares,
      NanoCpus: nanoCpus(a.cpus),
      NetworkMode: a.network_mode,
      Privileged: a.privileged,
      CapAdd: a.cap_add,
      CapDrop: a.cap_drop,
      Devices: a.devices?.map(device),
      SecurityOpt: a.security_opt,
      PidMode: a.pid_mode,
      IpcMode: a.ipc_mode,
      UsernsMode: a.userns_mode,
    }),
  });
}

const UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** '512m' → 536870912; the schema has already checked the shape. */
export function bytes(size: number | string | undefined): number | undefined {
  if (size === undefined || typeof size === 'number') return size;
  const [, num = '0', unit = ''] = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(size) ?? [];
  return Math.round(Number(num) * (UNIT[unit.toLowerCase()] ?? 1));
}

export const nanoCpus = (cpus: number | undefined) =>
  cpus === undefined ? undefined : Math.round(cpus * 1e9);

const argv = (v: string | string[] | undefined, field: string) =>
  typeof v === 'string' ? shellSplit(v, field) : v;

const envList = (env: Record<string, string> | string[]) =>
  Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);

function portSpec(ports: Record<string, number | string | null>) {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const [key, host] of Object.entries(ports)) {
    const port = key.includes('/') ? key : `${key}/tcp`;
    exposed[port] = {};
    bindings[port] = [hostBinding(host)];
  }
  return { exposed, bindings };
}

function hostBinding(host: number | string | null): { HostIp: string; HostPort: string } {
  if (host === null) return { HostIp: DEFAULT_HOST_IP, HostPort: '' };
  const text = String(host);
  const cut = text.lastIndexOf(':');
  if (cut < 0) return { HostIp: DEFAULT_HOST_IP, HostPort: text };
  return { HostIp: text.slice(0, cut).replace(/^\[|\]$/g, ''), HostPort: text.slice(cut + 1) };
}

/** "src:dst[:mode]" entries are binds (or named volumes); a bare "/dst" is an anonymous volume. */
function volumeSpec(volumes: string[] | Record<string, string | { bind: string; mode?: string }>) {
  const binds: string[] = [];
  const anonymous: Record<string, object> = {};
  if (Array.isArray(volumes)) {
    for (const v of volumes) {
      if (v.includes(':')) binds.push(v);
      else anonymous[v] = {};
    }
  } else {
    for (const [src, to] of Object.entries(volumes))
      binds.push(
        typeof to === 'string' ? `${src}:${to}` : `${src}:${to.bind}${to.mode ? `:${to.mode}` : ''}`,
      );
  }
  return {
    binds: binds.length > 0 ? binds : undefined,
    anonymous: Object.keys(anonymous).length > 0 ? anonymous : undefined,
  };
}

function device(spec: string) {
  const [host = spec, inner, perms] = spec.split(':');
  return { PathOnHost: host, PathInContainer: inner || host, CgroupPermissions: perms || 'rwm' };
}

/** Drops undefined fields (and a HostConfig left empty), so the body carries only what was asked. */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== undefined && !(k === 'HostConfig' && Object.keys(v as object).length === 0)) out[k] = v;
  return out;
}

/** POSIX-shell word splitting (quotes and backslashes, no expansion), as docker-py does for a string. */
export function shellSplit(text: string, field = 'command'): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  let escaped = false;
  for (const ch of text) {
    if (escaped) {
      // Inside double quotes a backslash only escapes these; elsewhere it escapes anything.
      if (quote === '"' && !'"\\$`'.includes(ch)) word += '\\';
      word += ch;
      escaped = false;
    } else if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (ch === '\\') {
      escaped = true;
      inWord = true;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote || escaped)
    throw new ToolError(
      'invalid_argument',
      `invalid argument '${field}': ${quote ? `unclosed ${quote} quote` : 'trailing backslash'}`,
      {
        hint: 'Close the quote, or pass the command as an array of arguments.',
      },
    );
  if (inWord) words.push(word);
  return words;
}
