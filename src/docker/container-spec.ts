/**
 * `ContainerSpec`: everything a container is made of, in one engine-neutral shape that several
 * front-ends fill — the create/run tool arguments today, a Compose service next — and one mapping to
 * the Engine API create request. Values are already parsed (bytes, nanoseconds, argv arrays); a
 * front-end turns its own spellings ("512m", "1m30s", a shell string) into them.
 * docs/CONTAINER-SPEC.md maps each Compose service key to a field here.
 */
import { ToolError } from '../core/errors.ts';

/** A published port: `container` ('80', '8000-8010') and protocol; host address and port optional. */
export interface PortSpec {
  container: string;
  protocol?: 'tcp' | 'udp' | 'sctp';
  /** Host address; '' lets the engine choose (all addresses). Front-ends default it to 127.0.0.1. */
  hostIp?: string;
  /** Host port or range; '' or absent: any free port. */
  hostPort?: string;
}

/** A mount in the engine's long form (Compose's long volume syntax, tmpfs with options). */
export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'image' | 'cluster';
  /** Host path (bind), volume name (volume; absent = anonymous), image (image). */
  source?: string;
  target: string;
  readOnly?: boolean;
  consistency?: string;
  bind?: { propagation?: string; createHostPath?: boolean };
  volume?: { noCopy?: boolean; subpath?: string; labels?: Record<string, string>; driver?: string };
  tmpfs?: { sizeBytes?: number; mode?: number };
}

/** One network to join at create time. */
export interface NetworkAttachment {
  aliases?: string[];
  ipv4Address?: string;
  ipv6Address?: string;
  linkLocalIps?: string[];
  macAddress?: string;
  driverOpts?: Record<string, string>;
  priority?: number;
  links?: string[];
}

/** Durations are nanoseconds, as the engine takes them. */
export interface HealthcheckSpec {
  /** ['CMD', …], ['CMD-SHELL', 'cmd'], or ['NONE'] to disable the image's. */
  test?: string[];
  interval?: number;
  timeout?: number;
  retries?: number;
  startPeriod?: number;
  startInterval?: number;
}

export interface ResourceSpec {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  cpuShares?: number;
  nanoCpus?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuRealtimePeriod?: number;
  cpuRealtimeRuntime?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  blkioWeightDevice?: { path: string; weight: number }[];
  blkioDeviceReadBps?: { path: string; rate: number }[];
  blkioDeviceWriteBps?: { path: string; rate: number }[];
  blkioDeviceReadIOps?: { path: string; rate: number }[];
  blkioDeviceWriteIOps?: { path: string; rate: number }[];
  shmSize?: number;
  oomKillDisable?: boolean;
  oomScoreAdj?: number;
  /** GPUs and other device requests (Compose `gpus`, `deploy.resources.reservations.devices`). */
  deviceRequests?: {
    driver?: string;
    count?: number;
    deviceIds?: string[];
    capabilities?: string[][];
    options?: Record<string, string>;
  }[];
}

export interface ContainerSpec {
  image: string;
  /** The container's name (sent in the query, not the body). */
  name?: string;
  /** `os[/arch[/variant]]` to pick from a multi-platform image (sent in the query). */
  platform?: string;
  command?: string[];
  entrypoint?: string[];
  /** "K=v" entries, or a bare "K". */
  env?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Ports exposed without publishing ('80', '53/udp'). */
  expose?: string[];
  ports?: PortSpec[];
  /** "src:dst[:mode]" (host path or named volume). */
  binds?: string[];
  /** Container paths of anonymous volumes. */
  volumes?: string[];
  mounts?: MountSpec[];
  /** Container path → mount options ('size=64m,mode=1777'; '' for none). */
  tmpfs?: Record<string, string>;
  volumesFrom?: string[];
  /** bridge, host, none, container:<id>, or a network name. */
  networkMode?: string;
  networks?: Record<string, NetworkAttachment>;
  links?: string[];
  macAddress?: string;
  hostname?: string;
  domainname?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** "host:ip" entries. */
  extraHosts?: string[];
  restart?: { policy: 'no' | 'always' | 'unless-stopped' | 'on-failure'; maxRetries?: number };
  autoRemove?: boolean;
  resources?: ResourceSpec;
  healthcheck?: HealthcheckSpec;
  user?: string;
  groupAdd?: string[];
  workingDir?: string;
  tty?: boolean;
  stdinOpen?: boolean;
  privileged?: boolean;
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  devices?: { pathOnHost: string; pathInContainer?: string; permissions?: string }[];
  deviceCgroupRules?: string[];
  pidMode?: string;
  ipcMode?: string;
  utsMode?: string;
  usernsMode?: string;
  cgroupnsMode?: 'private' | 'host';
  cgroupParent?: string;
  init?: boolean;
  runtime?: string;
  isolation?: string;
  stopSignal?: string;
  /** Seconds. */
  stopTimeout?: number;
  logging?: { driver?: string; options?: Record<string, string> };
  ulimits?: { name: string; soft: number; hard: number }[];
  sysctls?: Record<string, string>;
  storageOpt?: Record<string, string>;
}

/** What `POST /containers/create` takes: the query (name, platform) and the body. */
export interface CreateRequest {
  query: { name?: string; platform?: string };
  body: Record<string, unknown>;
}

/** The Engine API create request for `spec`; only the fields the spec sets are sent. */
export function createRequest(spec: ContainerSpec): CreateRequest {
  return {
    query: compact({ name: spec.name, platform: spec.platform }),
    body: createBody(spec),
  };
}

/** The create body (without name and platform, which travel in the query). */
export function createBody(s: ContainerSpec): Record<string, unknown> {
  const ports = s.ports && portMaps(s.ports);
  const exposed = s.expose || ports ? { ...exposedMap(s.expose ?? []), ...ports?.exposed } : undefined;
  const networks = s.networks && Object.keys(s.networks).length > 0 ? s.networks : undefined;
  return compact({
    Image: s.image,
    Cmd: s.command,
    Entrypoint: s.entrypoint,
    Env: s.env,
    Labels: s.labels,
    WorkingDir: s.workingDir,
    User: s.user,
    Hostname: s.hostname,
    Domainname: s.domainname,
    Tty: s.tty,
    OpenStdin: s.stdinOpen,
    ExposedPorts: exposed,
    Volumes: s.volumes?.length ? Object.fromEntries(s.volumes.map((v) => [v, {}])) : undefined,
    MacAddress: s.macAddress,
    StopSignal: s.stopSignal,
    StopTimeout: s.stopTimeout,
    Healthcheck: s.healthcheck && healthcheck(s.healthcheck),
    HostConfig: compact({
      Binds: s.binds,
      PortBindings: ports?.bindings,
      RestartPolicy: s.restart && {
        Name: s.restart.policy,
        ...(s.restart.maxRetries !== undefined && { MaximumRetryCount: s.restart.maxRetries }),
      },
      AutoRemove: s.autoRemove,
      ...(s.resources && resources(s.resources)),
      NetworkMode: s.networkMode,
      Privileged: s.privileged,
      ReadonlyRootfs: s.readOnly,
      CapAdd: s.capAdd,
      CapDrop: s.capDrop,
      Devices: s.devices?.map((d) => ({
        PathOnHost: d.pathOnHost,
        PathInContainer: d.pathInContainer || d.pathOnHost,
        CgroupPermissions: d.permissions || 'rwm',
      })),
      DeviceCgroupRules: s.deviceCgroupRules,
      SecurityOpt: s.securityOpt,
      PidMode: s.pidMode,
      IpcMode: s.ipcMode,
      UTSMode: s.utsMode,
      UsernsMode: s.usernsMode,
      CgroupnsMode: s.cgroupnsMode,
      CgroupParent: s.cgroupParent,
      Mounts: s.mounts?.map(mount),
      Tmpfs: s.tmpfs,
      VolumesFrom: s.volumesFrom,
      Links: s.links,
      Dns: s.dns,
      DnsSearch: s.dnsSearch,
      DnsOptions: s.dnsOptions,
      ExtraHosts: s.extraHosts,
      GroupAdd: s.groupAdd,
      Init: s.init,
      Runtime: s.runtime,
      Isolation: s.isolation,
      LogConfig: s.logging && compact({ Type: s.logging.driver, Config: s.logging.options }),
      Ulimits: s.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
      Sysctls: s.sysctls,
      StorageOpt: s.storageOpt,
      Annotations: s.annotations,
    }),
    NetworkingConfig: networks && {
      EndpointsConfig: Object.fromEntries(Object.entries(networks).map(([n, a]) => [n, endpointConfig(a)])),
    },
  });
}

/** "8000-8010" or "80" as its first and last port. */
const span = (ports: string): [number, number] => {
  const [lo = '', hi = lo] = ports.split('-');
  return [Number(lo), Number(hi)];
};

/**
 * "80/tcp" keys (tcp when no protocol is named), each port's bindings in the order given. A container
 * range is one key per port, as the docker CLI sends it (the engine takes no range there): with a host
 * range of the same length, port by port; with one host port or none, that for each.
 */
function portMaps(ports: PortSpec[]) {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    const [lo, hi] = span(p.container);
    const host = p.hostPort ?? '';
    const [hostLo, hostHi] = span(host);
    const pairwise = hi > lo && host !== '';
    if (pairwise && hostHi - hostLo !== hi - lo)
      throw new ToolError(
        'invalid_argument',
        `ports: host ports '${host}' and container ports '${p.container}' are ranges of different lengths`,
        { hint: 'Give a host range as long as the container range, or no host port.' },
      );
    for (let port = lo; port <= hi; port++) {
      const key = `${port}/${p.protocol ?? 'tcp'}`;
      exposed[key] = {};
      const hostPort = pairwise ? String(hostLo + port - lo) : host;
      bindings[key] = [...(bindings[key] ?? []), { HostIp: p.hostIp ?? '', HostPort: hostPort }];
    }
  }
  return { exposed, bindings };
}

/** "80", "53/udp", "8000-8010/tcp": one key per port. */
const exposedMap = (expose: string[]) =>
  Object.fromEntries(
    expose.flatMap((e) => {
      const [ports = '', protocol = 'tcp'] = e.split('/');
      if (!/^\d+(-\d+)?$/.test(ports)) return [[`${ports}/${protocol}`, {}]];
      const [lo, hi] = span(ports);
      // Outside 1-65535 or backwards: as given, for the engine to refuse (never a huge list).
      if (lo < 1 || hi > 65535 || hi < lo) return [[`${ports}/${protocol}`, {}]];
      return Array.from({ length: hi - lo + 1 }, (_, i) => [`${lo + i}/${protocol}`, {}]);
    }),
  );

function resources(r: ResourceSpec): Record<string, unknown> {
  const rates = (list?: { path: string; rate: number }[]) =>
    list?.map((d) => ({ Path: d.path, Rate: d.rate }));
  return {
    Memory: r.memory,
    MemorySwap: r.memorySwap,
    MemoryReservation: r.memoryReservation,
    MemorySwappiness: r.memorySwappiness,
    CpuShares: r.cpuShares,
    NanoCpus: r.nanoCpus,
    CpuPeriod: r.cpuPeriod,
    CpuQuota: r.cpuQuota,
    CpuRealtimePeriod: r.cpuRealtimePeriod,
    CpuRealtimeRuntime: r.cpuRealtimeRuntime,
    CpusetCpus: r.cpusetCpus,
    CpusetMems: r.cpusetMems,
    PidsLimit: r.pidsLimit,
    BlkioWeight: r.blkioWeight,
    BlkioWeightDevice: r.blkioWeightDevice?.map((d) => ({ Path: d.path, Weight: d.weight })),
    BlkioDeviceReadBps: rates(r.blkioDeviceReadBps),
    BlkioDeviceWriteBps: rates(r.blkioDeviceWriteBps),
    BlkioDeviceReadIOps: rates(r.blkioDeviceReadIOps),
    BlkioDeviceWriteIOps: rates(r.blkioDeviceWriteIOps),
    ShmSize: r.shmSize,
    OomKillDisable: r.oomKillDisable,
    OomScoreAdj: r.oomScoreAdj,
    DeviceRequests: r.deviceRequests?.map((d) =>
      compact({
        Driver: d.driver,
        Count: d.count,
        DeviceIDs: d.deviceIds,
        Capabilities: d.capabilities,
        Options: d.options,
      }),
    ),
  };
}

const healthcheck = (h: HealthcheckSpec) =>
  compact({
    Test: h.test,
    Interval: h.interval,
    Timeout: h.timeout,
    Retries: h.retries,
    StartPeriod: h.startPeriod,
    StartInterval: h.startInterval,
  });

function mount(m: MountSpec): Record<string, unknown> {
  return compact({
    Type: m.type,
    Source: m.source,
    Target: m.target,
    ReadOnly: m.readOnly,
    Consistency: m.consistency,
    BindOptions: m.bind && {
      ...compact({ Propagation: m.bind.propagation, CreateMountpoint: m.bind.createHostPath }),
    },
    VolumeOptions: m.volume && {
      ...compact({
        NoCopy: m.volume.noCopy,
        Subpath: m.volume.subpath,
        Labels: m.volume.labels,
        DriverConfig: m.volume.driver && { Name: m.volume.driver },
      }),
    },
    TmpfsOptions: m.tmpfs && { ...compact({ SizeBytes: m.tmpfs.sizeBytes, Mode: m.tmpfs.mode }) },
  });
}

/** An attachment as the engine's EndpointSettings (create's EndpointsConfig, a network connect). */
export const endpointConfig = (a: NetworkAttachment) =>
  compact({
    Aliases: a.aliases,
    Links: a.links,
    MacAddress: a.macAddress,
    DriverOpts: a.driverOpts,
    GwPriority: a.priority,
    IPAMConfig:
      a.ipv4Address || a.ipv6Address || a.linkLocalIps
        ? compact({ IPv4Address: a.ipv4Address, IPv6Address: a.ipv6Address, LinkLocalIPs: a.linkLocalIps })
        : undefined,
  });

/** Drops undefined fields, and a HostConfig left empty, so the body carries only what was asked. */
function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== undefined && !(k === 'HostConfig' && Object.keys(v as object).length === 0)) out[k] = v;
  return out as T;
}
