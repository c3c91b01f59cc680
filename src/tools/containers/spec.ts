/**
 * The arguments create and run share (seed names, docker-py shapes): the tools' front-end of
 * ContainerSpec (src/docker/container-spec.ts), which maps it to the Engine API create body.
 * Container-only, so they live here rather than in params.ts.
 */
import Type, { type Static } from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { SHAPE_IN_EXAMPLE } from '../../core/schema-marks.ts';
import {
  extraHostsOf,
  healthcheckOf,
  type NetworkOptions,
  networksOf,
  stopTimeoutOf,
  tmpfsOf,
  ulimitsOf,
} from '../../docker/container-options.ts';
import {
  type ContainerSpec,
  type NetworkAttachment,
  type PortSpec,
  createBody as specBody,
} from '../../docker/container-spec.ts';
import { IMAGE_REF_PATTERN, NAME_EXPECTS, NAME_PATTERN } from '../../docker/names.ts';
import {
  bytes,
  envEntries,
  MAX_CPU_SHARES,
  MAX_CPUS,
  MAX_PIDS,
  nanoCpus,
  shellSplit,
} from '../../docker/spec-values.ts';
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
    // The engine reads an int64; past JSON's exact integers its Go decode error named no field.
    maximum: Number.MAX_SAFE_INTEGER,
    maxLength: 32,
    // Where -1 (unlimited) is allowed as a number, "-1" is too: the description offers it.
    pattern: minimum < 0 ? '^(-1|\\d+(\\.\\d+)?[kmgKMG]?[bB]?)$' : '^\\d+(\\.\\d+)?[kmgKMG]?[bB]?$',
    expects: `bytes or a size such as "512m"${minimum < 0 ? ', or -1 for unlimited' : ''}`,
    description,
  });

export const MemLimit = Size('Bytes or "512m"');

export const RestartPolicy = Type.Enum(['no', 'always', 'unless-stopped', 'on-failure']);

// Outer bounds only (the engine knows the host's CPUs): past them the value could not reach the engine
// intact (1e300 CPUs became null, no limit at all) or came back as a Go decode error.
export const CpuShares = Type.Integer({ minimum: 0, maximum: MAX_CPU_SHARES, description: '1024 = normal' });
export const Cpus = Type.Number({ minimum: 0, maximum: MAX_CPUS });
/** A PID limit: -1 is unlimited; the kernel has no more PIDs than MAX_PIDS. */
export const PidsLimit = Type.Integer({ minimum: -1, maximum: MAX_PIDS, description: '-1 = unlimited' });

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
/** A duration as Compose writes it ('1m30s', '500ms'): read, and refused naming the field, by durationNs. */
const Duration = (description?: string) => Type.String({ maxLength: 64, description });

const Text = (description?: string) => Type.Optional(Type.String({ maxLength: MAX_VALUE, description }));

/**
 * One word the engine stores as given (user, hostname, a namespace mode): a blank, a control or a
 * bidi character in one was created without a word and made a container that could never start.
 */
const Word = (description?: string) =>
  Type.Optional(
    Type.String({
      maxLength: MAX_VALUE,
      pattern: '^[^\\s\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
      expects: 'one word: no blanks, control or direction characters',
      description,
    }),
  );

const Strings = { type: 'array', items: { type: 'string', maxLength: MAX_NAME }, maxItems: MAX_ENTRIES };
const Names = (extra: object) => ({
  ...Strings,
  type: ['array', 'object'],
  ...SHAPE_IN_EXAMPLE,
  ...mapBounds(MAX_NAME),
  ...extra,
});

/**
 * The Compose options create and run share (issue 15): Compose's service keys in Compose's shapes,
 * read by src/docker/container-options.ts as Compose's are. Models know these shapes, so they are not
 * described (every listed byte is read on every turn); validation checks the full shape and names
 * the field.
 */
function composeProperties() {
  return {
    healthcheck: Type.Optional(
      Type.Object(
        {
          test: Type.Optional(Argv()),
          interval: Type.Optional(Duration()),
          timeout: Type.Optional(Duration()),
          retries: Type.Optional(Type.Integer({ minimum: 0 })),
          start_period: Type.Optional(Duration()),
          start_interval: Type.Optional(Duration()),
          disable: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false, ...SHAPE_IN_EXAMPLE },
      ),
    ),
    read_only: Type.Optional(Type.Boolean()),
    tmpfs: Type.Optional(Type.Array(Type.String({ maxLength: MAX_VALUE }), { maxItems: MAX_ENTRIES })),
    shm_size: Type.Optional(
      Type.Unsafe<number | string>({ ...Size('Bytes or "64m"'), expects: 'bytes or "64m"' }),
    ),
    ulimits: Type.Optional(
      Type.Unsafe<Record<string, number | { soft: number; hard: number }>>({
        type: 'object',
        ...SHAPE_IN_EXAMPLE,
        ...mapBounds(MAX_NAME),
        additionalProperties: {
          type: ['integer', 'object'],
          minimum: -1,
          maximum: Number.MAX_SAFE_INTEGER,
          properties: {
            soft: { type: 'integer', minimum: -1, maximum: Number.MAX_SAFE_INTEGER },
            hard: { type: 'integer', minimum: -1, maximum: Number.MAX_SAFE_INTEGER },
          },
          required: ['soft', 'hard'],
          additionalProperties: false,
        },
      }),
    ),
    init: Type.Optional(Type.Boolean()),
    dns: Type.Optional(Type.Array(Type.String({ maxLength: MAX_NAME }), { maxItems: MAX_ENTRIES })),
    extra_hosts: Type.Optional(Type.Array(Type.String({ maxLength: MAX_NAME }), { maxItems: MAX_ENTRIES })),
    networks: Type.Optional(
      Type.Unsafe<string[] | Record<string, NetworkOptions | null>>(
        Names({
          additionalProperties: {
            type: ['object', 'null'],
            properties: {
              aliases: Strings,
              ipv4_address: { type: 'string', maxLength: MAX_NAME },
              ipv6_address: { type: 'string', maxLength: MAX_NAME },
            },
            additionalProperties: false,
          },
        }),
      ),
    ),
    stop_signal: Text(),
    stop_grace_period: Type.Optional(Duration('e.g. "1m30s"')),
  };
}

/**
 * Properties of docker_create_container; docker_run_container adds its own. A property is described
 * only where its name and type leave a format or unit open (tty, hostname, pid_mode… say it all).
 */
export const createProperties = {
  image: Type.String({
    minLength: 1,
    maxLength: 512,
    pattern: IMAGE_REF_PATTERN,
    expects: 'an image reference such as repo:tag, repo@sha256:… or an image ID',
  }),
  name: Type.Optional(Type.String({ pattern: NAME_PATTERN, expects: NAME_EXPECTS, maxLength: 256 })),
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
  user: Word('user[:group]'),
  hostname: Word(),
  restart_policy: Type.Optional(RestartPolicy),
  mem_limit: Type.Optional(MemLimit),
  cpu_shares: Type.Optional(CpuShares),
  cpus: Type.Optional(Cpus),
  network_mode: Word('bridge, none or a network'),
  tty: Type.Optional(Type.Boolean()),
  privileged: Type.Optional(Type.Boolean()),
  cap_add: StringList(MAX_NAME),
  cap_drop: StringList(MAX_NAME),
  devices: StringList(MAX_VALUE, '"/dev/x[:/dev/y[:rwm]]"'),
  // seccomp=<profile JSON> carries a whole profile (the docker CLI inlines the file the same way).
  security_opt: StringList(MAX_ARG),
  pid_mode: Word(),
  ipc_mode: Word(),
  userns_mode: Word(),
  ...composeProperties(),
};

const CreateArgs = Type.Object(createProperties);
export type CreateArgs = Static<typeof CreateArgs>;

/** The tool arguments as a ContainerSpec: the tools' front-end of the one container model. */
export function specFromArgs(a: CreateArgs): ContainerSpec {
  const mounts = a.volumes && volumeSpec(a.volumes);
  const restart = a.restart_policy && { policy: a.restart_policy };
  const resources = {
    memory: bytes(a.mem_limit, 'mem_limit'),
    cpuShares: a.cpu_shares,
    nanoCpus: nanoCpus(a.cpus, 'cpus'),
    shmSize: bytes(a.shm_size, 'shm_size'),
  };
  return {
    image: a.image,
    name: a.name,
    command: argv(a.command, 'command'),
    entrypoint: argv(a.entrypoint, 'entrypoint'),
    env: a.environment && envEntries(a.environment),
    labels: a.labels,
    workingDir: a.working_dir,
    user: a.user,
    hostname: a.hostname,
    tty: a.tty,
    ports: a.ports && Object.entries(a.ports).map(([key, host]) => portOf(key, host)),
    binds: mounts?.binds,
    volumes: mounts?.anonymous,
    restart,
    resources,
    networkMode: a.network_mode,
    privileged: a.privileged,
    capAdd: a.cap_add,
    capDrop: a.cap_drop,
    devices: a.devices?.map(device),
    securityOpt: a.security_opt,
    pidMode: a.pid_mode,
    ipcMode: a.ipc_mode,
    usernsMode: a.userns_mode,
    ...composeOptions(a),
  };
}

/** The networks after the first: joined by a connect call after create (engines before API 1.44 take one). */
export const laterNetworks = (a: CreateArgs): [string, NetworkAttachment][] =>
  a.networks ? networksOf(a.networks).slice(1) : [];

function composeOptions(a: CreateArgs): Partial<ContainerSpec> {
  if (a.networks && a.network_mode)
    throw new ToolError('invalid_argument', "invalid argument 'networks': network_mode is set too", {
      hint: 'Pass one of them: networks (a list or map of networks) or network_mode.',
    });
  const [first] = a.networks ? networksOf(a.networks) : [];
  return {
    healthcheck: a.healthcheck && healthcheckOf(a.healthcheck),
    readOnly: a.read_only,
    tmpfs: a.tmpfs === undefined ? undefined : tmpfsOf(a.tmpfs),
    ulimits: a.ulimits && ulimitsOf(a.ulimits),
    init: a.init,
    dns: a.dns,
    extraHosts: a.extra_hosts && extraHostsOf(a.extra_hosts),
    ...(first && { networkMode: first[0], networks: { [first[0]]: first[1] } }),
    stopSignal: a.stop_signal,
    stopTimeout: a.stop_grace_period === undefined ? undefined : stopTimeoutOf(a.stop_grace_period),
  };
}

/** The Engine API create body for the tool arguments (the name travels in the query). */
export const createBody = (a: CreateArgs): Record<string, unknown> => specBody(specFromArgs(a));

const argv = (v: string | string[] | undefined, field: string) =>
  typeof v === 'string' ? shellSplit(v, field) : v;

/** "80/udp": 8080 | "ip:port" | null (any port); the host address defaults to DEFAULT_HOST_IP. */
function portOf(key: string, host: number | string | null): PortSpec {
  const [container = key, protocol] = key.split('/') as [string, PortSpec['protocol']?];
  const base = { container, ...(protocol && { protocol }) };
  if (host === null) return { ...base, hostIp: DEFAULT_HOST_IP, hostPort: '' };
  const text = String(host);
  const cut = text.lastIndexOf(':');
  if (cut < 0) return { ...base, hostIp: DEFAULT_HOST_IP, hostPort: text };
  return { ...base, hostIp: text.slice(0, cut).replace(/^\[|\]$/g, ''), hostPort: text.slice(cut + 1) };
}

/** "src:dst[:mode]" entries are binds (or named volumes); a bare "/dst" is an anonymous volume. */
function volumeSpec(volumes: string[] | Record<string, string | { bind: string; mode?: string }>) {
  const binds: string[] = [];
  const anonymous: string[] = [];
  if (Array.isArray(volumes)) {
    volumes.forEach((v, i) => {
      const [src = '', dst] = v.split(':');
      inContainer(dst ?? src, `volumes.${i}`);
      (dst === undefined ? anonymous : binds).push(v);
    });
  } else {
    for (const [src, to] of Object.entries(volumes)) {
      const dst = typeof to === 'string' ? to : to.bind;
      inContainer(dst, `volumes.${src}`);
      binds.push(
        typeof to === 'string' ? `${src}:${to}` : `${src}:${to.bind}${to.mode ? `:${to.mode}` : ''}`,
      );
    }
  }
  return {
    binds: binds.length > 0 ? binds : undefined,
    anonymous: anonymous.length > 0 ? anonymous : undefined,
  };
}

/**
 * A mount's path in the container is absolute, as the docker CLI requires: "rel" alone became an
 * anonymous volume at a relative destination, a container that could never start.
 */
function inContainer(path: string, field: string): void {
  if (!path.startsWith('/'))
    throw new ToolError(
      'invalid_argument',
      `invalid argument '${field}': the path in the container, ${JSON.stringify(path)}, is not absolute`,
      {
        hint: 'Write "/data" for an anonymous volume, or "name:/data" or "/host/dir:/data[:ro]" to mount one.',
      },
    );
}

function device(spec: string) {
  const [pathOnHost = spec, pathInContainer, permissions] = spec.split(':');
  return { pathOnHost, pathInContainer, permissions };
}
