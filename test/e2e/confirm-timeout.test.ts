/**
 * A confirmation question nobody answers, through the compiled binary: after --confirm-timeout the
 * call ends `cancelled` saying the user did not answer in time, the question is withdrawn
 * (notifications/cancelled reaches the client's handler) and nothing changed; a client's cancel of the
 * call while the question is open withdraws it at once. Over stdio, Streamable HTTP and legacy SSE, with v1 and v2
 * clients on the initialize era (the server puts the question), and on the 2026 era (the client holds
 * the sealed state, which expires).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client as V2Client } from '@modelcontextprotocol/client';
import type { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { errorOf } from '../helpers/client.ts';
import { type AskingClient, type AskingKind, askingClient } from '../helpers/elicit.ts';
import { cleanupContainers, containerExists, makeContainer } from '../helpers/engine.ts';
import { type HttpServer, killSpawned, serveHttp } from '../helpers/http-binary.ts';

const ARGS = ['--confirm-timeout', '2', '--timeout', '5'];
const DESTRUCTIVE = { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' };
const dir = mkdtempSync(join(tmpdir(), 'mcpt-confirm-timeout-'));
const audit = join(dir, 'audit.jsonl');

let http: HttpServer;
beforeAll(async () => {
  http = await serveHttp([...ARGS, '--allow-destructive', '--audit-log', audit]);
});
afterAll(async () => {
  killSpawned();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

/** A user who never answers; `withdrawn` resolves when the server withdraws the question. */
function absentUser() {
  let withdrawn!: () => void;
  const gone = new Promise<void>((resolve) => {
    withdrawn = resolve;
  });
  return {
    gone,
    answer: (_q: unknown, signal: AbortSignal) =>
      new Promise<'cancel'>((resolve) =>
        signal.addEventListener('abort', () => {
          withdrawn();
          resolve('cancel');
        }),
      ),
  };
}

const connect = (kind: AskingKind, transport: string, answer: ReturnType<typeof absentUser>['answer']) =>
  transport === 'stdio'
    ? askingClient({ kind, answer, args: ARGS, env: DESTRUCTIVE })
    : askingClient({ kind, answer, url: http.base, sse: transport === 'sse' });

/** The call through the raw client, with an abort signal (askingClient's callTool takes none). */
const callWith = (client: AskingClient, args: Record<string, unknown>, signal: AbortSignal) =>
  client.kind === 'v1'
    ? (client.raw as V1Client).callTool({ name: 'docker_remove_container', arguments: args }, undefined, {
        signal,
        timeout: 60_000,
      })
    : (client.raw as V2Client).callTool(
        { name: 'docker_remove_container', arguments: args },
        { signal, timeout: 60_000 },
      );

const WAYS: [AskingKind, string][] = [
  ['v1', 'stdio'],
  ['v2-legacy', 'stdio'],
  ['v1', 'http'],
  ['v2-legacy', 'http'],
  ['v1', 'sse'],
];

/**
 * Whether the client's handler can see the withdrawal: @modelcontextprotocol/sdk 1.x drops a
 * `notifications/cancelled` whose requestId is 0 (a falsy check), and over HTTP the question is the
 * session's first request from the server, id 0. It is on the wire all the same (the v2 client sees it).
 */
const seesWithdrawal = (kind: AskingKind, transport: string) => !(kind === 'v1' && transport !== 'stdio');

describe.each(WAYS)('an unanswered question (%s client, %s)', (kind, transport) => {
  it('ends the call cancelled after --confirm-timeout, withdraws the question, changes nothing', async () => {
    const c = await makeContainer({ start: false });
    const user = absentUser();
    const client = await connect(kind, transport, user.answer);
    try {
      const t0 = Date.now();
      const result = await client.callTool('docker_remove_container', { container_id: c.name });
      const took = Date.now() - t0;
      const err = errorOf(result);
      expect(err.kind).toBe('cancelled');
      expect(err.message).toContain('the user did not answer within 2 s; nothing changed');
      expect(took).toBeGreaterThanOrEqual(1900);
      expect(took).toBeLessThan(4500);
      expect(client.asked).toHaveLength(1);
      if (seesWithdrawal(kind, transport)) await user.gone; // the client was told it is withdrawn
      expect(await containerExists(c.id)).toBe(true);
      if (transport !== 'stdio') {
        await Bun.sleep(400); // the audit log is flushed every 200 ms
        const line = readFileSync(audit, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { args?: { container_id?: string }; confirmation?: string })
          .filter((l) => l.args?.container_id === c.name)
          .at(-1);
        expect(line?.confirmation).toBe('cancelled');
      }
    } finally {
      await client.close();
    }
  }, 15_000);

  it('withdraws the question at once when the client cancels the call, and nothing changes', async () => {
    const c = await makeContainer({ start: false });
    const user = absentUser();
    const client = await connect(kind, transport, user.answer);
    try {
      const stop = new AbortController();
      const call = callWith(client, { container_id: c.name }, stop.signal).catch((e: unknown) => e);
      while (client.asked.length === 0) await Bun.sleep(20);
      const t0 = Date.now();
      stop.abort('the user moved on');
      await call;
      if (seesWithdrawal(kind, transport)) {
        await user.gone;
        expect(Date.now() - t0).toBeLessThan(1000);
      }
      expect(await containerExists(c.id)).toBe(true);
    } finally {
      await client.close();
    }
  }, 15_000);
});

describe.each(['stdio', 'http'])('a late answer on the 2026 era (%s)', (transport) => {
  it('is refused as not in time, and nothing changes', async () => {
    const c = await makeContainer({ start: false });
    const late = async () => {
      await Bun.sleep(2300);
      return 'accept' as const;
    };
    const client =
      transport === 'stdio'
        ? await askingClient({ kind: 'v2', answer: late, args: ARGS, env: DESTRUCTIVE })
        : await askingClient({ kind: 'v2', answer: late, url: http.base });
    try {
      const err = errorOf(await client.callTool('docker_remove_container', { container_id: c.name }));
      expect(err.kind).toBe('cancelled');
      expect(err.message).toContain('the user did not answer within 2 s; nothing changed');
      expect(await containerExists(c.id)).toBe(true);
    } finally {
      await client.close();
    }
  }, 15_000);
});
