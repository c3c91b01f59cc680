/**
 * Protocol fuzzing over stdio against the compiled binary (MCP_DOCKER_BIN), with no MCP client in
 * between. Malformed JSON, wrong JSON-RPC versions, missing or invalid ids and methods, batches,
 * oversized lines, binary garbage, both protocol eras' envelopes. The server must answer with a
 * JSON-RPC error or ignore the line, never exit, never write anything but JSON-RPC to stdout, and
 * still answer a valid request afterwards. Its engine is a recording stand-in: nothing real is touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fcParams, fuzzTimeout } from '../helpers/fuzz.ts';
import { ERA_2025, meta2026, type RawServer, startRaw } from '../helpers/raw-stdio.ts';
import { type RecordingEngine, recordingEngine } from '../helpers/recording-engine.ts';

let dir: string;
let rec: RecordingEngine;
let seq = 0;
const nextId = () => `h8-${++seq}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h8-proto-'));
  rec = await recordingEngine(join(dir, 'e.sock'));
});
afterAll(async () => {
  await rec.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A valid 2026-era request; the server must answer it after whatever came before. */
async function expectStillAnswers(s: RawServer): Promise<void> {
  const res = await s.request({
    jsonrpc: '2.0',
    id: nextId(),
    method: 'tools/call',
    params: { name: 'docker_version', arguments: {}, _meta: meta2026 },
  });
  expect(res.error).toBeUndefined();
  expect(res.result).toBeDefined();
}

/** Only JSON-RPC lines on stdout, and nothing left dangling after the last newline once it settles. */
async function expectCleanStdout(s: RawServer): Promise<void> {
  if (s.strays.length > 0)
    throw new Error(`non-protocol bytes on stdout: ${JSON.stringify(s.strays.slice(0, 3))}`);
  // A message may be mid-write; one still unterminated after a second never will be.
  for (let i = 0; i < 20 && s.partial() !== ''; i++) await Bun.sleep(50);
  if (s.partial() !== '')
    throw new Error(`unterminated bytes on stdout: ${JSON.stringify(s.partial().slice(0, 300))}`);
}

/** Codes for a request that is not valid JSON-RPC or MCP: parse error, invalid request, no such method, bad params. */
const REFUSAL_CODES = [-32700, -32600, -32601, -32602];

/** Every reply carrying one of `ids` is a JSON-RPC error with a refusal code, never a result. */
function expectOnlyRefusals(s: RawServer, ids: ReadonlySet<unknown>): void {
  for (const m of s.messages) {
    if (!ids.has(m.id) || !('result' in m || 'error' in m)) continue;
    if ('result' in m) throw new Error(`a mangled request got a result: ${JSON.stringify(m).slice(0, 300)}`);
    expect(REFUSAL_CODES).toContain((m.error as { code?: number } | undefined)?.code ?? 0);
  }
}

// ── generators ────────────────────────────────────────────────────────────────────────────────
const validRequest = fc.constantFrom(
  { method: 'tools/list', params: { _meta: meta2026 } },
  { method: 'tools/call', params: { name: 'docker_version', arguments: {}, _meta: meta2026 } },
  { method: 'ping', params: { _meta: meta2026 } },
);
const badVersion = fc.constantFrom<unknown>('1.0', '2', 2, 2.0001, null, '', ' 2.0', '2.0\u0000', undefined);
const badId = fc.constantFrom<unknown>(
  {},
  [],
  true,
  null,
  1.5,
  -0,
  Number.MAX_SAFE_INTEGER + 2,
  '',
  'x'.repeat(10_000),
);
const badMethod = fc.constantFrom<unknown>(
  undefined,
  null,
  42,
  '',
  'tools/cal',
  'TOOLS/LIST',
  'rpc.discover',
  '__proto__',
  'constructor',
  'tools/call\u0000',
  'x'.repeat(5000),
  'notifications/cancelled',
  'initialize',
);
/** Params of the right type (an object, or absent) with odd contents. */
const oddParams = fc.constantFrom<unknown>(
  undefined,
  {},
  { _meta: { 'io.modelcontextprotocol/protocolVersion': '1999-01-01' } },
  { _meta: { 'io.modelcontextprotocol/protocolVersion': 42 } },
  { _meta: { ...meta2026, 'io.modelcontextprotocol/clientCapabilities': 'all' } },
  { name: 'docker_version' },
  { name: 'docker_nope', arguments: {}, _meta: meta2026 },
  { name: 'docker_run_container', arguments: { image: 'x', privileged: 'yes' }, _meta: meta2026 },
  { name: 'docker_exec_command', arguments: '; rm -rf /', _meta: meta2026 },
  { name: 42, arguments: [], _meta: meta2026 },
  { protocolVersion: 'bogus', capabilities: 'x', clientInfo: 1 },
  JSON.parse('{"__proto__":{"polluted":true},"_meta":{}}'),
);
/** Params JSON-RPC does not allow (must be an object or array; MCP wants an object). */
const NON_OBJECT_PARAMS: readonly unknown[] = ['params', 7, null, true, [], [1, 2]];
const badParams = fc.oneof(oddParams, fc.constantFrom<unknown>(...NON_OBJECT_PARAMS, { _meta: null }));

/** Ids of mangled messages start with this, so their replies can be told apart. */
const MANGLED = 'mangled-';
const mangledMessage = fc
  .record({
    version: badVersion,
    id: fc.oneof(badId, fc.constant(MANGLED)),
    method: badMethod,
    params: badParams,
  })
  // A fresh id each time: a reply can only belong to this line.
  .map(({ version, id, method, params }) =>
    JSON.stringify({ jsonrpc: version, id: id === MANGLED ? `${MANGLED}${nextId()}` : id, method, params }),
  );

/** Of badMethod's strings, the ones that name a real method (answered with a result or an error). */
const MAYBE_METHODS = new Set(['initialize', 'notifications/cancelled']);
/** A request needs a string method; the other kinds of badMethod are garbage, not requests. */
const requestMethod = badMethod.filter((m): m is string => typeof m === 'string');
const wellFormedOddRequest = fc
  .record({ method: requestMethod, params: oddParams })
  .map(({ method, params }) => ({ jsonrpc: '2.0', id: nextId(), method, params }));

const garbageLine = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => s.replace(/\n/g, ' ')),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b.filter((x) => x !== 10)).toString('latin1')),
  fc.json().map((j) => j.slice(0, Math.max(1, Math.floor(j.length / 2)))), // truncated JSON
  fc.constantFrom(
    '{',
    '}',
    '[',
    ']',
    '[]',
    '{}',
    'null',
    'true',
    '0',
    '""',
    '{"jsonrpc":"2.0"}',
    '\u0000\u0001\u0002',
    '\uFEFF{}',
  ),
  mangledMessage,
  validRequest.map((r) =>
    JSON.stringify([
      { jsonrpc: '2.0', id: nextId(), ...r },
      { jsonrpc: '2.0', id: nextId(), ...r },
    ]),
  ),
  fc.constant(JSON.stringify({ jsonrpc: '2.0', id: 'nobody-asked', result: {} })),
  fc.constant(JSON.stringify({ jsonrpc: '2.0', id: 'nobody-asked', error: { code: 1, message: 'x' } })),
);

/** The ids of the mangled messages among `lines` (each one's own; see mangledMessage), also kept in allMangled. */
const allMangled = new Set<unknown>();
function mangledIds(lines: string[]): Set<unknown> {
  const ids = new Set<unknown>();
  for (const line of lines) {
    try {
      const id = (JSON.parse(line) as { id?: unknown } | null)?.id;
      if (typeof id === 'string' && id.startsWith(MANGLED)) {
        ids.add(id);
        allMangled.add(id);
      }
    } catch {
      // not JSON: no id
    }
  }
  return ids;
}

describe('stdio protocol fuzzing against the compiled binary', () => {
  let s: RawServer;
  beforeAll(() => {
    s = startRaw({ DOCKER_HOST: rec.host, MCP_LOG_LEVEL: 'error' });
  });
  afterAll(() => s.close());

  it(
    'garbage, mangled messages and batches never crash it or put non-JSON-RPC bytes on stdout',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(garbageLine, { minLength: 1, maxLength: 6 }), async (batch) => {
          await s.write(`${batch.join('\n')}\n`);
          await expectStillAnswers(s);
          expect(s.alive()).toBe(true);
          await expectCleanStdout(s);
          expectOnlyRefusals(s, mangledIds(batch));
        }),
        fcParams(60),
      );
    },
    fuzzTimeout(30_000),
  );

  it(
    'answers every well-formed request, however odd its method or params, with a result or a JSON-RPC error',
    async () => {
      await fc.assert(
        fc.asyncProperty(wellFormedOddRequest, async (req) => {
          const res = await s.request(req);
          // No such method (prototype names included): an error, never a result.
          if (!MAYBE_METHODS.has(req.method))
            expect((res.error as { code?: number } | undefined)?.code).toBe(-32601);
          if (res.error) {
            const e = res.error as { code?: unknown; message?: unknown };
            expect(Number.isInteger(e.code)).toBe(true);
            expect(typeof e.message).toBe('string');
          }
          await expectCleanStdout(s);
        }),
        fcParams(40),
      );
      await expectStillAnswers(s);
    },
    fuzzTimeout(30_000),
  );

  it('a request whose params are not an object gets a JSON-RPC error with its id, not silence', async () => {
    for (const method of ['tools/list', 'tools/call', 'initialize', 'ping'])
      for (const params of [...NON_OBJECT_PARAMS, { _meta: null }]) {
        const res = await s
          .request({ jsonrpc: '2.0', id: nextId(), method, params }, 3000)
          .catch((e: Error) => {
            throw new Error(`${method} with params ${JSON.stringify(params)}: ${e.message}`);
          });
        expect([-32600, -32602]).toContain((res.error as { code: number } | undefined)?.code ?? 0);
      }
    await expectStillAnswers(s);
  }, 60_000);

  it('a tools/call for an unknown tool is a JSON-RPC error; a bad argument is an isError result naming it', async () => {
    const unknown = await s.request({
      jsonrpc: '2.0',
      id: nextId(),
      method: 'tools/call',
      params: { name: 'docker_nope', arguments: {}, _meta: meta2026 },
    });
    expect((unknown.error as { code: number }).code).toBeLessThan(0);
    const bad = await s.request({
      jsonrpc: '2.0',
      id: nextId(),
      method: 'tools/call',
      params: { name: 'docker_inspect_container', arguments: { container_id: '../x' }, _meta: meta2026 },
    });
    const result = bad.result as { isError?: boolean; content: { text: string }[] };
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toContain("'container_id'");
    expect(rec.calls().filter((r) => r.path.includes('..'))).toHaveLength(0);
  });

  it('a 5 MB line holding a valid request is answered', async () => {
    const res = await s.request(
      {
        jsonrpc: '2.0',
        id: nextId(),
        method: 'tools/call',
        params: {
          name: 'docker_inspect_container',
          arguments: { container_id: 'a'.repeat(5_000_000) },
          _meta: meta2026,
        },
      },
      20_000,
    );
    expect((res.result as { isError?: boolean }).isError).toBe(true);
    await expectStillAnswers(s);
  });

  it('is still alive at the end, stdout held only JSON-RPC throughout, and no mangled request got a result', async () => {
    expect(s.alive()).toBe(true);
    await expectCleanStdout(s);
    // Late replies too: every mangled request sent so far, answered now or not at all, got only refusals.
    expectOnlyRefusals(s, allMangled);
    // JSON-RPC answers an invalid request with an error; the property above must have had some to check.
    const answered = s.messages.filter((m) => allMangled.has(m.id));
    console.log(
      `[fuzz] mangled requests with an id: ${allMangled.size}, answered with errors: ${answered.length}`,
    );
    expect(answered.length).toBeGreaterThan(0);
    expect(s.lines.length).toBeGreaterThan(50);
  });
});

describe('oversized input', () => {
  it('a line over the 10 MB limit is dropped and the server keeps serving', async () => {
    const s = startRaw({ DOCKER_HOST: rec.host, MCP_LOG_LEVEL: 'error' });
    try {
      await s.write(
        `{"jsonrpc":"2.0","id":"huge","method":"ping","params":{"pad":"${'x'.repeat(11 * 1024 * 1024)}"}}\n`,
      );
      await expectStillAnswers(s);
      expect(s.alive()).toBe(true);
      await expectCleanStdout(s);
    } finally {
      await s.close();
    }
  }, 30_000);
});

describe('the initialize-era protocol under the same abuse', () => {
  it('after a 2025 initialize handshake, garbage is ignored or answered and the session keeps working', async () => {
    const s = startRaw({ DOCKER_HOST: rec.host, MCP_LOG_LEVEL: 'error' });
    try {
      const init = await s.request({
        jsonrpc: '2.0',
        id: nextId(),
        method: 'initialize',
        params: { protocolVersion: ERA_2025, capabilities: {}, clientInfo: { name: 'h8', version: '0' } },
      });
      expect(init.result).toBeDefined();
      await s.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
      const lines = fc.sample(garbageLine, { numRuns: 80, seed: 8 });
      await s.write(`${lines.join('\n')}\n`);
      // A second initialize on the same session, then normal 2025 requests (no _meta envelope).
      await s.request({
        jsonrpc: '2.0',
        id: nextId(),
        method: 'initialize',
        params: { protocolVersion: '1900-01-01', capabilities: {}, clientInfo: { name: 'h8', version: '0' } },
      });
      const list = await s.request({ jsonrpc: '2.0', id: nextId(), method: 'tools/list', params: {} });
      expect((list.result as { tools: unknown[] }).tools.length).toBeGreaterThan(10);
      const call = await s.request({
        jsonrpc: '2.0',
        id: nextId(),
        method: 'tools/call',
        params: { name: 'docker_version', arguments: {} },
      });
      expect(call.result).toBeDefined();
      expect(s.alive()).toBe(true);
      await expectCleanStdout(s);
      expectOnlyRefusals(s, mangledIds(lines));
    } finally {
      await s.close();
    }
  }, 30_000);
});
