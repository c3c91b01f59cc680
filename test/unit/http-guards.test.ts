import { describe, expect, it } from 'bun:test';
import { checkBind, isLoopbackHost } from '../../src/transport/http/bind.ts';
import { checkBodySize } from '../../src/transport/http/body-limit.ts';
import { corsOrigin } from '../../src/transport/http/cors.ts';
import { securityHeaderValues } from '../../src/transport/http/headers.ts';
import { checkHost, checkOrigin, parseHostHeader } from '../../src/transport/http/host-origin.ts';
import { InFlight, settleWithin } from '../../src/transport/http/inflight.ts';
import { SessionTable } from '../../src/transport/http/sessions.ts';

const loopback = { loopback: true, port: () => 8000, allowedHosts: [] as string[] };

describe('checkHost', () => {
  it('accepts the loopback names on a loopback bind, with the bound port', () => {
    for (const h of ['localhost:8000', '127.0.0.1:8000', '[::1]:8000', 'LOCALHOST:8000'])
      expect(checkHost(h, loopback)).toBe(true);
  });
  it('refuses a rebinding name and a loopback name on another port', () => {
    expect(checkHost('evil.example:8000', loopback)).toBe(false);
    expect(checkHost('localhost:9999', loopback)).toBe(false);
    // No port is port 80: another server.
    expect(checkHost('localhost', loopback)).toBe(false);
    expect(checkHost('localhost', { ...loopback, port: () => 80 })).toBe(true);
    expect(checkHost('localhost', { ...loopback, port: () => 443, tls: true })).toBe(true);
    expect(checkHost(null, loopback)).toBe(false);
    expect(checkHost('a:b:c', loopback)).toBe(false);
  });
  it('off loopback accepts only configured hosts, a bare name on any port', () => {
    const o = { loopback: false, port: () => 443, allowedHosts: ['mcp.example.com', 'alt.example.com:8443'] };
    expect(checkHost('mcp.example.com', o)).toBe(true);
    expect(checkHost('mcp.example.com:443', o)).toBe(true);
    expect(checkHost('alt.example.com:8443', o)).toBe(true);
    expect(checkHost('alt.example.com:443', o)).toBe(false);
    expect(checkHost('localhost:443', o)).toBe(false);
  });
  it('parses bracketed IPv6 hosts', () => {
    expect(parseHostHeader('[::1]:80')).toEqual({ name: '[::1]', port: 80 });
  });
});

describe('checkOrigin', () => {
  it('lets clients without an Origin through (non-browser clients)', () => {
    expect(checkOrigin(null, { loopback: false, allowedOrigins: [] })).toBe(true);
  });
  it('accepts loopback pages on a loopback bind and refuses other sites', () => {
    const o = { loopback: true, allowedOrigins: [] };
    expect(checkOrigin('http://localhost:6274', o)).toBe(true);
    expect(checkOrigin('http://127.0.0.1', o)).toBe(true);
    expect(checkOrigin('https://evil.example', o)).toBe(false);
    expect(checkOrigin('null', o)).toBe(false);
  });
  it('accepts configured origins exactly, ignoring case and a trailing slash', () => {
    const o = { loopback: false, allowedOrigins: ['https://App.example.com'] };
    expect(checkOrigin('https://app.example.com/', o)).toBe(true);
    expect(checkOrigin('http://app.example.com', o)).toBe(false);
    expect(checkOrigin('http://localhost', o)).toBe(false);
  });
});

describe('checkBind', () => {
  const base = { tls: false, auth: false, allowInsecureBind: false, allowedHosts: [] as string[] };
  it('treats localhost, 127/8 and ::1 as loopback', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) expect(isLoopbackHost(h)).toBe(false);
  });
  it('binds loopback without TLS, authentication or override', () => {
    expect(checkBind({ ...base, host: '127.0.0.1' })).toEqual({ ok: true, loopback: true });
  });
  it('refuses a non-loopback bind without TLS, naming the TLS settings', () => {
    const d = checkBind({ ...base, host: '0.0.0.0', auth: true, allowedHosts: ['x'] });
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toContain('MCP_TLS_ENABLED');
    if (!d.ok) expect(d.error).not.toContain('--auth-file');
  });
  it('refuses a non-loopback bind with TLS but no authentication, naming the auth settings', () => {
    const d = checkBind({ ...base, host: '0.0.0.0', tls: true, allowedHosts: ['x'] });
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toContain('without authentication');
    if (!d.ok) expect(d.error).toContain('--auth-file');
  });
  it('binds off loopback with TLS, authentication and allowed hosts, without a warning', () => {
    const d = checkBind({ ...base, host: '0.0.0.0', tls: true, auth: true, allowedHosts: ['x'] });
    expect(d).toEqual({ ok: true, loopback: false });
  });
  it('needs allowed hosts off loopback, else every request would be refused', () => {
    const d = checkBind({ ...base, host: '0.0.0.0', tls: true, auth: true });
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toContain('--allowed-hosts');
  });
  it('lets the override through with a loud warning naming what is missing', () => {
    const d = checkBind({ ...base, host: '0.0.0.0', allowInsecureBind: true, allowedHosts: ['x'] });
    expect(d.ok).toBe(true);
    if (d.ok) expect(d.warning).toMatch(/^INSECURE: .* without TLS and authentication/);
    const tlsOnly = checkBind({
      ...base,
      host: '0.0.0.0',
      tls: true,
      allowInsecureBind: true,
      allowedHosts: ['x'],
    });
    if (tlsOnly.ok) expect(tlsOnly.warning).toMatch(/without authentication .*controls the Docker engine/);
  });
});

describe('checkBodySize', () => {
  it('passes an absent or small length and flags a large or malformed one', () => {
    expect(checkBodySize(null, 10)).toBe('ok');
    expect(checkBodySize('10', 10)).toBe('ok');
    expect(checkBodySize('11', 10)).toBe('too_large');
    expect(checkBodySize('-1', 10)).toBe('invalid');
  });
});

describe('corsOrigin', () => {
  it('echoes only a configured origin and is off when none is configured', () => {
    expect(corsOrigin('https://a.example', [])).toBeUndefined();
    expect(corsOrigin('https://a.example', ['https://a.example'])).toBe('https://a.example');
    expect(corsOrigin('https://b.example', ['https://a.example'])).toBeUndefined();
    expect(corsOrigin(null, ['https://a.example'])).toBeUndefined();
  });
});

describe('securityHeaderValues', () => {
  it('adds HSTS only with TLS', () => {
    expect(securityHeaderValues(false)['strict-transport-security']).toBeUndefined();
    expect(securityHeaderValues(true)['strict-transport-security']).toContain('max-age=');
    expect(securityHeaderValues(false)['content-security-policy']).toContain("default-src 'none'");
  });
});

describe('InFlight', () => {
  it('counts a streamed response until its body is read to the end', async () => {
    const f = new InFlight();
    const r = f.track(new Response('hello'));
    expect(f.count).toBe(1);
    expect(await r.text()).toBe('hello');
    expect(f.count).toBe(0);
  });
  it('idle() resolves false when calls outlast the grace period', async () => {
    const f = new InFlight();
    const end = f.begin();
    expect(await f.idle(20)).toBe(false);
    const waiting = f.idle(1000);
    end();
    expect(await waiting).toBe(true);
  });
});

describe('shutdown bounds', () => {
  it('settleWithin: true when the work settles (even by failing), false when it outlasts the bound', async () => {
    expect(await settleWithin(1000, Promise.resolve())).toBe(true);
    expect(await settleWithin(1000, Promise.reject(new Error('x')))).toBe(true);
    const started = performance.now();
    expect(await settleWithin(50, new Promise(() => {}))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('SessionTable.closeAll returns though a transport never finishes closing, and forgets every session', async () => {
    const table = new SessionTable<{ close(): Promise<void> }>({ idleMs: 60_000 });
    let closedQuick = false;
    const slot = () => table.claim('a', 10) ?? { release() {} };
    table.add('stuck', { close: () => new Promise(() => {}) }, 'a', slot());
    table.add(
      'quick',
      {
        close: async () => {
          closedQuick = true;
        },
      },
      'a',
      slot(),
    );
    const started = performance.now();
    await table.closeAll();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(closedQuick).toBe(true);
    expect(table.size).toBe(0);
  });
});

describe('securityHeaders plugin', () => {
  it("replaces a route's weaker cache-control and adds the rest to its answer", async () => {
    const { Elysia } = await import('elysia');
    const { securityHeaders } = await import('../../src/transport/http/headers.ts');
    const app = new Elysia()
      .use(securityHeaders({ tls: false }))
      .get('/stream', () => new Response('x', { headers: { 'cache-control': 'no-cache' } }));
    const res = await app.handle(new Request('http://127.0.0.1/stream'));
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });
});
