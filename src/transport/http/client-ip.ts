/**
 * Who is on the other end: the socket peer, or — only when that peer is a trusted proxy — the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy (entries left of it are
 * whatever the client chose to send). Then the allowlist: an empty list allows every address.
 */
import ipaddr from 'ipaddr.js';
import { StartupError } from './tls.ts';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;
export type Cidr = readonly [Addr, number];

/** An address in canonical form: IPv4-mapped IPv6 (`::ffff:10.0.0.1`) becomes IPv4. */
export function parseIp(text: string): Addr | undefined {
  const bare = text.trim().replace(/^\[(.*)\]$/, '$1');
  // isValid alone admits legacy forms (`0x7f.1`, `127.1`) no proxy writes; require the usual ones.
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (!bare.includes(':') || !ipaddr.IPv6.isValid(bare.replace(/%.*$/, ''))) return undefined;
  return ipaddr.process(bare.replace(/%.*$/, ''));
}

/** One allowlist/proxy entry: an address (a host route) or a CIDR. */
export function parseCidr(entry: string): Cidr | undefined {
  const [ip, bits, extra] = entry.trim().split('/');
  if (extra !== undefined || ip === undefined) return undefined;
  const addr = parseIp(ip);
  if (!addr) return undefined;
  const mappedV4 = addr.kind() === 'ipv4' && ip.includes(':');
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  if (bits === undefined) return [addr, max];
  if (!/^\d{1,3}$/.test(bits)) return undefined;
  // A mapped range (`::ffff:10.0.0.0/104`) keeps its meaning as the IPv4 range it covers.
  const n = Number(bits) - (mappedV4 ? 96 : 0);
  return n >= 0 && n <= max ? [addr, n] : undefined;
}

/** Parses a configured list; a bad entry stops start-up, naming the setting and the entry. */
export function parseCidrList(entries: readonly string[], setting: string): Cidr[] {
  return entries.map((entry) => {
    const cidr = parseCidr(entry);
    if (!cidr)
      throw new StartupError(
        `${setting}: '${entry}' is not an IP address or CIDR (examples: 10.0.0.0/8, 192.168.1.7, fd00::/8)`,
      );
    return cidr;
  });
}

export function inRanges(addr: Addr, ranges: readonly Cidr[]): boolean {
  return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

/**
 * The client's address as text. `peer` is the socket's remote address (undefined when unknown, as in
 * in-process tests); X-Forwarded-For counts only when the peer is a trusted proxy.
 */
export function clientIp(
  peer: string | undefined,
  forwardedFor: string | null,
  trustedProxies: readonly Cidr[],
): string | undefined {
  const peerAddr = peer === undefined ? undefined : parseIp(peer);
  if (!peerAddr) return peer;
  if (!forwardedFor || trustedProxies.length === 0 || !inRanges(peerAddr, trustedProxies))
    return peerAddr.toString();
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseIp(hops[i] as string);
    // An unreadable entry ends the chain of trust: the last proxy we trust vouches for no more.
    if (!hop) break;
    if (!inRanges(hop, trustedProxies)) return hop.toString();
  }
  // Every readable hop was a proxy of ours (or the chain broke): the peer is the honest answer.
  return peerAddr.toString();
}

export type IpDecision = { allowed: true } | { allowed: false; reason: string };

export function checkClientIp(ip: string | undefined, allowed: readonly Cidr[]): IpDecision {
  if (allowed.length === 0) return { allowed: true };
  const addr = ip === undefined ? undefined : parseIp(ip);
  if (addr && inRanges(addr, allowed)) return { allowed: true };
  return {
    allowed: false,
    reason: "your address is not on this server's client allowlist; ask its operator to add it",
  };
}
