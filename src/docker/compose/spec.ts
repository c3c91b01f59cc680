/**
 * A loaded service as a ContainerSpec, with the names and labels Docker Compose v2 gives it
 * (`<project>-<service>-<n>`, `com.docker.compose.*`), so `docker compose` and `docker-compose`
 * see our containers as theirs and the other way round.
 */
import { createHash } from 'node:crypto';
import { ToolError } from '../../core/errors.ts';
import { healthcheckOf, stopTimeoutOf } from '../container-options.ts';
import type { ContainerSpec, MountSpec } from '../container-spec.ts';
import { bytes, engineCount, MAX_CPU_SHARES, MAX_PIDS, nanoCpus, shellSplit } from '../spec-values.ts';
import type { Project } from './load.ts';
import type { Obj } from './normalise.ts';

/** The Compose version our labels claim: the v2 line whose labels we write. */
export const COMPOSE_VERSION = '2.27.0';

export const L = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  hash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  dependsOn: 'com.docker.compose.depends_on',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const sorted = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sorted)
    : isObj(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sorted(v[k])]),
        )
      : v;

/**
 * The config hash of a service: what decides, on a second `up`, whether its containers are recreated.
 * As Compose v2's ServiceHash, it leaves out what does not change a container: how many there are,
 * the order they start in, the profiles that enable them, how the image is built or pulled (a rebuilt
 * or re-pulled image recreates by its ID instead).
 */
export function configHash(svc: Obj): string {
  const { deploy, scale: _s, depends_on: _d, profiles: _p, build: _b, pull_policy: _pp, ...rest } = svc;
  // A deploy that only said how many is no deploy (`deploy: { replicas: 2 }` added recreates nothing).
  const { replicas: _r, ...d } = isObj(deploy) ? deploy : {};
  const kept = Object.keys(d).length > 0 ? d : undefined;
  return createHash('sha256')
    .update(JSON.stringify(sorted({ ...rest, deploy: kept })))
    .digest('hex');
}

/** The engine name of a project's network or volume (`<project>_<key>` unless `name:` or external). */
export function resourceName(project: string, key: string, def: Obj | undefined): string {
  if (def && typeof def.name === 'string') return def.name;
  if (def?.external === true || (isObj(def?.external) && def.external.name === undefined)) return key;
  if (isObj(def?.external) && typeof def.external.name === 'string') return def.external.name;
  return `${project}_${key}`;
}

/** The networks a service joins, by key (its own, else `default`). */
export function serviceNetworks(svc: Obj): Record<string, Obj> {
  if (typeof svc.network_mode === 'string') return {};
  const n = svc.networks as Record<string, Obj> | undefined;
  return n && Object.keys(n).length > 0 ? n : { default: {} };
}

/** The keys of the named volumes a service mounts (`data` in `data:/d`), in its order. */
export const serviceVolumes = (svc: Obj): string[] =>
  ((svc.volumes as Obj[] | undefined) ?? [])
    .filter((v) => v.type === 'volume' && v.source)
    .map((v) => String(v.source));

/**
 * The most containers one service may ask for. Compose has no cap; here one file's `scale: 100000000`
 * would have config and up build that many names (`links` to it, one per container) in the server.
 */
export const MAX_REPLICAS = 1000;

/** How many containers a service runs; refused over MAX_REPLICAS, naming the key that asked. */
export const replicas = (svc: Obj, service = ''): number => {
  const d = svc.deploy as Obj | undefined;
  const n = Number(d?.replicas ?? svc.scale ?? 1);
  const key = d?.replicas !== undefined ? 'deploy.replicas' : 'scale';
  if (!Number.isInteger(n) || n < 0)
    throw new ToolError(
      'invalid_argument',
      `service "${service}": ${key} must be a whole number, 0 or more`,
      {
        hint: `Set ${key}, or the variable it reads, to how many containers to run.`,
      },
    );
  if (n > MAX_REPLICAS)
    throw new ToolError(
      'invalid_argument',
      `service "${service}": ${key} ${n} is over ${MAX_REPLICAS}, the most this server runs for one service`,
      { hint: `Ask for at most ${MAX_REPLICAS} containers.` },
    );
  return n;
};

export const containerName = (p: Project, service: string, n: number): string =>
  str(p.services[service]?.container_name) || `${p.name}-${service}-${n}`;

/** The image a service runs (a built service's is `<project>-<service>`, as Compose v2 names it). */
export const serviceImage = (p: Project, service: string): string =>
  str(p.services[service]?.image) || `${p.name}-${service}`;

function restart(v: unknown): ContainerSpec['restart'] {
  if (v === undefined) return undefined;
  const [policy = 'no', max] = str(v).split(':');
  return {
    policy: policy as NonNullable<ContainerSpec['restart']>['policy'],
    ...(max !== undefined && { maxRetries: Number(max) }),
  };
}

/** deploy.restart_policy, used when `restart` is absent (as Docker Compose v2 does). */
function deployRestart(v: unknown): ContainerSpec['restart'] {
  if (!isObj(v)) return undefined;
  const condition = str(v.condition || 'any');
  const policy = condition === 'none' ? 'no' : condition === 'on-failure' ? 'on-failure' : 'always';
  return {
    policy,
    ...(policy === 'on-failure' && v.max_attempts !== undefined && { maxRetries: Number(v.max_attempts) }),
  };
}

/**
 * `links: [db, db:alias]` as the engine's "container:alias" entries, one per container of the linked
 * service (its replicas), as Docker Compose v2 writes them.
 */
function linksOf(p: Project, s: Obj): string[] | undefined {
  // The same for each container of `s`: made once per loaded service, not once per container.
  if (linksMade.has(s)) return linksMade.get(s);
  const entries = ((s.links as string[] | undefined) ?? []).flatMap((l) => {
    const [other = l, alias = other] = l.split(':');
    const count = p.services[other] ? replicas(p.services[other] as Obj, other) : 0;
    return Array.from({ length: count }, (_, i) => `${containerName(p, other, i + 1)}:${alias}`);
  });
  const out = entries.length ? entries : undefined;
  linksMade.set(s, out);
  return out;
}
const linksMade = new WeakMap<Obj, string[] | undefined>();

/** `db[:ro]`, `service:db[:ro]` → the first container of that service; `container:x[:ro]` → x. */
function volumesFrom(p: Project, v: string): string {
  if (v.startsWith('container:')) return v.slice('container:'.length);
  const [other = v, mode] = v.replace(/^service:/, '').split(':');
  return `${containerName(p, other, 1)}${mode ? `:${mode}` : ''}`;
}

const cmd = (v: unknown, field: string) =>
  v === undefined || v === null ? undefined : Array.isArray(v) ? v.map(str) : shellSplit(str(v), field);

/** The spec of container `n` of `service`; `extraLabels` (e.g. a test label) go on it too. */
export function serviceSpec(p: Project, service: string, n: number): ContainerSpec {
  const s = p.services[service] as Obj;
  const c = {
    file: p.configFiles[0] ?? '',
    service,
    dir: p.workingDir,
    home: '',
    readEnvFile: async () => undefined,
  };
  const env = s.environment as Record<string, string | null> | undefined;
  const deploy = (s.deploy as Obj | undefined) ?? {};
  const limits = ((deploy.resources as Obj | undefined)?.limits as Obj | undefined) ?? {};
  const reservations = ((deploy.resources as Obj | undefined)?.reservations as Obj | undefined) ?? {};
  const health = s.healthcheck as Obj | undefined;
  const nets = serviceNetworks(s);
  const netKeys = Object.keys(nets);
  const deps = Object.entries((s.depends_on as Record<string, Obj> | undefined) ?? {});
  const where = (key: string) => `${c.file}: service "${service}": ${key}`;
  const links = linksOf(p, s);
  // Links live on the project network's endpoint; with network_mode (bridge) they are legacy links.
  const onNetwork = typeof s.network_mode !== 'string' && netKeys.length > 0;
  const memory = bytes(
    (limits.memory ?? s.mem_limit) as string | number | undefined,
    limits.memory !== undefined ? 'deploy.resources.limits.memory' : 'mem_limit',
    where,
  );
  const cpus = limits.cpus ?? s.cpus;
  const resources = {
    ...(memory !== undefined && { memory }),
    ...(cpus !== undefined && {
      nanoCpus: nanoCpus(
        Number(cpus),
        limits.cpus !== undefined ? 'deploy.resources.limits.cpus' : 'cpus',
        where,
      ),
    }),
    ...((limits.pids ?? s.pids_limit) !== undefined && {
      pidsLimit: engineCount(
        limits.pids ?? s.pids_limit,
        limits.pids !== undefined ? 'deploy.resources.limits.pids' : 'pids_limit',
        MAX_PIDS,
        where,
        -1,
      ),
    }),
    ...((reservations.memory ?? s.mem_reservation) !== undefined && {
      memoryReservation: bytes(
        (reservations.memory ?? s.mem_reservation) as string,
        reservations.memory !== undefined ? 'deploy.resources.reservations.memory' : 'mem_reservation',
        where,
      ),
    }),
    ...(s.shm_size !== undefined && { shmSize: bytes(s.shm_size as string, 'shm_size', where) }),
    ...(s.memswap_limit !== undefined && {
      memorySwap: bytes(s.memswap_limit as string, 'memswap_limit', where),
    }),
    ...(s.cpu_shares !== undefined && {
      cpuShares: engineCount(s.cpu_shares, 'cpu_shares', MAX_CPU_SHARES, where),
    }),
    ...(s.oom_score_adj !== undefined && { oomScoreAdj: Number(s.oom_score_adj) }),
    ...(Array.isArray(reservations.devices) && { deviceRequests: reservations.devices.map(deviceRequest) }),
  };
  const volumes = (s.volumes as Obj[] | undefined) ?? [];
  const binds = volumes.map(legacyBind).filter((b) => b !== undefined);
  const others = volumes.filter((v) => !legacyBind(v));
  const mounts: MountSpec[] = others.map((v) => {
    const type = str(v.type) as MountSpec['type'];
    const source =
      type === 'volume' && v.source
        ? resourceName(p.name, str(v.source), p.volumes[str(v.source)])
        : (v.source as string | undefined);
    const tmpfs = v.tmpfs as Obj | undefined;
    return {
      type,
      target: str(v.target),
      ...(source && { source }),
      ...(v.read_only === true && { readOnly: true }),
      ...(v.consistency !== undefined && { consistency: str(v.consistency) }),
      ...(type === 'bind' && {
        bind: {
          createHostPath: (v.bind as Obj | undefined)?.create_host_path !== false,
          ...(isObj(v.bind) && v.bind.propagation !== undefined && { propagation: str(v.bind.propagation) }),
        },
      }),
      ...(type === 'volume' &&
        isObj(v.volume) && {
          volume: {
            noCopy: v.volume.nocopy === true,
            ...(v.volume.subpath !== undefined && { subpath: str(v.volume.subpath) }),
            ...(isObj(v.volume.labels) && { labels: v.volume.labels as Record<string, string> }),
          },
        }),
      ...(tmpfs && {
        tmpfs: {
          sizeBytes: bytes(tmpfs.size as string, 'volumes.tmpfs.size', where),
          mode: tmpfs.mode as number,
        },
      }),
    };
  });
  // Secrets and configs backed by a file are read-only binds, where Compose puts them.
  for (const [kind, defs, dirOf] of [
    ['secrets', p.secrets, '/run/secrets/'],
    ['configs', p.configs, '/'],
  ] as const)
    for (const ref of (s[kind] as Obj[] | undefined) ?? []) {
      const file = defs[str(ref.source)]?.file;
      if (typeof file !== 'string') continue;
      const target = str(ref.target) || str(ref.source);
      mounts.push({
        type: 'bind',
        source: file,
        target: target.startsWith('/') ? target : dirOf + target,
        readOnly: true,
      });
    }
  return strip({
    image: serviceImage(p, service),
    name: containerName(p, service, n),
    platform: s.platform as string | undefined,
    command: cmd(s.command, 'command'),
    entrypoint: cmd(s.entrypoint, 'entrypoint'),
    // A bare name still unset once the environment was read is left out, as Compose does.
    env: env && Object.entries(env).flatMap(([k, v]) => (v === null ? [] : [`${k}=${v}`])),
    labels: {
      ...(s.labels as Record<string, string> | undefined),
      [L.project]: p.name,
      [L.service]: service,
      [L.number]: String(n),
      [L.oneoff]: 'False',
      [L.hash]: configHash(s),
      [L.workingDir]: p.workingDir,
      [L.configFiles]: p.configFiles.join(','),
      [L.dependsOn]: deps.map(([d, o]) => `${d}:${str(o.condition)}:${o.restart === true}`).join(','),
      [L.version]: COMPOSE_VERSION,
    },
    expose: s.expose as string[] | undefined,
    ports: ((s.ports as Obj[] | undefined) ?? []).map((pt) => ({
      container: str(pt.target),
      protocol: str(pt.protocol || 'tcp') as 'tcp',
      // An empty host_ip (`${BIND_IP}` unset) is no address: it binds loopback, not every interface.
      hostIp: str(pt.host_ip) || '127.0.0.1',
      hostPort: str(pt.published),
    })),
    binds: binds.length ? binds : undefined,
    mounts: mounts.length ? mounts : undefined,
    tmpfs: s.tmpfs
      ? Object.fromEntries(
          (s.tmpfs as string[]).map((t) => [t.split(':')[0], t.split(':').slice(1).join(':')]),
        )
      : undefined,
    networkMode:
      typeof s.network_mode === 'string'
        ? sharedMode(p, s.network_mode)
        : resourceName(p.name, netKeys[0] as string, p.networks[netKeys[0] as string]),
    // Only the first network at create time (older engines take one); the others are connected after.
    networks:
      netKeys.length > 0
        ? {
            [resourceName(p.name, netKeys[0] as string, p.networks[netKeys[0] as string])]: {
              ...endpoint(service, nets[netKeys[0] as string]),
              ...(links && { links }),
            },
          }
        : undefined,
    hostname: s.hostname as string | undefined,
    domainname: s.domainname as string | undefined,
    dns: s.dns as string[] | undefined,
    dnsSearch: s.dns_search as string[] | undefined,
    dnsOptions: s.dns_opt as string[] | undefined,
    extraHosts: s.extra_hosts as string[] | undefined,
    restart: restart(s.restart) ?? deployRestart(deploy.restart_policy),
    links: onNetwork ? undefined : links,
    volumesFrom: (s.volumes_from as string[] | undefined)?.map((v) => volumesFrom(p, v)),
    resources: Object.keys(resources).length ? resources : undefined,
    healthcheck:
      health &&
      healthcheckOf(
        {
          ...health,
          test: (health.test as unknown[] | undefined)?.map(str),
          retries: health.retries === undefined ? undefined : Number(health.retries),
        },
        'healthcheck',
        where,
      ),
    user: s.user === undefined ? undefined : str(s.user),
    groupAdd: (s.group_add as unknown[] | undefined)?.map(str),
    workingDir: s.working_dir as string | undefined,
    tty: s.tty as boolean | undefined,
    stdinOpen: s.stdin_open as boolean | undefined,
    privileged: s.privileged as boolean | undefined,
    readOnly: s.read_only as boolean | undefined,
    capAdd: s.cap_add as string[] | undefined,
    capDrop: s.cap_drop as string[] | undefined,
    securityOpt: s.security_opt as string[] | undefined,
    devices: (s.devices as unknown[] | undefined)?.map((d) => {
      if (isObj(d))
        return {
          pathOnHost: str(d.source),
          pathInContainer: d.target === undefined ? undefined : str(d.target),
          permissions: d.permissions === undefined ? undefined : str(d.permissions),
        };
      const [pathOnHost = '', pathInContainer, permissions] = str(d).split(':');
      return { pathOnHost, pathInContainer, permissions };
    }),
    pidMode: s.pid === undefined ? undefined : sharedMode(p, str(s.pid)),
    ipcMode: s.ipc === undefined ? undefined : sharedMode(p, str(s.ipc)),
    usernsMode: s.userns_mode as string | undefined,
    cgroupParent: s.cgroup_parent as string | undefined,
    macAddress: s.mac_address as string | undefined,
    runtime: s.runtime as string | undefined,
    init: s.init as boolean | undefined,
    stopSignal: s.stop_signal as string | undefined,
    stopTimeout:
      s.stop_grace_period === undefined
        ? undefined
        : stopTimeoutOf(s.stop_grace_period as string, 'stop_grace_period', where),
    logging: s.logging
      ? {
          driver: (s.logging as Obj).driver as string | undefined,
          options: (s.logging as Obj).options as Record<string, string> | undefined,
        }
      : undefined,
    ulimits: s.ulimits
      ? Object.entries(s.ulimits as Record<string, { soft: number; hard: number }>).map(([name, u]) => ({
          name,
          ...u,
        }))
      : undefined,
    sysctls: s.sysctls as Record<string, string> | undefined,
  });
}

/** A `deploy.resources.reservations.devices` entry as Compose v2 sends it (count `all` is -1). */
function deviceRequest(
  d: unknown,
): NonNullable<NonNullable<ContainerSpec['resources']>['deviceRequests']>[number] {
  const e = isObj(d) ? d : {};
  return {
    ...(e.driver !== undefined && { driver: str(e.driver) }),
    ...(e.count !== undefined && { count: e.count === 'all' ? -1 : Number(e.count) }),
    ...(Array.isArray(e.device_ids) && { deviceIds: e.device_ids.map(str) }),
    ...(Array.isArray(e.capabilities) && { capabilities: [e.capabilities.map(str)] }),
    ...(isObj(e.options) && { options: e.options as Record<string, string> }),
  };
}

/**
 * A bind that may make its missing host directory, as a `Binds` entry (`src:dst:rw`), as Compose v2
 * sends it: the engine then makes the directory on every API version, where the Mounts API's
 * CreateMountpoint is read only from 1.44. Not when a path holds ':' (the entry would read otherwise).
 */
function legacyBind(v: Obj): string | undefined {
  const b = isObj(v.bind) ? v.bind : {};
  const [src, dst] = [str(v.source), str(v.target)];
  if (v.type !== 'bind' || !src || b.create_host_path === false || b.propagation !== undefined)
    return undefined;
  if (src.includes(':') || dst.includes(':')) return undefined;
  // `:z`/`:Z` stays unwritten, as before: relabelling host files is not what a bind asks for here.
  return `${src}:${dst}:${v.read_only === true ? 'ro' : 'rw'}`;
}

/** A namespace shared with another service (`service:x`) as its first container's (`container:<name>`). */
const sharedMode = (p: Project, mode: string): string =>
  mode.startsWith('service:') ? `container:${containerName(p, mode.slice('service:'.length), 1)}` : mode;

/** The services whose namespaces a service joins (network_mode, pid, ipc: `service:x`): made first. */
export const sharedServices = (svc: Obj): [key: string, service: string][] =>
  (['network_mode', 'pid', 'ipc'] as const)
    .filter((k) => typeof svc[k] === 'string' && (svc[k] as string).startsWith('service:'))
    .map((k) => [k, (svc[k] as string).slice('service:'.length)]);

/** A network attachment: the service name (and any declared aliases) as aliases. */
export function endpoint(service: string, def: Obj | undefined) {
  const d = def ?? {};
  return {
    aliases: [service, ...((d.aliases as string[] | undefined) ?? [])],
    ...(d.ipv4_address !== undefined && { ipv4Address: str(d.ipv4_address) }),
    ...(d.ipv6_address !== undefined && { ipv6Address: str(d.ipv6_address) }),
  };
}

function strip(s: ContainerSpec): ContainerSpec {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as ContainerSpec;
}
