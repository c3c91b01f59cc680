/** The audit log's line shape, argument summary and redaction, and its file: 0600, whole lines, flushed on close. */
import { afterAll, describe, expect, it } from 'bun:test';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolError } from '../../src/core/errors.ts';
import { MASK } from '../../src/core/redact.ts';
import { createLogger } from '../../src/log.ts';
import {
  type AuditEvent,
  auditCalls,
  auditLine,
  openAudit,
  summarizeArgs,
  throttleRefusals,
} from '../../src/transport/http/audit.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audit line', () => {
  it('is one JSON line with the fields in order and absent ones omitted', () => {
    const line = auditLine(
      {
        event: 'tool_call',
        clientId: 'ops',
        ip: '127.0.0.1',
        tool: 'docker_list_containers',
        safety: 'safe',
        args: { all: true },
        outcome: 'ok',
        durationMs: 12.345,
      },
      new Date('2026-11-24T12:00:00Z'),
    );
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd()).not.toContain('\n');
    const parsed = JSON.parse(line);
    expect(Object.keys(parsed)).toEqual([
      'ts',
      'event',
      'client_id',
      'ip',
      'tool',
      'safety',
      'args',
      'outcome',
      'duration_ms',
    ]);
    expect(parsed).toMatchObject({ ts: '2026-11-24T12:00:00.000Z', duration_ms: 12.3, args: { all: true } });
  });

  it('records an auth failure with the claimed client id in its own field, after client_id', () => {
    const parsed = JSON.parse(
      auditLine({
        event: 'auth_failure',
        claimedClientId: 'operator',
        ip: '10.1.2.3',
        outcome: 'unauthenticated',
        detail: 'ssh: operator bad ssh-ed25519 signature (key line 2)',
      }),
    );
    expect(Object.keys(parsed)).toEqual(['ts', 'event', 'claimed_client_id', 'ip', 'outcome', 'detail']);
    expect(parsed).not.toHaveProperty('client_id');
    expect(parsed.claimed_client_id).toBe('operator');
  });

  it('records a refusal without tool fields', () => {
    const parsed = JSON.parse(
      auditLine({ event: 'rate_limited', clientId: 'ops', ip: '::1', outcome: 'concurrent_calls' }),
    );
    expect(parsed).not.toHaveProperty('tool');
    expect(parsed.outcome).toBe('concurrent_calls');
  });
});

describe('argument summary', () => {
  it('masks secrets in env lists, secret-named keys and URLs', () => {
    const s = JSON.stringify(
      summarizeArgs({
        env: ['PASSWORD=hunter2', 'MODE=prod'],
        api_token: 'abc123',
        registry: 'https://bob:s3cret@registry.example',
      }),
    );
    expect(s).not.toContain('hunter2');
    expect(s).not.toContain('abc123');
    expect(s).not.toContain('s3cret');
    expect(s).toContain('MODE=prod');
  });

  it("masks curl's -u password, a header's value, a JSON document's secret and mysql's -p in a command", () => {
    const s = JSON.stringify(
      summarizeArgs({
        command: ['curl', '-u', 'admin:curlpw11', '-H', 'X-Api-Key:apik22', 'http://x'],
        cmd: 'sh -c "curl -d \\"{\\\\\\"password\\\\\\": \\\\\\"jsonpw66\\\\\\"}\\" x; mysql -pmysqlpw88"',
        entrypoint: ['mysql', '-pmysqlpw88'],
      }),
    );
    for (const leak of ['curlpw11', 'apik22', 'jsonpw66', 'mysqlpw88']) expect(s).not.toContain(leak);
    expect(s).toContain('admin:***');
  });

  it('logs a key named __proto__ as a key, its value redacted like any other', () => {
    const args = JSON.parse('{"labels":{"__proto__":"x"},"__proto__":{"api_token":"abc123"}}');
    expect(JSON.stringify(summarizeArgs(args))).toBe(
      `{"labels":{"__proto__":"x"},"__proto__":{"api_token":"${MASK}"}}`,
    );
  });

  it('cuts long strings and long lists, saying how long they were', () => {
    const s = summarizeArgs({
      command: 'x'.repeat(500),
      names: Array.from({ length: 25 }, (_, i) => `n${i}`),
    }) as {
      command: string;
      names: string[];
    };
    expect(s.command.length).toBeLessThan(120);
    expect(s.command).toContain('(500 chars)');
    expect(s.names).toHaveLength(11);
    expect(s.names[10]).toBe('…(15 more)');
  });

  it('stops at a fixed depth', () => {
    expect(summarizeArgs({ a: { b: { c: { d: 1 } } } })).toEqual({ a: { b: { c: '{…}' } } });
  });
});

describe('audit file', () => {
  const log = createLogger('error');

  it('is created 0600 and holds every recorded line, whole, after close', () => {
    const path = join(dir, 'new.jsonl');
    const audit = openAudit(path, log);
    for (let i = 0; i < 500; i++) audit.record({ event: 'tool_call', clientId: `c${i}`, outcome: 'ok' });
    audit.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(500);
    expect(lines.map((l) => JSON.parse(l).client_id)).toEqual(Array.from({ length: 500 }, (_, i) => `c${i}`));
  });

  it('tightens an existing file that others could read, and appends to it', () => {
    const path = join(dir, 'wide.jsonl');
    writeFileSync(path, '{"event":"old"}\n');
    chmodSync(path, 0o644);
    const audit = openAudit(path, log);
    audit.record({ event: 'ip_denied', ip: '192.0.2.1', outcome: 'ip_denied' });
    audit.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(2);
  });

  it('writes buffered lines without waiting for close', async () => {
    const path = join(dir, 'timed.jsonl');
    const audit = openAudit(path, log);
    audit.record({ event: 'auth_failure', ip: '192.0.2.1', outcome: 'invalid_token' });
    for (let i = 0; i < 50 && readFileSync(path, 'utf8') === ''; i++) await Bun.sleep(20);
    expect(readFileSync(path, 'utf8')).toContain('auth_failure');
    audit.close();
  });

  it('gets one tool_call line per call from the pipeline observer, for the given client', () => {
    const path = join(dir, 'stdio.jsonl');
    const audit = openAudit(path, log);
    const observe = auditCalls(audit, { clientId: 'stdio' });
    const end = observe?.({
      event: 'tool_call',
      tool: 'docker_exec_command',
      safety: 'moderate',
      args: { environment: ['TOKEN=abc123'] },
    });
    end?.({ outcome: { ok: true, data: {} }, durationMs: 3 });
    audit.close();
    const line = JSON.parse(readFileSync(path, 'utf8'));
    expect(line).toMatchObject({
      event: 'tool_call',
      client_id: 'stdio',
      tool: 'docker_exec_command',
      outcome: 'ok',
    });
    expect(JSON.stringify(line)).not.toContain('abc123');
  });

  it('gets one prompt_get line naming the prompt and one resource_read line naming the URI', () => {
    const path = join(dir, 'content.jsonl');
    const audit = openAudit(path, log);
    const observe = auditCalls(audit, { clientId: 'stdio' });
    observe?.({ event: 'prompt_get', prompt: 'troubleshoot_container', args: { container_id: 'web' } })?.({
      outcome: { ok: true, data: {} },
      durationMs: 5,
    });
    observe?.({ event: 'resource_read', uri: 'container://logs/web' })?.({
      outcome: { ok: false, error: new ToolError('policy_denied', 'no') },
      durationMs: 1,
    });
    audit.close();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      event: 'prompt_get',
      client_id: 'stdio',
      prompt: 'troubleshoot_container',
      args: { container_id: 'web' },
      outcome: 'ok',
    });
    expect(lines[0]).not.toHaveProperty('tool');
    expect(lines[1]).toMatchObject({
      event: 'resource_read',
      uri: 'container://logs/web',
      outcome: 'policy_denied',
    });
    expect(lines[1]).not.toHaveProperty('args');
  });

  it('names the file and what to check when it cannot be opened', () => {
    expect(() => openAudit(join(dir, 'missing', 'a.jsonl'), log)).toThrow(
      /audit log .*cannot open \(ENOENT\)/,
    );
  });
});

describe('refusal flood', () => {
  it('keeps N refusal lines a minute per kind, then says how many it left out; never drops tool calls', () => {
    const lines: AuditEvent[] = [];
    const clock = { t: 0 };
    const audit = throttleRefusals({ record: (e) => void lines.push(e), close() {} }, 3, () => clock.t);
    for (let i = 0; i < 10; i++) audit.record({ event: 'ip_denied', ip: '192.0.2.1', outcome: 'ip_denied' });
    audit.record({ event: 'ip_denied', ip: '192.0.2.2', outcome: 'ip_denied' });
    for (let i = 0; i < 5; i++) audit.record({ event: 'tool_call', clientId: 'ops', outcome: 'ok' });
    for (let i = 0; i < 5; i++) audit.record({ event: 'prompt_get', clientId: 'ops', outcome: 'ok' });
    for (let i = 0; i < 5; i++) audit.record({ event: 'resource_read', clientId: 'ops', outcome: 'ok' });
    expect(lines.filter((l) => l.ip === '192.0.2.1')).toHaveLength(3);
    expect(lines.filter((l) => l.ip === '192.0.2.2')).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'tool_call')).toHaveLength(5);
    expect(lines.filter((l) => l.event === 'prompt_get')).toHaveLength(5);
    expect(lines.filter((l) => l.event === 'resource_read')).toHaveLength(5);
    clock.t = 60_000;
    audit.record({ event: 'ip_denied', ip: '192.0.2.1', outcome: 'ip_denied' });
    expect(lines.at(-1)).toMatchObject({ ip: '192.0.2.1', suppressed: 7 });
  });
});
