/** debug_networking: why a container cannot reach, or be reached by, something. */

import type { ContentContext } from '../core/content.ts';
import { fenceText } from '../core/fence.ts';
import { recentLogLines } from '../docker/logs.ts';
import { nameOf } from '../docker/names.ts';
import { inspectNetwork } from '../docker/resolve.ts';
import { definePrompt } from './define.ts';
import {
  header,
  type Info,
  networkMode,
  networkName,
  one,
  portsLine,
  stateLine,
  UNTRUSTED_NOTE,
} from './facts.ts';

/** Log lines that usually mean a network problem. */
const NETWORK_ERROR =
  /refused|timed? ?out|timeout|unreachable|no route|resolv|name or service|nxdomain|getaddrinfo|dns|ECONN|EHOSTUNREACH|ENOTFOUND|reset by peer|broken pipe|tls|certificate|handshake|bind|address already in use|connect/i;
const SCAN_LINES = 200;
const SHOW_LINES = 30;

async function networkFacts(
  info: Info,
  { engine: { docker }, signal, logFilter }: ContentContext,
): Promise<string[]> {
  const out: string[] = [];
  for (const [name, ep] of Object.entries(info.NetworkSettings?.Networks ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    let detail = '';
    try {
      const net = await inspectNetwork(docker, ep.NetworkID || name, signal);
      const ipam = (net.IPAM?.Config ?? []) as { Subnet?: string; Gateway?: string }[];
      const peers = Object.values((net.Containers ?? {}) as Record<string, { Name: string }>)
        .map((c) => c.Name)
        .filter((n) => n !== nameOf(info))
        .sort();
      detail =
        ` driver ${net.Driver}, scope ${net.Scope}${net.Internal ? ', internal (no outside access)' : ''}` +
        `${ipam.length ? `, subnet ${ipam.map((c) => `${c.Subnet ?? '?'} gw ${c.Gateway ?? '?'}`).join('; ')}` : ''}` +
        `, ${peers.length} other container(s)${peers.length ? `: ${peers.slice(0, 10).join(', ')}${peers.length > 10 ? ', …' : ''}` : ''}`;
    } catch {
      detail = ' (network no longer inspectable)';
    }
    const aliases = (ep.Aliases ?? []).filter((a: string) => !info.Id.startsWith(a));
    out.push(
      `- ${networkName(name, logFilter)}: ip ${ep.IPAddress || 'none'}${ep.Gateway ? `, gateway ${ep.Gateway}` : ''}` +
        `${aliases.length ? `, aliases ${aliases.join(', ')}` : ''};${detail}`,
    );
  }
  return out.length ? out : ['- none'];
}

export const debugNetworking = definePrompt({
  name: 'debug_networking',
  title: 'Debug container networking',
  description: "Diagnose a container's connectivity: networks, DNS, ports and network errors in its logs.",
  arguments: [{ name: 'container_id', description: 'Name or ID', required: true, complete: 'container' }],
  async build({ container_id }, ctx) {
    const info = await one(container_id, ctx);
    const hc = info.HostConfig;
    const exposed = Object.keys(info.Config.ExposedPorts ?? {});
    const lines = await recentLogLines(
      ctx.engine.docker,
      ctx.engine.info(),
      info,
      Math.min(SCAN_LINES, ctx.limits.maxLogLines),
      ctx.limits.maxResponseBytes,
      ctx.signal,
    );
    const errors = lines.filter((l) => NETWORK_ERROR.test(l)).slice(-SHOW_LINES);
    const shown = errors.length ? errors : lines.slice(-10);
    const source = `logs of container ${nameOf(info)}`;
    return [
      `Debug the networking of the Docker container ${header(info)}.`,
      '',
      `State: ${stateLine(info)}`,
      `Network mode: ${networkMode(info, ctx.logFilter)}; hostname ${info.Config.Hostname}${info.Config.Domainname ? `.${info.Config.Domainname}` : ''}`,
      'Networks:',
      ...(await networkFacts(info, ctx)),
      `Published ports: ${portsLine(info)}`,
      `Exposed by the image: ${exposed.length ? exposed.join(', ') : 'none'}`,
      `DNS servers: ${hc.Dns?.length ? hc.Dns.join(', ') : 'engine default'}; search ${hc.DnsSearch?.length ? hc.DnsSearch.join(', ') : 'default'}; options ${hc.DnsOptions?.length ? hc.DnsOptions.join(', ') : 'default'}`,
      `Extra hosts: ${hc.ExtraHosts?.length ? hc.ExtraHosts.join(', ') : 'none'}`,
      ...(hc.Links?.length ? [`Legacy links: ${hc.Links.join(', ')}`] : []),
      '',
      shown.length === 0
        ? 'Recent logs: (none)'
        : `${errors.length ? `Log lines that look like network errors (newest ${errors.length} of the last ${lines.length})` : `No network-looking errors in the last ${lines.length} log lines; the newest ${shown.length}`}:\n${fenceText(shown.join('\n'), source, ctx.logFilter)}`,
      '',
      UNTRUSTED_NOTE,
      '',
      'Work out why connections to or from this container fail (or would fail): name resolution, ' +
        'network membership (containers must share a user-defined network to reach each other by name), ' +
        'ports published on the wrong address or not at all, internal networks, a service listening on ' +
        '127.0.0.1 inside the container. List the checks that would confirm each hypothesis (e.g. ' +
        'docker_exec_command running nslookup or wget, docker_inspect_network) and the fix for each.',
    ].join('\n');
  },
});
