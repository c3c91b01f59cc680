import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import {
  addressRefusal,
  composeIpam,
  engineBridges,
  type HostNetwork,
  hostNetworks,
  parseIpv6Routes,
  parseNet,
  parseRoutes,
  withoutEngineBridges,
} from '../../src/docker/policy/addresses.ts';
import { policyGuard } from '../../src/docker/policy/guard.ts';
import { checkNetworkCreate, type RuleContext } from '../../src/docker/policy/rules.ts';
import { withPolicy } from '../../src/docker/policy/scope.ts';
import type { GuardIO } from '../../src/docker/request.ts';
import { checkArgumentPolicy, type PolicySettings } from '../../src/pipeline/policy.ts';

// A host as the audit found it, on a private LAN instead: eth0 10.0.2.15/24, default via 10.0.2.2,
// a route to 10.8.0.0/16 through 10.0.2.9, the engine's docker0 and a network's br-…, IPv6 fd00::/64.
const ROUTES = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	0202000A	0003	0	0	0	00000000	0	0	0
eth0	0002000A	00000000	0001	0	0	0	00FFFFFF	0	0	0
eth0	0000080A	0902000A	0003	0	0	0	0000FFFF	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
br-0123456789ab	0000A8C0	00000000	0001	0	0	0	00F0FFFF	0	0	0
`;
const IPV6_ROUTES = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;
const INTERFACES = {
  lo: [
    { address: '127.0.0.1', cidr: '127.0.0.1/8' },
    { address: '::1', cidr: '::1/128' },
  ],
  eth0: [
    { address: '10.0.2.15', cidr: '10.0.2.15/24' },
    { address: 'fe80::1', cidr: 'fe80::1%eth0/64' },
  ],
  docker0: [{ address: '172.17.0.1', cidr: '172.17.0.1/16' }],
};
/** Every network of the host, the bridges included. */
const ALL = hostNetworks({ interfaces: INTERFACES, routes: ROUTES, ipv6Routes: IPV6_ROUTES });
/** The host as an engine owning docker0 and br-0123456789ab sees it. */
const HOST = withoutEngineBridges(ALL, new Set(['docker0', 'br-0123456789ab']));
const texts = (nets: readonly HostNetwork[]) => nets.map((n) => `${n.text} ${n.on}`);

describe("the host's networks, as the kernel lists them", () => {
  it('reads IPv4 routes and their gateways, leaving out default routes', () => {
    expect(texts(parseRoutes(ROUTES))).toEqual([
      '10.0.2.2 gateway of a route via eth0',
      '10.0.2.0/24 route via eth0',
      '10.8.0.0/16 route via eth0',
      '10.0.2.9 gateway of a route via eth0',
      '172.17.0.0/16 route via docker0',
      '192.168.0.0/20 route via br-0123456789ab',
    ]);
  });

  it("reads a big-endian host's routes in its byte order", () => {
    const be =
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n eth0\t0A000200\t0A000202\t0003\t0\t0\t0\tFFFFFF00\n';
    expect(texts(parseRoutes(be, true))).toEqual([
      '10.0.2.0/24 route via eth0',
      '10.0.2.2 gateway of a route via eth0',
    ]);
  });

  it('reads IPv6 routes and their gateways, leaving out default routes', () => {
    expect(texts(parseIpv6Routes(IPV6_ROUTES))).toEqual([
      'fd00::/64 route via eth0',
      'fd00::1 gateway of a route via eth0',
      '::1/128 route via lo',
    ]);
  });

  it("leaves out the engine's own bridges, and keeps loopback and zones' networks", () => {
    const t = texts(HOST);
    expect(t).toContain('127.0.0.1/8 lo');
    expect(t).toContain('10.0.2.15/24 eth0');
    expect(t).toContain('fe80::1/64 eth0');
    expect(t.some((x) => x.includes('docker0') || x.includes('br-'))).toBe(false);
    // A bridge an engine was told to use (--bridge) counts as its own when the engine names it.
    const dev = hostNetworks({
      interfaces: { mcpdev0: [{ address: '172.31.250.1', cidr: '172.31.250.1/24' }] },
    });
    expect(texts(withoutEngineBridges(dev, new Set()))).toEqual(['172.31.250.1/24 mcpdev0']);
    expect(withoutEngineBridges(dev, new Set(['mcpdev0']))).toEqual([]);
  });

  it("keeps another engine's docker0 and br-… when the engine called owns other bridges", () => {
    const t = texts(withoutEngineBridges(ALL, new Set(['mcpdev0'])));
    expect(t).toContain('172.17.0.1/16 docker0');
    expect(t).toContain('172.17.0.0/16 route via docker0');
    expect(t).toContain('192.168.0.0/20 route via br-0123456789ab');
    // Only this engine's br-… is its own.
    const mine = texts(withoutEngineBridges(ALL, new Set(['docker0'])));
    expect(mine).toContain('192.168.0.0/20 route via br-0123456789ab');
    expect(mine.some((x) => x.includes('docker0'))).toBe(false);
  });

  it("leaves out every bridge named as engines name theirs when no engine's bridges are known (the early check)", () => {
    expect(texts(withoutEngineBridges(ALL, undefined)).some((x) => /docker0|br-/.test(x))).toBe(false);
  });

  it("names an engine's bridges from its network list: the bridge.name option, else br- and the ID", () => {
    const id = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
    expect(
      engineBridges([
        {
          Name: 'bridge',
          Driver: 'bridge',
          Id: 'f'.repeat(64),
          Options: { 'com.docker.network.bridge.name': 'mcpdev0' },
        },
        { Name: 'app', Driver: 'bridge', Id: id, Options: {} },
        { Name: 'host', Driver: 'host', Id: 'a'.repeat(64) },
        { Name: 'ov', Driver: 'overlay', Id: 'b'.repeat(64) },
      ]),
    ).toEqual(new Set(['mcpdev0', 'br-0123456789ab']));
    expect(engineBridges(undefined)).toEqual(new Set());
  });
});

describe('the addresses a network may claim', () => {
  // 'elsewhere': an engine on another host, whose networks this host cannot see.
  const refused = (fields: Record<string, string>, host: readonly HostNetwork[] | 'elsewhere' = HOST) =>
    addressRefusal(
      Object.entries(fields).map(([at, value]) => ({ at, value })),
      host === 'elsewhere' ? undefined : host,
    );

  it("refuses a subnet overlapping the host's LAN, naming the field, the host network and the fix", () => {
    const r = refused({ subnet: '10.0.2.200/30', gateway: '10.0.2.201' });
    expect(r?.message).toBe(
      "subnet: '10.0.2.200/30' is refused: it overlaps this host's network 10.0.2.15/24 (eth0), so the host would send its traffic for those addresses to the new bridge",
    );
    expect(r?.fix).toContain('Pick another private range');
    expect(r?.remote).not.toContain('eth0');
    expect(r?.remote).not.toContain('10.0.2.15');
  });

  it('refuses the audit case: a documentation-range subnet on the LAN of eth0 192.0.2.2/24', () => {
    const lan = hostNetworks({ interfaces: { eth0: [{ address: '192.0.2.2', cidr: '192.0.2.2/24' }] } });
    expect(refused({ subnet: '192.0.2.200/30' }, lan)?.message).toContain(
      "overlaps this host's network 192.0.2.2/24 (eth0)",
    );
  });

  it('refuses a range, gateway or auxiliary address on a host network or route, or a route gateway', () => {
    expect(refused({ ip_range: '10.8.4.0/24' })?.message).toContain('10.8.0.0/16 (route via eth0)');
    expect(refused({ gateway: '10.0.2.2' })?.message).toMatch(/^gateway: '10.0.2.2' is refused/);
    expect(refused({ 'aux_addresses.router': '10.0.2.9' })?.message).toMatch(/^aux_addresses.router:/);
    // A subnet wider than the host's network overlaps it too.
    expect(refused({ subnet: '10.0.0.0/8' })?.message).toContain('overlaps');
    expect(refused({ subnet: '127.0.0.0/24' })?.message).toContain('127.0.0.1/8 (lo)');
    expect(refused({ subnet: 'fd00::/48' })?.message).toContain('route via eth0');
  });

  it("allows a private subnet clear of the host's networks, and engines' own networks' ranges", () => {
    expect(
      refused({ subnet: '10.99.0.0/24', ip_range: '10.99.0.128/25', gateway: '10.99.0.1' }),
    ).toBeUndefined();
    expect(refused({ subnet: '172.17.0.0/16' })).toBeUndefined(); // docker0's: that engine refuses it itself
    expect(refused({ subnet: '192.168.0.0/24' })).toBeUndefined(); // br-…'s
    expect(refused({ subnet: 'fd12:3456:789a::/64' })).toBeUndefined();
  });

  it('refuses public addresses on every engine, and allows private ones on an engine elsewhere', () => {
    for (const subnet of [
      '8.8.8.0/24',
      '100.64.0.0/10',
      '11.0.0.0/8',
      '2001:db8::/64',
      '::ffff:10.0.0.0/104',
    ])
      expect(refused({ subnet }, 'elsewhere')?.message).toContain('is not in a private range');
    // A private range that straddles a public one.
    expect(refused({ subnet: '172.0.0.0/8' }, 'elsewhere')?.message).toContain('is not in a private range');
    expect(refused({ subnet: '10.0.2.0/24' }, 'elsewhere')).toBeUndefined();
  });

  it('refuses what it cannot read as the engine does, as an invalid argument', () => {
    for (const value of ['010.0.2.0/24', '10.0.2/24', 'fe80::1%eth0', '10.0.0.0/33', 'x']) {
      const e = (() => {
        try {
          refused({ subnet: value });
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(ToolError);
      expect((e as ToolError).kind).toBe('invalid_argument');
    }
    expect(parseNet('10.0.2.1')?.bits).toBe(32);
  });
});

describe('the network rule, where checkNetworkCreate is applied', () => {
  const ctx = (allowPrivileged = false, host: readonly HostNetwork[] | 'elsewhere' = HOST) => {
    const lifted: string[] = [];
    const c: RuleContext = {
      allowPrivileged,
      lifted: (m) => lifted.push(m),
      hostPath: (raw) => raw,
      resolve: (raw) => raw,
      hostNetworks: () => (host === 'elsewhere' ? undefined : host),
    };
    return { c, lifted };
  };
  const check = (driver: string | undefined, subnet: string, c: RuleContext) => {
    try {
      checkNetworkCreate(
        { driver, options: undefined, addresses: [{ at: 'subnet', value: subnet }] },
        { driver: 'driver', options: 'options' },
        c,
      );
      return undefined;
    } catch (e) {
      return e as ToolError;
    }
  };

  it("judges every driver but overlay against the host's networks; public addresses on any driver", () => {
    expect(check(undefined, '10.0.2.0/24', ctx().c)?.kind).toBe('policy_denied');
    expect(check('bridge', '10.0.2.0/24', ctx().c)?.hint).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS');
    expect(check('overlay', '10.0.2.0/24', ctx().c)).toBeUndefined();
    expect(check('vendor/bridge-plugin', '10.0.2.0/24', ctx().c)?.kind).toBe('policy_denied');
    expect(check('overlay', '8.8.8.0/24', ctx().c)?.kind).toBe('policy_denied');
    expect(check('bridge', '10.0.2.0/24', ctx(false, 'elsewhere').c)).toBeUndefined();
  });

  it("tells a caller on another host the refusal without this host's networks", () => {
    const e = check('bridge', '10.0.2.0/24', ctx().c);
    expect(e?.message).toContain('10.0.2.15/24 (eth0)');
    expect(e?.remote?.message).toBe(
      "subnet: '10.0.2.0/24' is refused: it overlaps a network of the engine's host",
    );
    expect(e?.remote?.hint).toContain('Pick another private range');
  });

  it('is lifted by the privileged setting, as the bridge options are, and says so', () => {
    const { c, lifted } = ctx(true);
    expect(check('bridge', '10.0.2.0/24', c)).toBeUndefined();
    expect(lifted[0]).toContain("overlaps this host's network");
  });

  const settings: PolicySettings = { allowPrivileged: false, mountAllowlist: [], mountBlocklist: [] };
  const host = { home: '/root', tmpDir: '/tmp', platform: 'linux', networks: () => ALL };
  const notSent = async () => {
    throw new Error('the guard sent a request');
  };
  /** A network create with `body` through the engine-boundary guard: 'sent', or the refusal's message. */
  const createThroughGuard = (io: Pick<GuardIO, 'get'>) => {
    const guard = policyGuard(
      async () => ({ sharesFilesystem: true, socketPaths: [] }),
      () => ({ sharesFilesystem: true, socketPaths: [] }),
    );
    const call = (body: Record<string, unknown>) => ({
      method: 'POST' as const,
      path: '/networks/create',
      query: {},
      body: { Name: 'n', ...body },
      upload: false,
      stream: false,
    });
    return (body: Record<string, unknown>) =>
      withPolicy(settings, host, async () => {
        try {
          await guard(call(body), { ...io, send: notSent });
          return 'sent';
        } catch (e) {
          return e instanceof ToolError ? e.message : String(e);
        }
      });
  };
  const args = (a: Record<string, unknown>, sharesFilesystem = true) => {
    try {
      withPolicy(settings, host, () => checkArgumentPolicy(a, { sharesFilesystem }));
      return undefined;
    } catch (e) {
      return e as ToolError;
    }
  };

  it("refuses a tool's subnet, range or gateway early, naming the argument; an engine elsewhere is not this host", () => {
    expect(args({ name: 'n', subnet: '10.0.2.0/24' })?.message).toMatch(/^subnet: '10.0.2.0\/24' is refused/);
    expect(args({ name: 'n', subnet: '10.99.0.0/16', ip_range: '10.0.2.0/28' })?.message).toMatch(
      /^ip_range:/,
    );
    expect(args({ name: 'n', subnet: '10.99.0.0/16', gateway: '10.99.0.1' })).toBeUndefined();
    expect(args({ name: 'n', subnet: '10.0.2.0/24' }, false)).toBeUndefined();
    expect(args({ name: 'n', subnet: '8.8.8.0/24' }, false)?.kind).toBe('policy_denied');
    expect(args({ name: 'n', driver: 'overlay', subnet: '10.0.2.0/24' })).toBeUndefined();
  });

  it("refuses an Engine API body's IPAM entries and a config-only network's, read as the engine reads keys", async () => {
    const nets: Record<string, unknown> = {
      '/networks/cfg-lan': { Name: 'cfg-lan', IPAM: { Config: [{ Subnet: '10.0.2.0/24' }] } },
      '/networks/cfg-ok': { Name: 'cfg-ok', IPAM: { Config: [{ Subnet: '10.99.0.0/24' }] } },
    };
    const send = createThroughGuard({ get: async <T>(p: string) => nets[p] as T | undefined });
    expect(await send({ IPAM: { Config: [{ Subnet: '10.99.0.0/24' }, { Subnet: '10.8.1.0/24' }] } })).toMatch(
      /^IPAM\.Config\[1\]\.Subnet: '10.8.1.0\/24' is refused/,
    );
    expect(
      await send({ ipam: { config: [{ subnet: '10.99.0.0/24', auxiliaryaddresses: { r: '10.0.2.2' } }] } }),
    ).toMatch(/^IPAM\.Config\[0\]\.AuxiliaryAddresses\.r:/);
    expect(await send({ ConfigFrom: { Network: 'cfg-lan' } })).toMatch(/^ConfigFrom network 'cfg-lan' IPAM/);
    expect(await send({ ConfigFrom: { Network: 'cfg-ok' } })).toBe('sent');
    expect(await send({ IPAM: { Config: [{ Subnet: '10.99.0.0/24', Gateway: '10.99.0.1' }] } })).toBe('sent');
  });

  it("refuses a subnet over another engine's bridge and leaves the engine's own to it, reading its networks only when addresses are named", async () => {
    // This engine owns br-0123456789ab (by ID) and docker0 is another engine's.
    const asked: string[] = [];
    const io = {
      get: async <T>(p: string) => {
        asked.push(p);
        return (
          p === '/networks' ? [{ Driver: 'bridge', Id: `0123456789ab${'0'.repeat(52)}` }] : undefined
        ) as T;
      },
    };
    const send = createThroughGuard(io);
    expect(await send({ IPAM: { Config: [{ Subnet: '172.17.5.0/24' }] } })).toContain(
      "overlaps this host's network 172.17.0.1/16 (docker0)",
    );
    expect(await send({ IPAM: { Config: [{ Subnet: '192.168.5.0/24' }] } })).toBe('sent');
    expect(asked).toEqual(['/networks', '/networks']);
    asked.length = 0;
    expect(await send({ Driver: 'bridge' })).toBe('sent');
    expect(asked).toEqual([]);
    // The arguments' early check asks no engine: it leaves every engine-named bridge to the guard.
    expect(args({ name: 'n', subnet: '172.17.5.0/24' })).toBeUndefined();
  });

  it("names a Compose network's ipam keys", () => {
    const fields = composeIpam(
      {
        ipam: {
          config: [{ subnet: '10.9.0.0/24', ip_range: '10.9.0.0/25', aux_addresses: { h: '10.9.0.5' } }],
        },
      },
      'front',
    );
    expect(fields.filter((f) => f.value !== undefined).map((f) => f.at)).toEqual([
      'network "front" ipam.config[0].subnet',
      'network "front" ipam.config[0].ip_range',
      'network "front" ipam.config[0].aux_addresses.h',
    ]);
    expect(composeIpam({ driver: 'bridge' }, 'x')).toEqual([]);
  });
});
