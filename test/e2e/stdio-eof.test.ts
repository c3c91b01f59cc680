/**
 * The end of stdin is not the end of the work: requests piped in and followed at once by EOF
 * (`printf '…' | mcp-docker`) each get exactly one answer before the binary exits 0. Calls that finish
 * within --shutdown-grace answer normally; one that outlasts it answers `cancelled`. Both stdio paths:
 * the fast path (initialize-era tools) and the SDK's (prompts, resources, every 2026-era request).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { cleanupContainers, makeContainer, uniqueName } from '../helpers/engine.ts';
import { meta2026, type RawServer, startRaw } from '../helpers/raw-stdio.ts';

type Json = Record<string, unknown>;

const GRACE_SECONDS = 2;
/** After the grace: up to 1 s for the cancelled answers, plus start-up and the SDK's first load. */
const EXIT_MARGIN_MS = 4000;

let target: string;
beforeAll(async () => {
  target = (await makeContainer({ name: uniqueName('mcpt-eof') })).name;
});
afterAll(cleanupContainers);

/**
 * Writes every message in one go, closes stdin, and waits for the exit; returns the code and how long
 * it took. `unterminated`: the last line goes without its newline.
 */
async function pipeAndClose(
  messages: Json[],
  unterminated = false,
): Promise<{ s: RawServer; code: number | null; ms: number }> {
  const s = startRaw({ DOCKER_HOST: process.env.DOCKER_HOST ?? '', MCP_LOG_LEVEL: 'info' }, [
    '--shutdown-grace',
    String(GRACE_SECONDS),
  ]);
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  const text = messages.map((m) => `${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`).join('');
  await s.write(unterminated ? text.slice(0, -1) : text);
  const closedAt = Date.now();
  s.child.stdin.end();
  const killer = setTimeout(() => s.child.kill('SIGKILL'), GRACE_SECONDS * 1000 + EXIT_MARGIN_MS + 5000);
  const code = await exited;
  clearTimeout(killer);
  const ms = Date.now() - closedAt;
  await new Promise<void>((resolve) =>
    s.child.stdout.closed ? resolve() : s.child.stdout.once('close', () => resolve()),
  );
  return { s, code, ms };
}

/** Every request id answered exactly once, nothing answered that was not asked, only JSON-RPC on stdout. */
function expectEachAnsweredOnce(s: RawServer, requests: Json[]): Map<unknown, Json> {
  expect(s.strays).toEqual([]);
  expect(s.partial()).toBe('');
  const answers = s.messages.filter((m) => !('method' in m));
  const asked = requests.filter((r) => r.id !== undefined).map((r) => r.id);
  expect(answers.map((a) => a.id).sort()).toEqual([...asked].sort());
  return new Map(answers.map((a) => [a.id, a]));
}

/** The result answering `id` (a test failure when it is missing or an error). */
function resultOf<T = Json>(answers: Map<unknown, Json>, id: unknown): T {
  const answer = answers.get(id);
  if (!answer || !('result' in answer)) throw new Error(`no result for ${id}: ${JSON.stringify(answer)}`);
  return answer.result as T;
}

describe('piped stdin on the initialize-era fast path, with prompts and resources on the SDK path', () => {
  it('answers every request before exiting 0, the call that outlasts the grace as cancelled', async () => {
    const requests: Json[] = [
      {
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'eof', version: '1' },
        },
      },
      { method: 'notifications/initialized' },
      {
        id: 2,
        method: 'tools/call',
        params: { name: 'docker_list_containers', arguments: { filters: { name: [target] } } },
      },
      {
        id: 3,
        method: 'prompts/get',
        params: { name: 'troubleshoot_container', arguments: { container_id: target } },
      },
      { id: 4, method: 'resources/read', params: { uri: `container://logs/${target}` } },
      // Still running at EOF, done within the grace: its real answer.
      {
        id: 5,
        method: 'tools/call',
        params: { name: 'docker_wait_container', arguments: { container_id: target, timeout: 1 } },
      },
      // Outlasts the grace: cancelled, answered.
      {
        id: 6,
        method: 'tools/call',
        params: { name: 'docker_wait_container', arguments: { container_id: target, timeout: 600 } },
      },
      { id: 7, method: 'ping' },
    ];
    const { s, code, ms } = await pipeAndClose(requests);
    const answers = expectEachAnsweredOnce(s, requests);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000 - 200);
    expect(ms).toBeLessThan(GRACE_SECONDS * 1000 + EXIT_MARGIN_MS);

    expect(resultOf<Json>(answers, 1).protocolVersion).toBe('2025-06-18');
    const listed = resultOf<{ structuredContent: { containers: { name: string }[] } }>(answers, 2);
    expect(listed.structuredContent.containers.map((c) => c.name)).toEqual([target]);
    const prompt = resultOf<{ messages: unknown[] }>(answers, 3);
    expect(prompt.messages.length).toBeGreaterThan(0);
    const read = resultOf<{ contents: { uri: string }[] }>(answers, 4);
    expect(read.contents[0]?.uri).toBe(`container://logs/${target}`);
    const waited = resultOf<{ isError?: boolean; structuredContent: { met: boolean } }>(answers, 5);
    expect(waited.isError).toBeUndefined();
    expect(waited.structuredContent.met).toBe(false);
    const cancelled = resultOf<{ isError: boolean; content: { text: string }[] }>(answers, 6);
    expect(cancelled.isError).toBe(true);
    expect(cancelled.content[0]?.text).toStartWith(
      'cancelled: docker_wait_container was cancelled: the server is shutting down',
    );
    expect(resultOf(answers, 7)).toEqual({});
    expect(s.stderr()).toContain('cancelling 1 request(s) still running');
  });

  it('answers a last request whose line has no newline', async () => {
    const requests: Json[] = [
      {
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'eof', version: '1' },
        },
      },
      { method: 'notifications/initialized' },
      { id: 2, method: 'ping' },
    ];
    const { s, code } = await pipeAndClose(requests, true);
    expectEachAnsweredOnce(s, requests);
    expect(code).toBe(0);
  });

  it('exits 0 at once when nothing is running at EOF', async () => {
    const requests: Json[] = [
      {
        id: 'a',
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'eof', version: '1' },
        },
      },
      { method: 'notifications/initialized' },
      { id: 'b', method: 'tools/list' },
    ];
    const { s, code, ms } = await pipeAndClose(requests);
    const answers = expectEachAnsweredOnce(s, requests);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(GRACE_SECONDS * 1000);
    expect(resultOf<{ tools: unknown[] }>(answers, 'b').tools.length).toBeGreaterThan(0);
  });
});

describe('piped stdin on the SDK path (2026-era envelope on every request)', () => {
  it('answers every request before exiting 0, the call that outlasts the grace as cancelled', async () => {
    const requests: Json[] = [
      {
        id: 1,
        method: 'tools/call',
        params: {
          name: 'docker_list_containers',
          arguments: { filters: { name: [target] } },
          _meta: meta2026,
        },
      },
      {
        id: 2,
        method: 'prompts/get',
        params: { name: 'troubleshoot_container', arguments: { container_id: target }, _meta: meta2026 },
      },
      { id: 3, method: 'resources/read', params: { uri: `container://logs/${target}`, _meta: meta2026 } },
      {
        id: 4,
        method: 'tools/call',
        params: {
          name: 'docker_wait_container',
          arguments: { container_id: target, timeout: 600 },
          _meta: meta2026,
        },
      },
    ];
    const { s, code, ms } = await pipeAndClose(requests);
    const answers = expectEachAnsweredOnce(s, requests);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000 - 200);
    expect(ms).toBeLessThan(GRACE_SECONDS * 1000 + EXIT_MARGIN_MS);

    const listed = resultOf<{ structuredContent: { containers: { name: string }[] } }>(answers, 1);
    expect(listed.structuredContent.containers.map((c) => c.name)).toEqual([target]);
    expect(resultOf<{ messages: unknown[] }>(answers, 2).messages.length).toBeGreaterThan(0);
    expect(resultOf<{ contents: { uri: string }[] }>(answers, 3).contents[0]?.uri).toBe(
      `container://logs/${target}`,
    );
    const cancelled = resultOf<{ isError: boolean; structuredContent: Json }>(answers, 4);
    expect(cancelled.isError).toBe(true);
    expect(cancelled.structuredContent).toMatchObject({ kind: 'cancelled', retryable: true });
  });
});

describe('a call that is not idempotent, cut short by the shutdown', () => {
  it('is not retryable, says to check first, and keeps the output read so far', async () => {
    const requests: Json[] = [
      {
        id: 1,
        method: 'tools/call',
        params: {
          name: 'docker_exec_command',
          arguments: { container_id: target, command: 'echo partial; sleep 15' },
          _meta: meta2026,
        },
      },
    ];
    const { s, code } = await pipeAndClose(requests);
    const answers = expectEachAnsweredOnce(s, requests);
    expect(code).toBe(0);
    const cancelled = resultOf<{ isError: boolean; content: { text: string }[]; structuredContent: Json }>(
      answers,
      1,
    );
    expect(cancelled.isError).toBe(true);
    expect(cancelled.structuredContent).toMatchObject({ kind: 'cancelled', retryable: false });
    const text = cancelled.content[0]?.text ?? '';
    expect(text).toStartWith('cancelled: docker_exec_command was cancelled: the server is shutting down');
    expect(text).toContain('may still be running in the container');
    expect(text).toContain('«"partial"»');
    expect(text).toContain('check before calling it again');
    expect(text).not.toContain('Call again once the server is back');
  });
});

describe('a line that is not JSON', () => {
  it('is skipped with a warning on stderr, and the next request is answered', async () => {
    const s = startRaw({ DOCKER_HOST: process.env.DOCKER_HOST ?? '', MCP_LOG_LEVEL: 'info' });
    try {
      await s.write('this is not json\n');
      const answer = await s.request({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      });
      expect(answer.result).toBeDefined();
      expect(s.strays).toEqual([]);
      expect(s.stderr()).toContain('skipped a line that is not JSON (16 characters)');
    } finally {
      await s.close();
    }
  });
});
