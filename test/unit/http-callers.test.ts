/** Keys callers are told apart by, the session slots /mcp and /sse share, and refusals written safely. */
import { describe, expect, it } from 'bun:test';
import type { Log } from '../../src/log.ts';
import type { AuditEvent } from '../../src/transport/http/audit.ts';
import { callerKey } from '../../src/transport/http/auth-types.ts';
import { encodingRefused } from '../../src/transport/http/body-limit.ts';
import { refusalReporter, screened } from '../../src/transport/http/refusals.ts';
import { SessionSlots, SessionTable } from '../../src/transport/http/sessions.ts';

const profile = {
  readOnly: true,
  allowModerate: false,
  allowDestructive: false,
  allowedTools: [],
  deniedTools: [],
};

describe('callerKey', () => {
  it('tells the same name apart by the method that proved it; an anonymous caller is its address', () => {
    const keys = (['token', 'ssh', 'oauth'] as const).map((method) =>
      callerKey({ clientId: 'bob', method, profile }),
    );
    expect(keys).toEqual(['token:bob', 'ssh:bob', 'oauth:bob']);
    expect(callerKey({ clientId: '10.0.0.7', method: 'none', profile })).toBe('10.0.0.7');
  });
});

describe('SessionSlots shared by two tables', () => {
  it('holds a client to one quota and the server to one total across both', () => {
    const slots = new SessionSlots();
    const close = async () => {};
    const mcp = new SessionTable<{ close(): Promise<void> }>({ idleMs: 60_000 }, undefined, slots);
    const sse = new SessionTable<{ close(): Promise<void> }>({ idleMs: 60_000 }, () => false, slots);
    const a = mcp.claim('token:ro', 2);
    const b = sse.claim('token:ro', 2);
    expect(a && b).toBeDefined();
    expect(mcp.claim('token:ro', 2)).toBeUndefined();
    expect(sse.claim('token:ro', 2)).toBeUndefined();
    expect(slots.total).toBe(2);
    if (!a) throw new Error('no slot');
    mcp.add('one', { close }, 'token:ro', a);
    mcp.delete('one');
    expect(slots.total).toBe(1);
    expect(sse.claim('token:ro', 2)).toBeDefined();
    void mcp.closeAll();
    void sse.closeAll();
  });
});

describe('encodingRefused', () => {
  it('refuses a compressed body with 415 naming the encoding, and lets identity or none through', async () => {
    expect(encodingRefused(null)).toBeUndefined();
    expect(encodingRefused('identity')).toBeUndefined();
    const r = encodingRefused('GZip');
    if (!r) throw new Error('not refused');
    expect(r.status).toBe(415);
    expect(((await r.json()) as { error: string }).error).toContain("'gzip'");
  });
});

describe('refusals', () => {
  it('screens what the client sent: quoted, escaped, cut', () => {
    expect(screened('evil.example')).toBe('"evil.example"');
    expect(screened('a"b\\c\u202e\n')).toBe('"a\\"b\\\\c\\u202e\\u000a"');
    expect(screened('x'.repeat(150))).toBe(`"${'x'.repeat(100)}…(150 chars)"`);
  });

  it('audits every refusal and warns once a minute per reason, then says how many more came', () => {
    const warned: string[] = [];
    const audited: AuditEvent[] = [];
    const log = { warn: (m: string) => warned.push(m) } as unknown as Log;
    let t = 0;
    const report = refusalReporter(
      log,
      { record: (e) => audited.push(e), close() {} },
      () => '192.0.2.7',
      () => t,
    );
    const request = new Request('http://x/mcp');
    for (let i = 0; i < 5; i++)
      report(request, { outcome: 'host_not_allowed', detail: 'Host "h" not allowed' });
    report(request, { outcome: 'body_too_large', detail: 'big' });
    expect(audited).toHaveLength(6);
    expect(audited[0]).toMatchObject({
      event: 'request_refused',
      ip: '192.0.2.7',
      outcome: 'host_not_allowed',
    });
    expect(warned).toHaveLength(2);
    t = 61_000;
    report(request, { outcome: 'host_not_allowed', detail: 'Host "h" not allowed' });
    expect(warned.at(-1)).toContain('(and 4 more like it since the last warning)');
  });
});
