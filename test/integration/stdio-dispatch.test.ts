/**
 * The stdio dispatcher answers the initialize-era hot path itself (transport/stdio.ts). Here the same
 * JSON-RPC lines go to it and to the SDK's serveStdio over the same server, against the real engine,
 * and the answers must be the same, message for message: the fast path may be cheaper, never different.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { PassThrough } from 'node:stream';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { Engine } from '../../src/docker/engine.ts';
import { createLogger } from '../../src/log.ts';
import { buildServer } from '../../src/server.ts';
import type { ServerDeps } from '../../src/tool-calls.ts';
import { catalogue } from '../../src/tools/index.ts';
import { LineTransport } from '../../src/transport/line-transport.ts';
import { LEGACY_PROTOCOL_VERSIONS, StdioDispatcher, stdioOf } from '../../src/transport/stdio.ts';
import { VERSION } from '../../src/version.ts';
import { cleanupContainers, makeContainer } from '../helpers/engine.ts';
import { pipelineEnv } from '../helpers/pipeline.ts';

type Json = Record<string, unknown>;

/** One connection: lines in, parsed lines out. */
class Wire {
  readonly input = new PassThrough();
  readonly output = new PassThrough();
  /** What the transport writes to: the output stream, each write handed on as it comes. */
  readonly sink = { write: (text: string) => this.output.write(text), flush: () => undefined };
  readonly received: Json[] = [];
  private waiters: (() => void)[] = [];

  constructor() {
    let buffered = '';
    this.output.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        this.received.push(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(message: Json): void {
    this.input.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  }

  /** The answer to request `id` (waits up to 10 s). */
  async answer(id: number | string): Promise<Json> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const hit = this.received.find((m) => m.id === id && !('method' in m));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no answer to ${id}: ${JSON.stringify(this.received)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
}

/** An engine of its own, found at `url` as DOCKER_HOST would give it. */
const hostAt = (url: string) => ({
  dockerHost: url,
  dockerConfigDir: '/nonexistent/.docker',
  tlsVerify: false,
  home: '/nonexistent',
  platform: process.platform,
});

const deps: ServerDeps = { catalogue, env: pipelineEnv(), version: VERSION };
const log = createLogger('fatal');

function dispatched(): Wire {
  const wire = new Wire();
  void new StdioDispatcher(new LineTransport(wire.input, wire.sink), stdioOf(deps), log).start();
  return wire;
}

function sdkOnly(): Wire {
  const wire = new Wire();
  serveStdio(() => buildServer(deps), { transport: new LineTransport(wire.input, wire.sink) });
  return wire;
}

const initialize = (id: number, protocolVersion = '2025-06-18') => ({
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 't', version: '1' } },
});

/** Sends the same requests to both and returns both answers to each, in order. */
async function both(requests: Json[]): Promise<[Json, Json][]> {
  const a = dispatched();
  const b = sdkOnly();
  const out: [Json, Json][] = [];
  for (const r of requests) {
    a.send(r);
    b.send(r);
    if (r.id !== undefined) out.push([await a.answer(r.id as number), await b.answer(r.id as number)]);
  }
  a.input.end();
  b.input.end();
  return out;
}

let running: string;
beforeAll(async () => {
  running = (await makeContainer({ name: 'dispatch' })).name;
});
afterAll(cleanupContainers);

describe('the stdio fast path answers as the SDK does', () => {
  it('negotiates the initialize-era versions the SDK supports, newest first', () => {
    const legacy = SUPPORTED_PROTOCOL_VERSIONS.filter((v) => v < '2026-07-28');
    expect(LEGACY_PROTOCOL_VERSIONS).toEqual(legacy);
    expect(LEGACY_PROTOCOL_VERSIONS[0]).toBe(LATEST_PROTOCOL_VERSION);
  });

  it('initialize, for a known and an unknown protocol version', async () => {
    for (const version of ['2025-06-18', '2024-11-05', '1999-01-01']) {
      const [[fast, sdk]] = (await both([initialize(1, version)])) as [[Json, Json]];
      expect(fast).toEqual(sdk);
      expect((fast.result as Json).protocolVersion).toBe(
        version === '1999-01-01' ? LATEST_PROTOCOL_VERSION : version,
      );
    }
  });

  it('ping, tools/list and tool calls: success, tool error, invalid argument, unknown tool', async () => {
    const answers = await both([
      initialize(1),
      { method: 'notifications/initialized' },
      { id: 2, method: 'ping' },
      { id: 3, method: 'tools/list' },
      {
        id: 4,
        method: 'tools/call',
        params: { name: 'docker_inspect_container', arguments: { container_id: running } },
      },
      {
        id: 5,
        method: 'tools/call',
        params: { name: 'docker_inspect_container', arguments: { container_id: 'mcpt-no-such-container' } },
      },
      { id: 6, method: 'tools/call', params: { name: 'docker_list_containers', arguments: { limit: -1 } } },
      { id: 7, method: 'tools/call', params: { name: 'docker_no_such_tool', arguments: {} } },
      { id: 'eight', method: 'tools/call', params: { name: 'docker_version' } },
    ]);
    expect(answers).toHaveLength(8);
    for (const [fast, sdk] of answers) expect(fast).toEqual(sdk);
    const fast = (i: number) => (answers[i] as [Json, Json])[0];
    expect(((fast(2).result as Json).tools as Json[]).map((t) => t.name)).toContain(
      'docker_inspect_container',
    );
    expect((fast(3).result as Json).isError).toBeUndefined();
    expect((fast(4).result as Json).isError).toBe(true);
    expect((fast(5).result as Json).isError).toBe(true);
    expect((fast(6).error as Json).code).toBe(-32602);
  });

  it('hands what it does not serve to the SDK, which first learns of the initialize', async () => {
    const answers = await both([
      initialize(1),
      { method: 'notifications/initialized' },
      { id: 2, method: 'prompts/list' },
      { id: 3, method: 'resources/templates/list' },
      { id: 4, method: 'tools/call', params: { name: 42 } },
      { id: 5, method: 'tools/call', params: { name: 'docker_version', arguments: [1] } },
      { id: 6, method: 'no/such/method' },
      { id: 7, method: 'tools/call', params: { name: 'docker_version' } },
    ]);
    for (const [fast, sdk] of answers) expect(fast).toEqual(sdk);
    const fast = (i: number) => (answers[i] as [Json, Json])[0];
    expect(((fast(1).result as Json).prompts as Json[]).length).toBeGreaterThan(0);
    for (const i of [3, 4, 5]) expect(fast(i).error).toBeDefined();
    expect((fast(6).result as Json).structuredContent).toBeDefined();
  });

  it('answers every request before initialize through the SDK, as it always did', async () => {
    const answers = await both([{ id: 1, method: 'tools/list' }, initialize(2), { id: 3, method: 'ping' }]);
    for (const [fast, sdk] of answers) expect(fast).toEqual(sdk);
  });
});

describe('the stdio fast path on its own', () => {
  it('connects to the engine once tools/list is answered, before any call', async () => {
    const engine = new Engine(hostAt(process.env.DOCKER_HOST as string));
    const wire = new Wire();
    const own: ServerDeps = { catalogue, env: pipelineEnv({ engine }), version: VERSION };
    void new StdioDispatcher(new LineTransport(wire.input, wire.sink), stdioOf(own), log).start();
    wire.send(initialize(1));
    await wire.answer(1);
    await Bun.sleep(200);
    expect(engine.info()).toBeUndefined(); // not before the client has listed the tools
    wire.send({ id: 2, method: 'tools/list' });
    await wire.answer(2);
    for (let i = 0; i < 50 && engine.info() === undefined; i++) await Bun.sleep(20);
    expect(engine.info()?.apiVersion).toMatch(/^1\.\d+$/);
    expect(wire.received.filter((m) => m.id !== undefined).map((m) => m.id)).toEqual([1, 2]);
    wire.input.end();
  });

  it('answers a first call as before when that early connection finds no engine', async () => {
    const engine = new Engine(hostAt('unix:///nonexistent/mcpt-early.sock'));
    const wire = new Wire();
    const own: ServerDeps = { catalogue, env: pipelineEnv({ engine }), version: VERSION };
    void new StdioDispatcher(new LineTransport(wire.input, wire.sink), stdioOf(own), log).start();
    wire.send(initialize(1));
    await wire.answer(1);
    wire.send({ id: 2, method: 'tools/list' });
    await wire.answer(2);
    await Bun.sleep(200);
    wire.send({ id: 3, method: 'tools/call', params: { name: 'docker_list_containers', arguments: {} } });
    const answer = (await wire.answer(3)) as { result: { isError: boolean; content: { text: string }[] } };
    expect(answer.result.isError).toBe(true);
    expect(answer.result.content[0]?.text).toContain('engine_unreachable');
    expect(engine.attempts()).toEqual([
      { url: 'unix:///nonexistent/mcpt-early.sock', source: 'DOCKER_HOST', outcome: 'no socket there' },
    ]);
    wire.input.end();
  });

  it('stops a call when the client cancels it, and sends no answer for it', async () => {
    const wire = dispatched();
    wire.send(initialize(1));
    await wire.answer(1);
    const started = Date.now();
    wire.send({
      id: 2,
      method: 'tools/call',
      params: { name: 'docker_exec_command', arguments: { container_id: running, command: 'sleep 30' } },
    });
    await Bun.sleep(300);
    wire.send({ method: 'notifications/cancelled', params: { requestId: 2, reason: 'test' } });
    // The next request is answered at once, and the cancelled one never is.
    wire.send({ id: 3, method: 'ping' });
    await wire.answer(3);
    await Bun.sleep(500);
    expect(wire.received.some((m) => m.id === 2)).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    wire.input.end();
  });
});
