/**
 * The addresses a network to create may claim (its IPAM subnets, ranges, gateways and auxiliary
 * addresses). A bridge network's subnet becomes a route on the engine's host: one that overlaps the
 * host's own networks sends the host's traffic for those addresses to the bridge, where a container
 * can answer in place of a LAN host or the host's gateway. So every address must lie in a private
 * range (RFC 1918, or IPv6 unique local), whatever the engine; and a network on this host's engine
 * (any driver but overlay, whose subnet lives in a namespace of its own) must overlap none of this
 * host's interface networks, routes or route gateways. The routes of the bridges of the engine the
 * network is made on are that engine's own networks, which it refuses to overlap; another engine's
 * bridges (a host may run several) are host networks like any other. Pure apart from readHostNetworks.
 */
import type ipaddrModule from 'ipaddr.js';
import { ToolError } from '../../core/errors.ts';
import { nodeFs, nodeOs } from '../../core/node-builtins.ts';

type Addr = ipaddrModule.IPv4 | ipaddrModule.IPv6;
// Loaded when a network first names an address: a session that makes none never loads it.
const ipaddr = (): typeof ipaddrModule => require('ipaddr.js');

/** A network as a base address and prefix length; `text` as written or read. */
export interface Net {
  addr: Addr;
  bits: number;
  text: string;
}

/** One of this host's networks: an interface's, a route's, or a route's gateway (a single address). */
export interface HostNetwork extends Net {
  /** Where it was found, for the refusal: 'eth0', 'route via eth0', 'gateway of eth0's route'. */
  on: string;
}

/** An address field of a network to create, named as the caller wrote it. */
export interface AddressField {
  at: string;
  value: unknown;
}

const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];
const PRIVATE_TEXT = '10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fc00::/7';
/** The names of bridges engines make: the arguments' early check, which asks no engine, leaves these to the guard. */
const ENGINE_BRIDGE = /^(?:docker0|docker_gwbridge|br-[0-9a-f]{12})$/;

/**
 * An address or CIDR in the one spelling the engine and we read alike: IPv4 as four decimal parts
 * without leading zeros (older engines read "010" as 10, ipaddr.js as 8), IPv6 without a zone.
 * A bare address is a network of one. Undefined when unreadable.
 */
export function parseNet(text: string): Net | undefined {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const [, host = '', prefix] = m;
  const lib = ipaddr();
  let addr: Addr;
  if (lib.IPv4.isValidFourPartDecimal(host)) addr = lib.IPv4.parse(host);
  else if (host.includes(':') && !host.includes('%') && lib.IPv6.isValid(host)) addr = lib.IPv6.parse(host);
  else return undefined;
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  const bits = prefix === undefined ? max : Number(prefix);
  return bits <= max ? { addr, bits, text: text.trim() } : undefined;
}

/** Whether two networks share an address. */
export const overlaps = (a: Net, b: Net): boolean =>
  a.addr.kind() === b.addr.kind() && a.addr.match(b.addr, Math.min(a.bits, b.bits));

let privateNets: Net[] | undefined;
/** Whether every address of `n` is private (RFC 1918 or IPv6 unique local). */
export function isPrivate(n: Net): boolean {
  privateNets ??= PRIVATE_RANGES.map((r) => parseNet(r) as Net);
  return privateNets.some((p) => p.addr.kind() === n.addr.kind() && n.bits >= p.bits && overlaps(n, p));
}

/** The address a /proc/net/route field holds (hex, in the host's byte order). */
const procV4 = (hex: string, bigEndian: boolean): string =>
  (bigEndian ? [0, 2, 4, 6] : [6, 4, 2, 0]).map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join('.');
const procV6 = (hex: string): string => (hex.match(/.{4}/g) ?? []).join(':');
const popcount = (n: number): number => n.toString(2).replace(/0/g, '').length;

/** A host network named in its short form (the kernel writes IPv6 in full). */
function hostNet(text: string, on: string): HostNetwork | undefined {
  const n = parseNet(text);
  return n && { ...n, text: `${n.addr.toString()}${text.includes('/') ? `/${n.bits}` : ''}`, on };
}

/**
 * The IPv4 routes of /proc/net/route (the main table) and their gateways. Default routes are left
 * out: every address is under them.
 */
export function parseRoutes(text: string, bigEndian = false): HostNetwork[] {
  const out: HostNetwork[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [dev, dest, gw, , , , , mask] = line.trim().split(/\s+/);
    if (!dev || ![dest, gw, mask].every((h) => h && /^[0-9a-f]{8}$/i.test(h))) continue;
    const bits = popcount(Number.parseInt(mask as string, 16));
    const route = bits > 0 && hostNet(`${procV4(dest as string, bigEndian)}/${bits}`, `route via ${dev}`);
    if (route) out.push(route);
    const via =
      gw !== '00000000' && hostNet(procV4(gw as string, bigEndian), `gateway of a route via ${dev}`);
    if (via) out.push(via);
  }
  return out;
}

/** The IPv6 routes of /proc/net/ipv6_route and their gateways, default routes left out. */
export function parseIpv6Routes(text: string): HostNetwork[] {
  const out: HostNetwork[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const [dest, plen, , , gw] = f;
    const dev = f[9];
    if (!dev || !dest || !plen || !gw || !/^[0-9a-f]{32}$/i.test(dest) || !/^[0-9a-f]{32}$/i.test(gw))
      continue;
    const bits = Number.parseInt(plen, 16);
    const route = bits > 0 && hostNet(`${procV6(dest)}/${bits}`, `route via ${dev}`);
    if (route) out.push(route);
    const via = /[1-9a-f]/i.test(gw) && hostNet(procV6(gw), `gateway of a route via ${dev}`);
    if (via) out.push(via);
  }
  return out;
}

/** The networks of this host's interfaces, as os.networkInterfaces() lists them. */
export function interfaceNetworks(
  ifaces: Record<string, readonly { cidr?: string | null; address: string }[] | undefined>,
): HostNetwork[] {
  const out: HostNetwork[] = [];
  for (const [dev, addrs] of Object.entries(ifaces))
    for (const a of addrs ?? []) {
      const n = hostNet((a.cidr ?? a.address).replace(/%[^/]*/, ''), dev);
      if (n) out.push(n);
    }
  return out;
}

/** This host's networks: interfaces, routes, route gateways. */
export function hostNetworks(sources: {
  interfaces: Parameters<typeof interfaceNetworks>[0];
  routes?: string;
  ipv6Routes?: string;
  bigEndian?: boolean;
}): HostNetwork[] {
  return [
    ...interfaceNetworks(sources.interfaces),
    ...(sources.routes ? parseRoutes(sources.routes, sources.bigEndian) : []),
    ...(sources.ipv6Routes ? parseIpv6Routes(sources.ipv6Routes) : []),
  ];
}

/**
 * The host's networks less those on the engine's own bridges (`own`, from engineBridges). Without
 * `own` (the arguments' early check, which asks no engine) every bridge named as engines name theirs
 * is left out: the guard judges the request again with the engine's own bridges.
 */
export function withoutEngineBridges(
  nets: readonly HostNetwork[],
  own: ReadonlySet<string> | undefined,
): HostNetwork[] {
  const skip = (dev: string) => (own ? own.has(dev) : ENGINE_BRIDGE.test(dev));
  return nets.filter((n) => !skip(n.on.split(' ').pop() as string));
}

const BRIDGE_NAME = 'com.docker.network.bridge.name';
/**
 * The host bridges of an engine's networks, from its GET /networks: a bridge network's is named by
 * its bridge.name option (the default network's: docker0, or dockerd --bridge), else br- and the
 * first 12 hex of its ID, as the bridge driver names it. Empty when the list is unreadable.
 */
export function engineBridges(networks: unknown): Set<string> {
  const out = new Set<string>();
  if (!Array.isArray(networks)) return out;
  for (const n of networks) {
    if (!n || typeof n !== 'object' || (n as { Driver?: unknown }).Driver !== 'bridge') continue;
    const { Id, Options } = n as { Id?: unknown; Options?: unknown };
    const named =
      Options && typeof Options === 'object' ? (Options as Record<string, unknown>)[BRIDGE_NAME] : undefined;
    if (typeof named === 'string' && named) out.add(named);
    else if (typeof Id === 'string' && /^[0-9a-f]{12}/.test(Id)) out.add(`br-${Id.slice(0, 12)}`);
  }
  return out;
}

/** This host's networks now, read from the kernel (a source that cannot be read is left out). */
export function readHostNetworks(): HostNetwork[] {
  const read = (path: string) => {
    try {
      return nodeFs().readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  let interfaces: Parameters<typeof interfaceNetworks>[0] = {};
  try {
    interfaces = nodeOs().networkInterfaces();
  } catch {
    // none readable: the routes still say where the host's networks are
  }
  return hostNetworks({
    interfaces,
    routes: read('/proc/net/route'),
    ipv6Routes: read('/proc/net/ipv6_route'),
    bigEndian: nodeOs().endianness() === 'BE',
  });
}

/** A refusal of an address field: what it claims, why, and what to pick instead. */
export interface AddressRefusal {
  message: string;
  /** The same without this host's networks, for a caller on another host. */
  remote: string;
  fix: string;
}

const FIX = `Pick another private range (${PRIVATE_TEXT}) that none of the host's networks uses, or leave the subnet out and let the engine pick one.`;

/**
 * The first refusal among a network's address fields, or undefined when all may be used. `host` is
 * the engine host's networks when the network is made on this host (undefined otherwise: this
 * host's routes say nothing of another's). A value that is not an address is refused as invalid.
 */
export function addressRefusal(
  fields: readonly AddressField[],
  host: readonly HostNetwork[] | undefined,
): AddressRefusal | undefined {
  for (const { at, value } of fields) {
    if (value === undefined || value === null || value === '') continue;
    const n = typeof value === 'string' ? parseNet(value) : undefined;
    if (!n)
      throw new ToolError(
        'invalid_argument',
        `invalid argument '${at}': '${String(value).slice(0, 80)}' is not an IPv4 or IPv6 address or CIDR`,
        {
          hint: 'Write it as 10.20.0.0/24 (an address as 10.20.0.1); IPv4 parts in decimal without leading zeros.',
        },
      );
    const hit = host?.find((h) => overlaps(n, h));
    if (hit)
      return {
        message: `${at}: '${n.text}' is refused: it overlaps this host's network ${hit.text} (${hit.on}), so the host would send its traffic for those addresses to the new bridge`,
        remote: `${at}: '${n.text}' is refused: it overlaps a network of the engine's host`,
        fix: FIX,
      };
    if (!isPrivate(n))
      return {
        message: `${at}: '${n.text}' is refused: it is not in a private range (${PRIVATE_TEXT}), so the engine's host would route those public addresses to the network's containers`,
        remote: `${at}: '${n.text}' is refused: it is not in a private range (${PRIVATE_TEXT})`,
        fix: FIX,
      };
  }
  return undefined;
}

/**
 * The address fields of IPAM config entries, read with `read` (the engine's key folding for a raw
 * body, plain keys for Compose) and named under `at` with the spelling the caller used.
 */
export function ipamFields(
  configs: unknown,
  at: string,
  keys: { subnet: string; ipRange: string; gateway: string; aux: string },
  read: (o: unknown, key: string, at: string) => unknown,
): AddressField[] {
  if (!Array.isArray(configs)) return [];
  const out: AddressField[] = [];
  for (const [i, c] of configs.entries()) {
    const here = `${at}[${i}]`;
    for (const key of [keys.subnet, keys.ipRange, keys.gateway])
      out.push({ at: `${here}.${key}`, value: read(c, key, here) });
    const aux = read(c, keys.aux, here);
    if (aux && typeof aux === 'object' && !Array.isArray(aux))
      for (const [name, v] of Object.entries(aux)) out.push({ at: `${here}.${keys.aux}.${name}`, value: v });
  }
  return out;
}

const plain = (o: unknown, k: string): unknown =>
  o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>)[k] : undefined;

/** The address fields of a Compose network definition's `ipam.config`, named by their Compose keys. */
export const composeIpam = (def: unknown, key: string): AddressField[] =>
  ipamFields(
    plain(plain(def, 'ipam'), 'config'),
    `network "${key}" ipam.config`,
    { subnet: 'subnet', ipRange: 'ip_range', gateway: 'gateway', aux: 'aux_addresses' },
    plain,
  );
