/**
 * --confirm over HTTP, through the compiled binary: Streamable HTTP sessions (v1, and v2 on the
 * initialize era; the SDK sends elicitation/create), the 2026 era (stateless; the input-required round
 * trip) and legacy SSE (v1). Accept runs, decline changes nothing; a client that cannot ask runs under
 * the default fallback; a credential's `confirm: none` is not asked; a confirmation given to one
 * credential is refused to another; the audit log says what became of each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallToolResult, Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { errorOf, structured } from '../helpers/client.ts';
import { type AskingKind, acceptedRound, askingClient, type UserAnswer } from '../helpers/elicit.ts';
import { cleanupContainers, containerExists, makeContainer } from '../helpers/engine.ts';
import { type HttpServer, killSpawned, serveHttp } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-confirm-'));
const audit = join(dir, 'audit.jsonl');
const token = () => randomBytes(24).toString('base64url');
const hash = (t: string) => `sha256:${createHash('sha256').update(t).digest('hex')}`;
const tokens = { alice: token(), bob: token(), robot: token() };
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

let server: HttpServer;
beforeAll(async () => {
  const file = join(dir, 'auth.yaml');
  writeFileSync(
    file,
    [
      'profiles:',
      '  unattended: { base: full, confirm: none }',
      'clients:',
      `  alice: { profile: full, tokens: ["${hash(tokens.alice)}"] }`,
      `  bob: { profile: full, tokens: ["${hash(tokens.bob)}"] }`,
      `  robot: { profile: unattended, tokens: ["${hash(tokens.robot)}"] }`,
      '',
    ].join('\n'),
  );
  server = await serveHttp(['--auth-file', file, '--allow-destructive', '--audit-log', audit]);
});
afterAll(async () => {
  killSpawned();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

interface Line {
  event: string;
  tool?: string;
  client_id?: string;
  args?: { container_id?: string };
  outcome: string;
  confirmation?: string;
}
/** The audit lines about one container (the log is flushed every 200 ms). */
async function auditOf(name: string): Promise<Line[]> {
  await Bun.sleep(400);
  return readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.event === 'tool_call' && l.args?.container_id === name);
}

const WAYS: [string, AskingKind, boolean][] = [
  ['v1, Streamable HTTP session', 'v1', false],
  ['v2, initialize-era session', 'v2-legacy', false],
  ['v2, 2026 era', 'v2', false],
  ['v1, legacy SSE', 'v1', true],
];

describe.each(WAYS)('docker_remove_container confirmed over HTTP (%s)', (_label, kind, sse) => {
  const removeWith = async (answer: UserAnswer) => {
    const c = await makeContainer({ start: false });
    const client = await askingClient({
      kind,
      sse,
      url: server.base,
      headers: bearer(tokens.alice),
      answer: () => answer,
    });
    try {
      const result = await client.callTool('docker_remove_container', { container_id: c.name });
      return { c, result, asked: client.asked };
    } finally {
      await client.close();
    }
  };

  it('asks naming the container and removes it on accept; audited accepted', async () => {
    const { c, result, asked } = await removeWith('accept');
    expect(asked).toHaveLength(1);
    expect(asked[0]?.message).toContain(`remove container '${c.name}'`);
    expect(structured<{ removed: boolean }>(result).removed).toBe(true);
    expect(await containerExists(c.id)).toBe(false);
    const lines = await auditOf(c.name);
    expect(lines.map((l) => l.outcome)).toEqual(['input_required', 'ok']);
    expect(lines[1]?.confirmation).toBe('accepted');
    expect(lines[1]?.client_id).toBe('alice');
  });

  it('changes nothing on decline; audited declined', async () => {
    const { c, result } = await removeWith('decline');
    const err = errorOf(result);
    expect(err.kind).toBe('cancelled');
    expect(err.message).toContain('the user declined; nothing changed');
    expect(await containerExists(c.id)).toBe(true);
    expect((await auditOf(c.name)).at(-1)?.confirmation).toBe('declined');
  });
});

describe('HTTP callers that are not asked', () => {
  it('a client that cannot ask runs under the default fallback, audited unconfirmed', async () => {
    const c = await makeContainer({ start: false });
    const client = await askingClient({ kind: 'v1', url: server.base, headers: bearer(tokens.alice) });
    try {
      structured(await client.callTool('docker_remove_container', { container_id: c.name }));
      expect(await containerExists(c.id)).toBe(false);
      const lines = await auditOf(c.name);
      expect(lines).toHaveLength(1);
      expect(lines[0]?.confirmation).toBe('unconfirmed');
    } finally {
      await client.close();
    }
  });

  it('a credential whose profile says confirm: none is not asked', async () => {
    const c = await makeContainer({ start: false });
    const client = await askingClient({
      kind: 'v2',
      url: server.base,
      headers: bearer(tokens.robot),
      answer: () => 'decline',
    });
    try {
      structured(await client.callTool('docker_remove_container', { container_id: c.name }));
      expect(client.asked).toHaveLength(0);
      expect(await containerExists(c.id)).toBe(false);
    } finally {
      await client.close();
    }
  });
});

describe('--confirm-fallback refuse over HTTP', () => {
  it('refuses a client that cannot ask, telling it to ask the operator, and nothing changes', async () => {
    const strict = await serveHttp(['--allow-destructive', '--confirm-fallback', 'refuse']);
    for (const kind of ['v1', 'v2'] as const) {
      const c = await makeContainer({ start: false });
      const client = await askingClient({ kind, url: strict.base });
      try {
        const err = errorOf(await client.callTool('docker_remove_container', { container_id: c.name }));
        expect(err.kind).toBe('policy_denied');
        expect(err.message).toContain('cannot ask its user');
        expect(err.message).toContain('operator');
        expect(await containerExists(c.id)).toBe(true);
      } finally {
        await client.close();
      }
    }
  });
});

describe('a confirmation belongs to the credential that was asked', () => {
  const manual = async (t: string) => {
    const client = new Client(
      { name: 'mcp-docker-confirm-tests', version: '0' },
      {
        capabilities: { elicitation: { form: {} } },
        versionNegotiation: { mode: 'auto' },
        inputRequired: { autoFulfill: false },
      },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), {
        requestInit: { headers: bearer(t) },
      }),
    );
    return client;
  };

  it("refuses alice's state sent by bob, and nothing changes", async () => {
    const c = await makeContainer({ start: false });
    const alice = await manual(tokens.alice);
    const bob = await manual(tokens.bob);
    try {
      const params = { name: 'docker_remove_container', arguments: { container_id: c.name } };
      const asked = (await alice.callTool(params, { allowInputRequired: true } as never)) as {
        requestState?: string;
      };
      expect(asked.requestState).toBeString();
      const stolen = (await bob.callTool(
        acceptedRound(params, asked.requestState) as never,
        { allowInputRequired: true } as never,
      )) as CallToolResult;
      expect(errorOf(stolen).message).toContain('was given for another call');
      expect(await containerExists(c.id)).toBe(true);
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});
