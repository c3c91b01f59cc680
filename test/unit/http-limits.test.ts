/**
 * Pure decisions behind the HTTP abuse guards: whose address a request comes from (CIDR, trusted
 * proxies, X-Forwarded-For), the allowlist, token-bucket math, the limiter's refusals and its
 * memory bound.
 */
import { describe, expect, it } from 'bun:test';
import { checkClientIp, clientIp, parseCidr, parseCidrList } from '../../src/transport/http/client-ip.ts';
import {
  BoundedMap,
  countToolCalls,
  Limiter,
  requestsPerMinute,
  retryAfterSeconds,
  takeTokens,
  tooMany,
} from '../../src/transport/http/rate-limit.ts';

describe('client address', () => {
  const proxies = parseCidrList(['10.0.0.0/8', '::1'], 'trustedProxies');

  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientIp('203.0.113.9', '1.2.3.4', [])).toBe('203.0.113.9');
  });

  it('is the socket peer when the peer is not a trusted proxy', () => {
    expect(clientIp('203.0.113.9', '1.2.3.4', proxies)).toBe('203.0.113.9');
  });

  it('is the right-most X-Forwarded-For entry that is not a trusted proxy', () => {
    // The client forged "6.6.6.6"; 198.51.100.7 is who reached our first proxy.
    expect(clientIp('10.1.1.1', '6.6.6.6, 198.51.100.7, 10.2.2.2', proxies)).toBe('198.51.100.7');
  });

  it('normalises IPv4-mapped IPv6 peers and entries to IPv4', () => {
    expect(clientIp('::ffff:10.1.1.1', '::ffff:198.51.100.7', proxies)).toBe('198.51.100.7');
    expect(clientIp('::ffff:127.0.0.1', null, [])).toBe('127.0.0.1');
  });

  it('stops believing the chain at an unreadable entry', () => {
    expect(clientIp('10.1.1.1', '198.51.100.7, not-an-ip, 10.2.2.2', proxies)).toBe('10.1.1.1');
  });

  it('is the peer when every forwarded hop is a trusted proxy', () => {
    expect(clientIp('10.1.1.1', '10.3.3.3', proxies)).toBe('10.1.1.1');
  });

  it('is undefined when the peer is unknown (in-process requests)', () => {
    expect(clientIp(undefined, '1.2.3.4', proxies)).toBeUndefined();
  });
});

describe('CIDR entries', () => {
  it('reads addresses as host routes and CIDRs of both families', () => {
    expect(parseCidr('192.168.1.7')?.[1]).toBe(32);
    expect(parseCidr('10.0.0.0/8')?.[1]).toBe(8);
    expect(parseCidr('fd00::/8')?.[1]).toBe(8);
    expect(parseCidr('[::1]')?.[1]).toBe(128);
  });

  it('reads an IPv4-mapped range as the IPv4 range it covers', () => {
    const cidr = parseCidr('::ffff:10.0.0.0/104');
    expect(cidr?.[0].kind()).toBe('ipv4');
    expect(cidr?.[1]).toBe(8);
  });

  it('refuses malformed entries and names the setting and entry at start-up', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/8/1', 'example.com', '127.1', '10.0.0.0/x', ''])
      expect(parseCidr(bad)).toBeUndefined();
    expect(() => parseCidrList(['10.0.0.0/8', '10.0.0.0/33'], 'allowedClientIps')).toThrow(
      "allowedClientIps: '10.0.0.0/33' is not an IP address or CIDR",
    );
  });
});

describe('client allowlist', () => {
  const allowed = parseCidrList(['10.0.0.0/8', '2001:db8::/32'], 'allowedClientIps');

  it('allows every address when empty', () => {
    expect(checkClientIp('203.0.113.9', []).allowed).toBe(true);
    expect(checkClientIp(undefined, []).allowed).toBe(true);
  });

  it('allows addresses inside a listed range, either family', () => {
    expect(checkClientIp('10.20.30.40', allowed).allowed).toBe(true);
    expect(checkClientIp('2001:db8::5', allowed).allowed).toBe(true);
    expect(checkClientIp('::ffff:10.0.0.1', allowed).allowed).toBe(true);
  });

  it('refuses loopback when only 10.0.0.0/8 is allowed, and an unknown address', () => {
    expect(checkClientIp('127.0.0.1', allowed).allowed).toBe(false);
    expect(checkClientIp(undefined, allowed).allowed).toBe(false);
  });
});

describe('token bucket', () => {
  const perMs = 60 / 60_000; // 60 a minute

  it('starts full, then refuses with the exact wait for the next token', () => {
    let b = takeTokens(undefined, 0, 60, perMs);
    for (let i = 1; i < 60; i++) b = takeTokens(b.bucket, 0, 60, perMs);
    expect(b.ok).toBe(true);
    const refused = takeTokens(b.bucket, 0, 60, perMs);
    expect(refused.ok).toBe(false);
    expect(refused.waitMs).toBeCloseTo(1000);
    expect(takeTokens(refused.bucket, 1000, 60, perMs).ok).toBe(true);
  });

  it('never holds more than its capacity after a long pause', () => {
    const b = takeTokens({ tokens: 0, at: 0 }, 3_600_000, 60, perMs);
    expect(b.bucket.tokens).toBe(59);
  });

  it('rounds Retry-After up to whole seconds and never to 0', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
  });
});

describe('limiter', () => {
  const make = (o: Partial<ConstructorParameters<typeof Limiter>[0]> = {}) => {
    const clock = { t: 1_000_000 };
    const limiter = new Limiter(
      { enabled: true, rpm: 3, concurrent: 2, authFailuresPerMinute: 3, ...o },
      () => clock.t,
    );
    return { limiter, clock };
  };

  it('refuses the fourth tool call in a minute at 3 rpm, naming the limit and when to retry', () => {
    const { limiter } = make({ concurrent: 10 });
    for (let i = 0; i < 3; i++) {
      const d = limiter.admit('agent', 1);
      expect(d.ok).toBe(true);
      if (d.ticket) limiter.settle('agent', d.ticket);
    }
    const d = limiter.admit('agent', 1);
    expect(d).toMatchObject({ ok: false, limit: 'tool_calls_per_minute', retryAfterSeconds: 20 });
  });

  it('does not spend the tool-call budget on other requests', () => {
    const { limiter } = make();
    for (let i = 0; i < 50; i++) expect(limiter.admit('agent', 0).ok).toBe(true);
    expect(limiter.admit('agent', 1).ok).toBe(true);
  });

  it('bounds other requests by their own generous per-minute bucket', () => {
    const { limiter } = make();
    const n = requestsPerMinute(3);
    for (let i = 0; i < n; i++) limiter.admit('agent', 0);
    expect(limiter.admit('agent', 0)).toMatchObject({ ok: false, limit: 'requests_per_minute' });
  });

  it('keeps clients apart', () => {
    const { limiter } = make({ rpm: 1 });
    expect(limiter.admit('a', 1).ok).toBe(true);
    expect(limiter.admit('a', 1).ok).toBe(false);
    expect(limiter.admit('b', 1).ok).toBe(true);
  });

  it('refuses a call while the client already runs its limit, and admits again when one ends', () => {
    const { limiter } = make({ rpm: 100 });
    const ends = [0, 1].map(() => {
      const d = limiter.admit('agent', 1);
      expect(d.ok).toBe(true);
      const end = limiter.callStarted('agent');
      if (d.ticket) limiter.settle('agent', d.ticket);
      return end;
    });
    expect(limiter.admit('agent', 1)).toMatchObject({ ok: false, limit: 'concurrent_calls' });
    ends[0]?.();
    ends[0]?.(); // ending twice frees one slot, not two
    expect(limiter.admit('agent', 1).ok).toBe(true);
    expect(limiter.admit('agent', 1).ok).toBe(false);
  });

  it('counts an admitted call that has not started yet against the concurrency limit', () => {
    const { limiter } = make({ rpm: 100, concurrent: 1 });
    const first = limiter.admit('agent', 1);
    expect(first.ok).toBe(true);
    expect(limiter.admit('agent', 1)).toMatchObject({ ok: false, limit: 'concurrent_calls' });
    if (first.ticket) limiter.settle('agent', first.ticket); // answered without running (an unknown tool)
    expect(limiter.admit('agent', 1).ok).toBe(true);
  });

  it('counts a call once when it starts before its request is answered', () => {
    const { limiter } = make({ rpm: 100, concurrent: 2 });
    const d = limiter.admit('agent', 1);
    const end = limiter.callStarted('agent'); // the call runs while its answer streams
    expect(limiter.admit('agent', 1).ok).toBe(true); // 1 running + 0 pending: room for one more
    if (d.ticket) limiter.settle('agent', d.ticket);
    expect(limiter.admit('agent', 1)).toMatchObject({ ok: false, limit: 'concurrent_calls' });
    end();
  });

  it('turns off per-client limits when disabled, but never the failed-auth lockout', () => {
    const { limiter } = make({ enabled: false, rpm: 1, authFailuresPerMinute: 1 });
    for (let i = 0; i < 5; i++) expect(limiter.admit('agent', 1).ok).toBe(true);
    limiter.noteAuthFailure('203.0.113.9');
    expect(limiter.checkAuthLockout('203.0.113.9').ok).toBe(false);
  });

  it('caps open event streams per client and frees a slot once when a stream ends', () => {
    const { limiter } = make({ streams: 2 });
    const a = limiter.openStream('agent');
    const b = limiter.openStream('agent');
    expect(limiter.openStream('agent')).toMatchObject({ ok: false, limit: 'open_streams' });
    expect(limiter.openStream('other').ok).toBe(true);
    a.release?.();
    a.release?.();
    expect(limiter.openStream('agent').ok).toBe(true);
    expect(limiter.openStream('agent').ok).toBe(false);
    b.release?.();
  });

  it('caps the body bytes one client has in flight at (concurrent calls + 2) bodies, before any is read', () => {
    const { limiter } = make({ concurrent: 2, maxBodyBytes: 1000 });
    const big = limiter.openPost('agent', 3000);
    const small = Array.from({ length: 10 }, () => limiter.openPost('agent', 100));
    expect([big, ...small].every((d) => d.ok)).toBe(true);
    expect(limiter.openPost('agent', 1)).toMatchObject({ ok: false, limit: 'body_bytes_in_flight' });
    expect(limiter.openPost('other', 1000).ok).toBe(true);
    big.release?.();
    big.release?.();
    expect(limiter.openPost('agent', 3000).ok).toBe(true);
    expect(limiter.openPost('agent', 1).ok).toBe(false);
  });

  it('locks an IP out for a minute after N failed authentications, then lets it try again', () => {
    const { limiter, clock } = make();
    for (let i = 0; i < 2; i++) limiter.noteAuthFailure('203.0.113.9');
    expect(limiter.checkAuthLockout('203.0.113.9').ok).toBe(true);
    limiter.noteAuthFailure('203.0.113.9');
    const d = limiter.checkAuthLockout('203.0.113.9');
    expect(d).toMatchObject({ ok: false, limit: 'auth_failures', retryAfterSeconds: 60 });
    expect(limiter.checkAuthLockout('198.51.100.7').ok).toBe(true);
    clock.t += 60_000;
    expect(limiter.checkAuthLockout('203.0.113.9').ok).toBe(true);
  });

  it('forgets failures older than a minute', () => {
    const { limiter, clock } = make();
    limiter.noteAuthFailure('203.0.113.9');
    limiter.noteAuthFailure('203.0.113.9');
    clock.t += 61_000;
    limiter.noteAuthFailure('203.0.113.9');
    expect(limiter.checkAuthLockout('203.0.113.9').ok).toBe(true);
  });

  it('holds a bounded number of clients under a flood of distinct addresses', () => {
    const { limiter } = make({ maxKeys: 100 });
    for (let i = 0; i < 5000; i++) {
      const ip = `198.51.${i >> 8}.${i & 255}`;
      limiter.admit(ip, 1);
      limiter.noteAuthFailure(ip);
    }
    const sizes = limiter.sizes();
    for (const n of Object.values(sizes)) expect(n).toBeLessThanOrEqual(100);
  });

  it('sweeps idle clients once their buckets have refilled', () => {
    const { limiter, clock } = make({ rpm: 100 });
    const d = limiter.admit('a', 1);
    if (d.ticket) limiter.settle('a', d.ticket);
    clock.t += 120_000;
    limiter.admit('b', 0);
    expect(limiter.sizes()).toMatchObject({ calls: 0, requests: 1, running: 0 });
  });
});

describe('BoundedMap', () => {
  it('evicts the least recently used entry', () => {
    const m = new BoundedMap<number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('a', 3); // a is now the most recent
    m.set('c', 4);
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toBe(3);
    expect(m.size).toBe(2);
  });
});

describe('429 answer', () => {
  it('carries Retry-After and a JSON body naming the limit', async () => {
    const r = tooMany({ ok: false, limit: 'concurrent_calls', retryAfterSeconds: 1, error: 'busy' });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(await r.json()).toEqual({ error: 'busy', limit: 'concurrent_calls', retry_after_seconds: 1 });
  });
});

describe('tool calls in a body', () => {
  it('counts tools/call requests, singly and in a batch, and nothing else', () => {
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } };
    expect(countToolCalls(call)).toBe(1);
    expect(countToolCalls([call, { ...call, id: 2 }, { jsonrpc: '2.0', method: 'ping', id: 3 }])).toBe(2);
    expect(countToolCalls({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBe(0);
    // A tool argument that mentions tools/call is not a call.
    expect(countToolCalls({ jsonrpc: '2.0', id: 1, method: 'ping', params: { q: 'tools/call' } })).toBe(0);
  });

  it('counts a method spelled with JSON escapes, as the SDK reads it', () => {
    expect(
      countToolCalls(JSON.parse(String.raw`{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{}}`)),
    ).toBe(1);
    expect(
      countToolCalls(JSON.parse(String.raw`[{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall"}]`)),
    ).toBe(1);
  });

  it('counts prompt gets and resource reads in the same buckets, but not their listings', () => {
    const get = { jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'security_audit' } };
    const read = { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'docker://containers' } };
    expect(countToolCalls(get)).toBe(1);
    expect(countToolCalls(read)).toBe(1);
    expect(countToolCalls([get, read, { jsonrpc: '2.0', id: 3, method: 'tools/call' }])).toBe(3);
    for (const method of ['prompts/list', 'resources/list', 'resources/templates/list'])
      expect(countToolCalls({ jsonrpc: '2.0', id: 1, method })).toBe(0);
  });
});
