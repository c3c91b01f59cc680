/**
 * Graceful shutdown of the HTTP transport, end to end: the compiled binary gets SIGTERM while calls are
 * running, over every kind of HTTP client. It must wait the configured grace, cancel what still runs,
 * exit 0 within a bound, and every client must learn its call ended instead of waiting forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { cleanupContainers, makeContainer } from '../helpers/engine.ts';
import { killSpawned, serveHttp } from '../helpers/http-binary.ts';

const info = { name: 'mcp-docker-shutdown-e2e', version: '0.0.0' };
const GRACE_SECONDS = 2;

let box: { name: string };
beforeAll(async () => {
  box = await makeContainer();
});

afterAll(async () => {
  killSpawned();
  await cleanupContainers();
});

/** How a call ended: a result (its text, whether an error) or a thrown error, and when. */
type Ending =
  | { how: 'result'; isError: boolean; text: string; at: number }
  | { how: 'threw'; message: string; at: number };
const ending = (call: Promise<unknown>): Promise<Ending> =>
  call.then(
    (r) => {
      const { isError, content } = r as { isError?: boolean; content?: { text?: string }[] };
      const text = (content ?? []).map((c) => c.text ?? '').join('\n');
      return { how: 'result', isError: Boolean(isError), text, at: performance.now() };
    },
    (e: Error) => ({ how: 'threw', message: e.message, at: performance.now() }),
  );

describe('SIGTERM with calls in flight', () => {
  it(`waits --shutdown-grace ${GRACE_SECONDS}s, cancels a 30 s exec, exits 0 within grace + 2 s; every client's call ends`, async () => {
    const r = await serveHttp(['--shutdown-grace', String(GRACE_SECONDS)]);
    const long = { name: 'docker_exec_command', arguments: { container_id: box.name, command: 'sleep 30' } };
    const opts = { timeout: 120_000 };

    const v2 = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await v2.connect(new V2Http(new URL(`${r.base}/mcp`)));
    const v1 = new V1Client(info);
    await v1.connect(new V1Http(new URL(`${r.base}/mcp`)));
    const sse = new V1Client(info);
    await sse.connect(new V1Sse(new URL(`${r.base}/sse`)));

    const calls = [
      ending(v2.callTool(long, opts)),
      ending(v1.callTool(long, undefined, opts)),
      ending(sse.callTool(long, undefined, opts)),
    ];
    // Let all three reach the engine.
    await Bun.sleep(1000);
    const signalled = performance.now();
    r.proc.kill('SIGTERM');
    const code = await Promise.race([r.proc.exited, Bun.sleep(15_000).then(() => 'still running')]);
    const exitedAfter = performance.now() - signalled;
    expect(code).toBe(0);
    // The grace was honoured (the calls were not cut at once) and shutdown is bounded.
    expect(exitedAfter).toBeGreaterThan(GRACE_SECONDS * 1000 - 200);
    expect(exitedAfter).toBeLessThan(GRACE_SECONDS * 1000 + 2000);
    expect(r.stderr()).toContain(`waiting up to ${GRACE_SECONDS}s for 3 call(s)`);

    // No client hangs: each call has ended, with an error result or a transport error, soon after exit.
    const ended = await Promise.race([
      Promise.all(calls),
      Bun.sleep(5000).then(() => 'a call is still waiting' as const),
    ]);
    expect(ended).not.toBe('a call is still waiting');
    // Each learns why: the cancelled call is answered, not cut off.
    for (const e of ended as Ending[]) {
      expect(e).toMatchObject({ how: 'result', isError: true });
      expect(e.how === 'result' && e.text).toContain('cancelled: the server is shutting down');
      expect(e.at - signalled).toBeLessThan(GRACE_SECONDS * 1000 + 2000);
    }
    await Promise.allSettled([v2.close(), v1.close(), sse.close()]);
  }, 30_000);
});
