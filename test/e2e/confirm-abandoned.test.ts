/**
 * --confirm when the call ends while its question is open, through the compiled binary: the client
 * cancels the call, deletes its session or drops its connection (HTTP), or cancels over stdio. Nothing
 * changes, and the audit log closes the call (`cancelled`, confirmation `abandoned`) after its
 * `input_required` line. A question the user dismisses is reported as dismissed, not declined.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { errorOf, SERVER_BIN } from '../helpers/client.ts';
import { askingClient } from '../helpers/elicit.ts';
import { cleanupContainers, containerExists, makeContainer } from '../helpers/engine.ts';
import { type HttpServer, killSpawned, serveHttp } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-abandoned-'));
const audit = join(dir, 'audit.jsonl');
const secret = randomBytes(24).toString('base64url');
const headers = { authorization: `Bearer ${secret}` };

let server: HttpServer;
beforeAll(async () => {
  const file = join(dir, 'auth.json');
  const hash = `sha256:${createHash('sha256').update(secret).digest('hex')}`;
  writeFileSync(file, JSON.stringify({ clients: { alice: { profile: 'full', tokens: [hash] } } }));
  server = await serveHttp(['--auth-file', file, '--allow-destructive', '--audit-log', audit]);
});
afterAll(async () => {
  killSpawned();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

interface Line {
  event: string;
  args?: { container_id?: string };
  outcome: string;
  confirmation?: string;
}
/** The audit lines about one container, once there are `n` of them (the log is flushed every 200 ms). */
async function auditOf(file: string, name: string, n: number): Promise<Line[]> {
  let lines: Line[] = [];
  for (let i = 0; i < 40 && lines.length < n; i++) {
    await Bun.sleep(100);
    lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line)
      .filter((l) => l.event === 'tool_call' && l.args?.container_id === name);
  }
  return lines;
}

/** A v1 client whose user never answers; `asked` resolves when the question arrives. */
function neverAnswering() {
  const client = new Client({ name: 'mcpt-abandoned', version: '0' }, { capabilities: { elicitation: {} } });
  let resolveAsked: () => void = () => {};
  const asked = new Promise<void>((r) => {
    resolveAsked = r;
  });
  client.setRequestHandler(ElicitRequestSchema, (_r, extra) => {
    resolveAsked();
    return new Promise((_, reject) =>
      extra.signal.addEventListener('abort', () => reject(new Error('withdrawn'))),
    );
  });
  return { client, asked };
}

const ENDINGS = ['cancels the call', 'deletes its session', 'drops its connection'] as const;

describe.each(ENDINGS)('over HTTP, a client that %s while asked', (ending) => {
  it('changes nothing, and the audit log closes the call as abandoned', async () => {
    const c = await makeContainer({ start: false });
    const { client, asked } = neverAnswering();
    const transport = new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), {
      requestInit: { headers },
    });
    await client.connect(transport);
    const cancel = new AbortController();
    const call = client
      .callTool({ name: 'docker_remove_container', arguments: { container_id: c.name } }, undefined, {
        signal: cancel.signal,
        timeout: 60_000,
      })
      .catch((e: Error) => e);
    await asked;
    if (ending === 'cancels the call') cancel.abort('the user pressed stop');
    else if (ending === 'deletes its session') await transport.terminateSession();
    else await transport.close();
    if (ending === 'cancels the call') await call;
    const lines = await auditOf(audit, c.name, 2);
    expect(lines.map((l) => [l.outcome, l.confirmation])).toEqual([
      ['input_required', undefined],
      ['cancelled', 'abandoned'],
    ]);
    expect(await containerExists(c.id)).toBe(true);
    await client.close().catch(() => {});
  });
});

describe('over stdio, a client that cancels the call while asked', () => {
  it('changes nothing, and the audit log closes the call as abandoned', async () => {
    const file = join(dir, 'stdio-audit.jsonl');
    const c = await makeContainer({ start: false });
    const { client, asked } = neverAnswering();
    await client.connect(
      new StdioClientTransport({
        command: SERVER_BIN,
        args: ['--audit-log', file],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          DOCKER_HOST: process.env.DOCKER_HOST ?? '',
          SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true',
        },
      }),
    );
    try {
      const cancel = new AbortController();
      const call = client
        .callTool({ name: 'docker_remove_container', arguments: { container_id: c.name } }, undefined, {
          signal: cancel.signal,
        })
        .catch((e: Error) => e);
      await asked;
      cancel.abort('the user pressed stop');
      await call;
      const lines = await auditOf(file, c.name, 2);
      expect(lines.map((l) => [l.outcome, l.confirmation])).toEqual([
        ['input_required', undefined],
        ['cancelled', 'abandoned'],
      ]);
      expect(await containerExists(c.id)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('a question the user dismisses', () => {
  it('is reported as dismissed, not declined, and audited cancelled', async () => {
    const c = await makeContainer({ start: false });
    const client = await askingClient({ kind: 'v1', url: server.base, headers, answer: () => 'cancel' });
    try {
      const err = errorOf(await client.callTool('docker_remove_container', { container_id: c.name }));
      expect(err.kind).toBe('cancelled');
      expect(err.message).toContain('the question was dismissed without an answer; nothing changed');
      expect(err.message).not.toContain('declined');
      expect(await containerExists(c.id)).toBe(true);
      expect((await auditOf(audit, c.name, 2)).at(-1)?.confirmation).toBe('cancelled');
    } finally {
      await client.close();
    }
  });
});
