/**
 * The keys this implementation maps, checked on every file after the specification's schema (which
 * refuses keys it does not know): a key the specification has but we do not map is refused naming
 * the file, the service and the key, rather than silently ignored. `x-` extensions are allowed
 * wherever the specification allows them.
 */
import { ToolError } from '../../core/errors.ts';
import { replicas, serviceVolumes } from './spec.ts';

const TOP = new Set(['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs']);

/** Service keys we map (docs/CONTAINER-SPEC.md); the others of the specification are refused for now. */
export const SERVICE_KEYS = new Set(
  `image build command entrypoint environment env_file ports expose volumes networks network_mode
  depends_on healthcheck restart deploy labels tmpfs shm_size extra_hosts dns dns_search dns_opt init
  stop_signal stop_grace_period user working_dir ulimits sysctls logging profiles extends container_name
  hostname domainname cap_add cap_drop privileged read_only security_opt devices pid ipc userns_mode
  cgroup_parent group_add tty stdin_open pull_policy scale platform mac_address runtime mem_limit
  mem_reservation memswap_limit cpus cpu_shares pids_limit oom_score_adj secrets configs links
  volumes_from label_file`.split(/\s+/),
);

const NETWORK_KEYS = new Set([
  'name',
  'driver',
  'driver_opts',
  'external',
  'internal',
  'attachable',
  'labels',
  'ipam',
  'enable_ipv6',
]);
const VOLUME_KEYS = new Set(['name', 'driver', 'driver_opts', 'external', 'labels']);

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const refuse = (file: string, where: string, key: string, known: Set<string>) =>
  new ToolError('invalid_argument', `${file}: ${where}: key "${key}" is not supported by this server`, {
    hint: `Remove it, or run this project with Docker Compose (supported here: ${[...known].slice(0, 12).join(', ')}…).`,
  });

export function checkKeys(doc: Record<string, unknown>, file: string): void {
  for (const k of Object.keys(doc))
    if (!TOP.has(k) && !k.startsWith('x-')) throw refuse(file, 'top level', k, TOP);
  if (doc.services !== undefined && !isObj(doc.services))
    throw new ToolError('invalid_argument', `${file}: services must be a mapping of service names`, {
      hint: 'Write services: then one key per service.',
    });
  for (const [name, svc] of Object.entries((doc.services as Record<string, unknown>) ?? {})) {
    if (!isObj(svc)) continue;
    for (const k of Object.keys(svc))
      if (!SERVICE_KEYS.has(k) && !k.startsWith('x-'))
        throw refuse(file, `service "${name}"`, k, SERVICE_KEYS);
  }
  for (const [section, keys] of [
    ['networks', NETWORK_KEYS],
    ['volumes', VOLUME_KEYS],
  ] as const)
    for (const [name, v] of Object.entries((doc[section] as Record<string, unknown>) ?? {}))
      if (isObj(v))
        for (const k of Object.keys(v))
          if (!keys.has(k) && !k.startsWith('x-')) throw refuse(file, `${section} "${name}"`, k, keys);
}

/**
 * The keys inside a service's keys that `up` maps, on the service as normalised (long forms): `true` a
 * value taken whole, a shape its keys, `*` any key, `[]` each entry of a list. A key outside it is
 * refused naming its path, rather than dropped: a GPU request dropped would leave the model thinking
 * the container has a GPU. Swarm-only `deploy` keys are taken and not applied, as Docker Compose does.
 */
type Shape = { [key: string]: Shape | true };
const LEAVES = (keys: string): Shape => Object.fromEntries(keys.split(' ').map((k) => [k, true]));
const CONTAINER: Shape = {
  build: LEAVES('context dockerfile args target labels no_cache'),
  deploy: {
    ...LEAVES('replicas mode endpoint_mode labels rollback_config update_config placement'),
    resources: {
      limits: LEAVES('cpus memory pids'),
      reservations: {
        ...LEAVES('cpus memory generic_resources'),
        devices: { '[]': LEAVES('capabilities count device_ids driver options') },
      },
    },
    restart_policy: LEAVES('condition delay max_attempts window'),
  },
  volumes: {
    '[]': {
      ...LEAVES('type source target read_only consistency'),
      bind: LEAVES('propagation create_host_path selinux'),
      volume: LEAVES('nocopy labels subpath'),
      tmpfs: LEAVES('size mode'),
    },
  },
  ports: { '[]': LEAVES('target published host_ip protocol mode') },
  networks: { '*': LEAVES('aliases ipv4_address ipv6_address') },
  depends_on: { '*': LEAVES('condition required restart') },
  healthcheck: LEAVES('test interval timeout retries start_period start_interval disable'),
  logging: LEAVES('driver options'),
  ulimits: { '*': LEAVES('soft hard') },
  secrets: { '[]': LEAVES('source target mode') },
  configs: { '[]': LEAVES('source target mode') },
  devices: { '[]': LEAVES('source target permissions') },
};

/** A project network's `ipam` (the specification's `options` and other drivers are not mapped). */
const IPAM: Shape = { driver: true, config: { '[]': LEAVES('subnet ip_range gateway aux_addresses') } };

/** The network keys a service joins (none with network_mode). */
const networkKeys = (svc: Record<string, unknown>): string[] =>
  typeof svc.network_mode === 'string'
    ? []
    : isObj(svc.networks) && Object.keys(svc.networks).length
      ? Object.keys(svc.networks)
      : ['default'];

const MOUNT_TYPES = new Set(['bind', 'volume', 'tmpfs']);
/**
 * Bind propagation as the engine takes it. Shared modes pass mounts made inside the container out to
 * the host, but making a mount needs CAP_SYS_ADMIN or privileged, both refused by the policy unless
 * allowed; a `src:dst:rshared` bind in a create body is allowed on the same ground.
 */
const PROPAGATION = new Set(['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']);
/** Engine API versions as numbers to compare: "1.45" → 1045. */
const api = (v: string) => {
  const [major = 0, minor = 0] = v.split('.').map(Number);
  return major * 1000 + minor;
};

/** The first key of `v` outside `shape`, as a path (`volumes[0].bind.recursive`). */
function unmapped(v: unknown, shape: Shape, at: string): string | undefined {
  if (Array.isArray(v)) {
    const each = shape['[]'];
    if (each === undefined || each === true) return undefined;
    for (const [i, x] of v.entries()) {
      const found = unmapped(x, each, `${at}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObj(v)) return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('x-')) continue;
    const sub = shape[k] ?? shape['*'];
    const path = at ? `${at}.${k}` : k;
    if (sub === undefined) return path;
    if (sub === true) continue;
    const found = unmapped(x, sub, path);
    if (found) return found;
  }
  return undefined;
}

/**
 * The named volumes and networks services use are declared at the top level, as both Compose
 * versions require: a typo (`typo-vol:/d`) would otherwise get an empty volume of its own.
 */
function checkDeclared(p: {
  configFiles: string[];
  services: Record<string, Record<string, unknown>>;
  networks: Record<string, unknown>;
  volumes: Record<string, unknown>;
}): void {
  const file = p.configFiles[0] ?? '';
  for (const [s, svc] of Object.entries(p.services)) {
    for (const n of networkKeys(svc))
      if (n !== 'default' && !(n in p.networks))
        throw new ToolError(
          'invalid_argument',
          `${file}: service "${s}": networks: network "${n}" is not declared in the top-level networks`,
          {
            hint: `Declare it under networks: (${n}: {}, or external: true for one that exists), or fix the name.`,
          },
        );
    for (const v of serviceVolumes(svc))
      if (!(v in p.volumes))
        throw new ToolError(
          'invalid_argument',
          `${file}: service "${s}": volumes: volume "${v}" is not declared in the top-level volumes`,
          {
            hint: `Declare it under volumes: (${v}: {}, or external: true for one that exists), or fix the name.`,
          },
        );
  }
}

/**
 * Caps on the project as a whole, checked before anything is expanded. Each container port (ranges
 * counted port by port, `expose` too) and each `links` entry (one per container of the linked service)
 * is built into the create body of every container of its service; config builds one body per service,
 * up one per container, synchronously. Per-service caps alone let a few KB of YAML anchors repeat the
 * same `links`/`ports` on many services and grow the work with services × replicas.
 */
export const MAX_PROJECT_CONTAINERS = 1000;
export const MAX_PUBLISHED_PORTS = 3 * 65535;
export const MAX_LINK_ENTRIES = 100_000;

/** How many container ports one `ports` / `expose` entry stands for (a range port by port). */
function portsIn(v: unknown): number {
  const target = isObj(v) ? v.target : v;
  const [lo = 0, hi = lo] = String(target).split('/')[0]?.split('-').map(Number) ?? [];
  return Number.isInteger(lo) && Number.isInteger(hi) && hi >= lo ? hi - lo + 1 : 1;
}

function checkProjectSize(p: { configFiles: string[]; services: Record<string, Record<string, unknown>> }) {
  const file = p.configFiles[0] ?? '';
  const count: Record<string, number> = {};
  let containers = 0;
  for (const [s, svc] of Object.entries(p.services)) {
    count[s] = replicas(svc, s);
    containers += count[s];
  }
  if (containers > MAX_PROJECT_CONTAINERS)
    throw new ToolError(
      'invalid_argument',
      `${file}: services: ${containers} containers in all (scale / deploy.replicas of every service), over ${MAX_PROJECT_CONTAINERS}, the most this server runs for one project`,
      {
        hint: `Lower scale or deploy.replicas to at most ${MAX_PROJECT_CONTAINERS} containers in all, or split the project.`,
      },
    );
  let ports = 0;
  let links = 0;
  for (const [s, svc] of Object.entries(p.services)) {
    // A service scaled to 0 still has its body built by config.
    const bodies = Math.max(count[s] ?? 1, 1);
    for (const key of ['ports', 'expose'] as const) {
      for (const v of (svc[key] as unknown[] | undefined) ?? []) ports += bodies * portsIn(v);
      if (ports > MAX_PUBLISHED_PORTS)
        throw new ToolError(
          'invalid_argument',
          `${file}: service "${s}": ${key}: ${ports} ports in all, over ${MAX_PUBLISHED_PORTS} for the project (every container's ports and expose, ranges counted port by port)`,
          {
            hint: 'Publish or expose fewer or shorter port ranges, or run fewer containers of the services that do.',
          },
        );
    }
    for (const l of (svc.links as string[] | undefined) ?? [])
      links += bodies * (count[l.split(':')[0] ?? l] ?? 0);
    if (links > MAX_LINK_ENTRIES)
      throw new ToolError(
        'invalid_argument',
        `${file}: service "${s}": links: ${links} links in all, over ${MAX_LINK_ENTRIES} for the project (one per container of each linked service, for each container that links)`,
        {
          hint: 'Link fewer services, or run fewer containers of the services linked; a network lets services reach each other by name without links.',
        },
      );
  }
}

/** What to write instead of waiting on a dependency that has no healthcheck. */
export const NO_HEALTHCHECK_HINT = (dep: string) =>
  `Give "${dep}" a healthcheck, or wait for it with condition: service_started.`;

/**
 * A service_healthy dependency whose healthcheck the file turns off (`disable: true`, `test: [NONE]`)
 * never gets healthy: refused at once, as Compose fails at once, not after the wait times out. One
 * with no healthcheck key may have its image's, and is judged when it runs (wait.ts).
 */
function checkHealthyDependencies(p: {
  configFiles: string[];
  services: Record<string, Record<string, unknown>>;
}): void {
  const file = p.configFiles[0] ?? '';
  for (const [s, svc] of Object.entries(p.services))
    for (const [dep, d] of Object.entries(
      (svc.depends_on as Record<string, Record<string, unknown>>) ?? {},
    )) {
      const h = p.services[dep]?.healthcheck;
      const off = isObj(h) && (h.disable === true || (Array.isArray(h.test) && h.test[0] === 'NONE'));
      if (d.condition === 'service_healthy' && off)
        throw new ToolError(
          'invalid_argument',
          `${file}: service "${s}": depends_on: "${dep}" (service_healthy) has its healthcheck disabled, so it never gets healthy`,
          { hint: NO_HEALTHCHECK_HINT(dep) },
        );
    }
}

/**
 * Every service `up` would make, refused at the first key inside it that is not mapped, or mapped only
 * by a newer engine (`apiVersion`, the version negotiated with it); config refuses the same, so up
 * makes nothing. Stacks read the same files with their own table of keys.
 */
export function checkContainerKeys(
  p: { configFiles: string[]; services: Record<string, Record<string, unknown>> } & {
    networks: Record<string, Record<string, unknown>>;
    volumes: Record<string, Record<string, unknown>>;
    secrets: Record<string, Record<string, unknown>>;
    configs: Record<string, Record<string, unknown>>;
  },
  services: string[],
  apiVersion: string,
): void {
  const file = p.configFiles[0] ?? '';
  const no = (s: string, key: string, why: string, hint: string) =>
    new ToolError('invalid_argument', `${file}: service "${s}": ${key}: ${why}`, { hint });
  // The project networks the services join: their IPAM as the network tools take it, the default driver.
  const joined = new Set(services.flatMap((s) => networkKeys(p.services[s] ?? {})));
  for (const [name, def] of Object.entries(p.networks))
    if (joined.has(name) && !def.external) {
      const key = unmapped(def.ipam, IPAM, 'ipam');
      if (key)
        throw new ToolError(
          'invalid_argument',
          `${file}: networks "${name}": key "${key}" is not supported by this server`,
          { hint: 'Remove it (the default IPAM driver is used), or run this project with Docker Compose.' },
        );
      if (isObj(def.ipam) && def.ipam.driver !== undefined && def.ipam.driver !== 'default')
        throw new ToolError(
          'invalid_argument',
          `${file}: networks "${name}": ipam.driver "${String(def.ipam.driver)}" is not supported by this server`,
          { hint: 'Remove it: the default IPAM driver is used.' },
        );
    }
  checkDeclared(p);
  checkHealthyDependencies(p);
  // Every service's count, the unselected too: a selected one may link to it.
  checkProjectSize(p);
  for (const s of services) {
    const svc = p.services[s] ?? {};
    // The service's own keys were checked at load (SERVICE_KEYS): here, what is inside them.
    const key = Object.keys(CONTAINER)
      .map((k) => unmapped(svc[k], CONTAINER[k] as Shape, k))
      .find(Boolean);
    if (key)
      throw new ToolError(
        'invalid_argument',
        `${file}: service "${s}": key "${key}" is not supported by this server`,
        {
          hint: 'Remove it, or run this project with Docker Compose.',
        },
      );
    for (const [i, v] of ((svc.volumes as Record<string, unknown>[] | undefined) ?? []).entries()) {
      if (!MOUNT_TYPES.has(String(v.type)))
        throw no(
          s,
          `volumes[${i}].type`,
          `"${String(v.type)}" is not supported by this server`,
          'Use bind, volume or tmpfs.',
        );
      const propagation = isObj(v.bind) ? v.bind.propagation : undefined;
      if (propagation !== undefined && !PROPAGATION.has(String(propagation)))
        throw no(
          s,
          `volumes[${i}].bind.propagation`,
          `"${String(propagation)}" is not a propagation mode`,
          `Use one of ${[...PROPAGATION].join(', ')}.`,
        );
      const subpath = isObj(v.volume) ? v.volume.subpath : undefined;
      if (subpath !== undefined && api(apiVersion) < api('1.45'))
        throw no(
          s,
          `volumes[${i}].volume.subpath`,
          `needs Engine API 1.45 (Docker 26), and this engine speaks ${apiVersion}`,
          'Mount the whole volume and use the subdirectory inside the container, or upgrade the engine.',
        );
    }
    for (const kind of ['secrets', 'configs'] as const)
      for (const [i, ref] of ((svc[kind] as Record<string, unknown>[] | undefined) ?? []).entries())
        if (ref.mode !== undefined && typeof p[kind][String(ref.source)]?.file === 'string')
          throw no(
            s,
            `${kind}[${i}].mode`,
            'a secret or config backed by a file is bind-mounted read-only as the file is',
            'Set the mode on the file itself, or remove mode.',
          );
  }
}
