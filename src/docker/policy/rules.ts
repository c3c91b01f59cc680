/**
 * The container policy as allowlists (Kubernetes Pod Security "baseline", translated to Docker): what
 * a container may add beyond Docker's defaults. Each rule takes a value and the name of the argument
 * it came from, and refuses with that name; the pipeline's argument check and the engine-boundary
 * guard both call them, so the two cannot disagree. Pure.
 */
import { ToolError } from '../../core/errors.ts';
import { type AddressField, addressRefusal, type HostNetwork } from './addresses.ts';
import { field } from './keys.ts';

export const PRIVILEGED_SETTING = 'SAFETY_ALLOW_PRIVILEGED_CONTAINERS';
const PRIVILEGED_HINT = `Set ${PRIVILEGED_SETTING}=true (--allow-privileged) to allow it, if you really mean it.`;

/** What a rule needs: whether the privileged setting lifts escapes, and the host-path rule. */
export interface RuleContext {
  allowPrivileged: boolean;
  /** Told each refusal the privileged setting lifted (logged once per call at warn). */
  lifted(message: string): void;
  /** The host-path rule (paths.ts), bound to this call's policy; returns the resolved path. */
  hostPath(raw: string, arg: string): string;
  /** Where a host path resolves now (lexically on an engine that does not share this filesystem), unjudged. */
  resolve(raw: string): string;
  /**
   * The networks of the engine's host when that is this host (its interfaces and routes), less those
   * on `ownBridges`, the engine's own bridges (without it, every bridge named as engines name theirs:
   * addresses.ts withoutEngineBridges); undefined for an engine elsewhere, whose host's networks this
   * one cannot see.
   */
  hostNetworks(ownBridges?: ReadonlySet<string>): readonly HostNetwork[] | undefined;
}

/**
 * A refusal that SAFETY_ALLOW_PRIVILEGED_CONTAINERS lifts. `fix` is the next step besides the setting;
 * `remote` the message without this host's details, for a caller on another host.
 */
export function refuseEscape(
  ctx: RuleContext,
  message: string,
  more: { fix?: string; remote?: string } = {},
): void {
  if (ctx.allowPrivileged) {
    ctx.lifted(message);
    return;
  }
  const hint = more.fix ? `${more.fix} ${PRIVILEGED_HINT}` : PRIVILEGED_HINT;
  throw new ToolError('policy_denied', message, {
    hint,
    ...(more.remote && { remote: { message: more.remote, hint } }),
  });
}

/** Docker's default capability set: the only ones a container may add. */
export const DEFAULT_CAPS = new Set(
  'CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE'.split(
    ' ',
  ),
);

/** Every Linux capability (capabilities(7), through Linux 6.x), and ALL: any other name is not one. */
const LINUX_CAPS = new Set(
  `ALL CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
  NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
  SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE
  AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ
  PERFMON BPF CHECKPOINT_RESTORE`.split(/\s+/),
);

export const capName = (c: string): string => c.trim().toUpperCase().replace(/^CAP_/, '');

/**
 * A name that is no capability at all is a mistake, not a policy matter: --allow-privileged would
 * only trade the refusal for the engine's.
 */
function notACapability(cap: string, at: string): ToolError {
  return new ToolError('invalid_argument', `${at}: ${JSON.stringify(cap)} is not a Linux capability`, {
    hint: 'Name one as capabilities(7) lists it (`man 7 capabilities`), with or without CAP_, e.g. NET_BIND_SERVICE or CHOWN.',
  });
}

export function checkCapAdd(values: readonly unknown[], arg: string, ctx: RuleContext): void {
  for (const [i, v] of values.entries()) {
    const cap = typeof v === 'string' ? capName(v) : String(v);
    if (!LINUX_CAPS.has(cap)) throw notACapability(cap, `${arg}[${i}]`);
    if (!DEFAULT_CAPS.has(cap))
      refuseEscape(
        ctx,
        `${arg}[${i}]: capability '${cap}' is refused: only Docker's default capabilities may be added (${[...DEFAULT_CAPS].join(', ')})`,
      );
  }
}

/** Settings that only tighten confinement. */
const SAFE_SECURITY_OPT =
  /^(?:no-new-privileges(?:[=:]true)?|apparmor[=:]docker-default|label[=:]level:[\w:,.-]+)$/;

/** The security options the engine knows (its parseSecurityOpts); any other is refused by it as invalid. */
const SECURITY_OPT_KEYS = new Set([
  'no-new-privileges',
  'apparmor',
  'label',
  'seccomp',
  'systempaths',
  'writable-cgroups',
]);

export function checkSecurityOpt(values: readonly unknown[], arg: string, ctx: RuleContext): void {
  for (const [i, v] of values.entries()) {
    const opt = typeof v === 'string' ? v : JSON.stringify(v);
    // Judged trimmed and in any case: a spelling some engine might still read stays a policy matter.
    const key = (/^[^=:]*/.exec(opt)?.[0] ?? '').trim().toLowerCase();
    if (!SECURITY_OPT_KEYS.has(key))
      throw new ToolError(
        'invalid_argument',
        `${arg}[${i}]: ${JSON.stringify(opt.slice(0, 80))} is not a security option the engine knows`,
        {
          hint: `Write key=value with one of ${[...SECURITY_OPT_KEYS].join(', ')}, e.g. no-new-privileges=true.`,
        },
      );
    if (!SAFE_SECURITY_OPT.test(opt))
      refuseEscape(
        ctx,
        `${arg}[${i}]: security option '${opt.slice(0, 80)}' is refused: only no-new-privileges=true, apparmor=docker-default and label=level:… are allowed (custom seccomp or AppArmor profiles, label=type:, label=disable and systempaths=unconfined loosen confinement)`,
      );
  }
}

export type NamespaceKind = 'network' | 'pid' | 'ipc' | 'uts' | 'userns' | 'cgroupns';

/**
 * A namespace mode: 'host' is refused; 'container:NAME' returns NAME, whose configuration the caller
 * must check as it is now (the guard does, against the engine).
 */
export function checkNamespaceMode(
  kind: NamespaceKind,
  value: unknown,
  arg: string,
  ctx: RuleContext,
): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (v.toLowerCase() === 'host')
    refuseEscape(ctx, `${arg}: '${v}' is refused: it shares the host's ${kind} namespace with the container`);
  const joined = /^container:(.+)$/i.exec(v)?.[1];
  return kind === 'network' || kind === 'pid' || kind === 'ipc' ? joined : undefined;
}

export function checkPrivileged(value: unknown, arg: string, ctx: RuleContext): void {
  if (value === true || value === 'true')
    refuseEscape(
      ctx,
      `${arg}: privileged containers are refused: they have every capability and every host device`,
    );
}

export function checkDevices(value: unknown, arg: string, ctx: RuleContext): void {
  if (Array.isArray(value) ? value.length > 0 : value !== undefined && value !== null && value !== '')
    refuseEscape(ctx, `${arg}: host devices are refused: they give a container direct access to the host`);
}

/** Network drivers that attach containers to one of the host's own interfaces. */
const HOST_INTERFACE_DRIVERS = new Set(['macvlan', 'ipvlan']);

/**
 * Driver options known to shape only the network the engine makes. Others are refused: the bridge
 * driver's `com.docker.network.bridge.name` takes over a host bridge of that name (the engine gives it
 * an address, which stays after the network is removed, and puts containers on whatever it links).
 */
const SAFE_NETWORK_OPTIONS = new Map<string, ReadonlySet<string>>([
  [
    'bridge',
    new Set([
      'com.docker.network.bridge.enable_icc',
      'com.docker.network.bridge.enable_ip_masquerade',
      'com.docker.network.bridge.host_binding_ipv4',
      'com.docker.network.bridge.inhibit_ipv4',
      'com.docker.network.bridge.gateway_mode_ipv4',
      'com.docker.network.bridge.gateway_mode_ipv6',
      'com.docker.network.driver.mtu',
      'com.docker.network.container_iface_prefix',
      'com.docker.network.enable_ipv6',
    ]),
  ],
  [
    'overlay',
    new Set([
      'encrypted',
      'com.docker.network.driver.overlay.vxlanid_list',
      'com.docker.network.driver.mtu',
      'com.docker.network.container_iface_prefix',
    ]),
  ],
]);

/**
 * A network to create: drivers that attach to a host interface are refused, the bridge and overlay
 * drivers take only the options above (another driver is the engine administrator's plugin), and its
 * IPAM addresses (`addresses`, each named as the caller wrote it) must be private and, but for an
 * overlay, clear of the networks of this host when its engine is here (addresses.ts). `at` names the driver and the
 * options as the caller wrote them.
 */
export function checkNetworkCreate(
  net: {
    driver: unknown;
    options: unknown;
    addresses?: readonly AddressField[];
    /** The bridges of the engine the network is made on (the guard reads them: addresses.ts engineBridges). */
    engineBridges?: ReadonlySet<string>;
  },
  at: { driver: string; options: string },
  ctx: RuleContext,
): void {
  const d = typeof net.driver === 'string' ? net.driver.trim().toLowerCase() : '';
  if (HOST_INTERFACE_DRIVERS.has(d))
    refuseEscape(
      ctx,
      `${at.driver}: network driver '${d}' is refused: it puts containers on a host interface's own network, beside the host`,
    );
  const addresses = net.addresses?.filter((f) => f.value !== undefined && f.value !== null && f.value !== '');
  if (addresses?.length) {
    // A bridge's subnet (a plugin's, maybe) is a route on the engine's host; an overlay's lives in a namespace of its own.
    const refusal = addressRefusal(
      addresses,
      d === 'overlay' ? undefined : ctx.hostNetworks(net.engineBridges),
    );
    if (refusal) refuseEscape(ctx, refusal.message, refusal);
  }
  const safe = SAFE_NETWORK_OPTIONS.get(d || 'bridge');
  const o = net.options;
  if (!safe || !o || typeof o !== 'object' || Array.isArray(o)) return;
  for (const k of Object.keys(o)) {
    if (safe.has(k) || (o as Record<string, unknown>)[k] === undefined) continue;
    // Driver options are dotted words (com.docker.network.bridge.name): anything else is no option.
    if (!/^[\w.-]+$/.test(k))
      throw new ToolError(
        'invalid_argument',
        `${at.options}: ${JSON.stringify(k.slice(0, 80))} is not a network driver option`,
        {
          hint: `Driver options are dotted names; the ${d || 'bridge'} driver's allowed here: ${[...safe].join(', ')}.`,
        },
      );
    refuseEscape(
      ctx,
      k === 'com.docker.network.bridge.name'
        ? `${at.options}: '${k}' is refused: it names a host bridge, which the engine would take over (an existing one gets an address and the containers)`
        : `${at.options}: ${d || 'bridge'} driver option '${k.slice(0, 80)}' is refused: only ${[...safe].join(', ')} are known to shape only the network made`,
    );
  }
}

/** A network as the engine shows it: enough to tell the host's, or one on a host interface. */
export interface NetworkFacts {
  Id?: string;
  Name?: string;
  Driver?: string;
}

/**
 * A network a container is to join after it is made (a connect): `ref` as the caller named it, `net`
 * what the engine holds under that name or ID (undefined: none, the engine will say so). The host
 * network is refused however it is named; so is one whose driver puts containers on a host interface,
 * as creating it is.
 */
export function checkJoinedNetwork(
  ref: string,
  net: NetworkFacts | undefined,
  arg: string,
  ctx: RuleContext,
): void {
  checkNamespaceMode('network', ref, arg, ctx);
  const driver = net?.Driver?.toLowerCase() ?? '';
  if (driver === 'host' || net?.Name === 'host')
    refuseEscape(
      ctx,
      `${arg}: network '${ref}' is the host network, refused: it shares the host's network namespace with the container`,
    );
  else if (HOST_INTERFACE_DRIVERS.has(driver))
    refuseEscape(
      ctx,
      `${arg}: network '${ref}' (driver ${driver}) is refused: it puts containers on a host interface's own network, beside the host`,
    );
}

/** OCI runtimes that confine a container at least as runc does (gVisor and Kata more). */
const SAFE_RUNTIMES = new Set([
  'runc',
  'io.containerd.runc.v2',
  'crun',
  'runsc',
  'io.containerd.runsc.v1',
  'kata',
  'kata-runtime',
  'io.containerd.kata.v2',
]);

/**
 * A runtime other than those is the engine administrator's (nvidia's gives host GPUs from an
 * environment variable), and a cgroup parent places the container outside the engine's cgroup and
 * the limits set on it.
 */
export function checkRuntimeAndCgroup(
  hc: { runtime: unknown; cgroupParent: unknown },
  at: string,
  ctx: RuleContext,
): void {
  const r = typeof hc.runtime === 'string' ? hc.runtime.trim() : '';
  if (r && !SAFE_RUNTIMES.has(r))
    refuseEscape(
      ctx,
      `${at}.Runtime: runtime '${r}' is refused: only ${[...SAFE_RUNTIMES].join(', ')} are known to confine a container as runc does`,
    );
  if (typeof hc.cgroupParent === 'string' && hc.cgroupParent.trim())
    refuseEscape(
      ctx,
      `${at}.CgroupParent: cgroup parent '${hc.cgroupParent}' is refused: it places the container outside the engine's cgroup and its limits`,
    );
}

/** The filesystem types the local volume driver may mount besides a bind: memory and network filesystems. */
export const SAFE_VOLUME_TYPES = new Set(['tmpfs', 'nfs', 'nfs4', 'cifs', 'smb', 'smb3']);
const DRIVER_KEYS = new Set(['type', 'o', 'device', 'size']);
const BIND_FLAG = /^r?bind$/;

/**
 * Local volume driver options: a memory or network filesystem, or a bind (`o` holding bind/rbind)
 * whose device passes the host-path rule. Anything else mounts a host filesystem or device: refused.
 */
export function checkDriverOpts(opts: unknown, arg: string, ctx: RuleContext): void {
  if (!opts || typeof opts !== 'object' || Array.isArray(opts)) return;
  const o = opts as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  if (keys.length === 0) return;
  // These four are every option the local driver has (the engine refuses any other): a key beyond
  // them is a mistake, not a policy matter.
  for (const k of keys)
    if (!DRIVER_KEYS.has(k))
      throw new ToolError(
        'invalid_argument',
        `${arg}: ${JSON.stringify(k.slice(0, 80))} is not an option of the local volume driver`,
        {
          hint: 'The local driver takes type, o, device and size (e.g. {"type":"tmpfs","device":"tmpfs","o":"size=64m"}).',
        },
      );
  const type = typeof o.type === 'string' ? o.type : '';
  const flags = typeof o.o === 'string' ? o.o.split(',').map((s) => s.trim()) : [];
  const device = typeof o.device === 'string' ? o.device : undefined;
  if (flags.some((f) => f === 'remount'))
    refuseEscape(ctx, `${arg}: mount option 'remount' is refused: it changes an existing host mount`);
  if (flags.some((f) => BIND_FLAG.test(f))) {
    if (device === undefined || !device.trim())
      throw new ToolError('invalid_argument', `${arg}: a bind volume needs a device (the host path)`, {
        hint: 'Set device to an absolute host path under an allowed root.',
      });
    ctx.hostPath(device, `${arg}.device`);
    return;
  }
  if (keys.every((k) => k === 'size')) return; // a size quota only
  if (!SAFE_VOLUME_TYPES.has(type))
    refuseEscape(
      ctx,
      `${arg}: local volume type '${type || '(none)'}'${device ? ` with device '${device.slice(0, 80)}'` : ''} is refused: only tmpfs, nfs, nfs4, cifs, smb and bind volumes (o=bind) are known-safe`,
    );
}

/**
 * A volume mount's own driver options (`VolumeOptions.DriverConfig`, an anonymous volume made for the
 * mount): the local driver's are checked as a volume create's are. `m` is a container's or a
 * service's mount, read as the engine reads keys.
 */
export function checkMountDriver(m: unknown, arg: string, ctx: RuleContext): void {
  const driver = mountDriverConfig(m, arg);
  const name = field(driver, 'Name', `${arg}.VolumeOptions.DriverConfig`);
  if (driver !== null && typeof driver === 'object' && (!name || name === 'local'))
    checkDriverOpts(
      field(driver, 'Options', `${arg}.VolumeOptions.DriverConfig`),
      `${arg}.VolumeOptions.DriverConfig.Options`,
      ctx,
    );
}

/** A mount's `VolumeOptions.DriverConfig` (`arg` names the mount), read as the engine reads keys. */
export const mountDriverConfig = (m: unknown, arg: string): unknown =>
  field(field(m, 'VolumeOptions', arg), 'DriverConfig', `${arg}.VolumeOptions`);

/** The host path a local volume's options bind (`o` holding bind or rbind), if they bind one. */
export function bindVolumeDevice(opts: unknown): string | undefined {
  if (!opts || typeof opts !== 'object' || Array.isArray(opts)) return undefined;
  const o = opts as Record<string, unknown>;
  const flags = typeof o.o === 'string' ? o.o.split(',').map((s) => s.trim()) : [];
  return flags.some((f) => BIND_FLAG.test(f)) && typeof o.device === 'string' && o.device.trim()
    ? o.device
    : undefined;
}

/**
 * The host source of a bind entry, or undefined for a named or anonymous volume: a
 * "src:dst[:mode]" string, or a { Type|type, Source|source } object of type bind.
 */
export function bindSource(entry: unknown): string | undefined {
  if (typeof entry === 'string') {
    const from = /^[a-zA-Z]:[\\/]/.test(entry) ? 2 : 0;
    const colon = entry.indexOf(':', from);
    const src = colon > 0 ? entry.slice(0, colon) : undefined;
    return src && /^[/\\~.]|^[a-zA-Z]:/.test(src) ? src : undefined;
  }
  return undefined;
}

/** The named volume of a "name:dst" bind entry. */
export function bindVolumeName(entry: unknown): string | undefined {
  if (typeof entry !== 'string') return undefined;
  const colon = entry.indexOf(':');
  if (colon <= 0) return undefined;
  const name = entry.slice(0, colon);
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) ? name : undefined;
}
