/**
 * Fault injection against a real engine of our own (a private dockerd we may stop and kill), with
 * the compiled binary over stdio: the engine stopped mid-session, killed during long operations,
 * and the client cancelling or disconnecting mid-operation. Every case is bounded in seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorOf, type RunningServer, SERVER_BIN, startServer } from '../helpers/client.ts';
import { TEST_IMAGE } from '../helpers/engine.ts';
import {
  disposeFaultEngine,
  type FaultEngine,
  faultEngine,
  fdCount,
  sleep,
} from '../helpers/fault-engine.ts';
import { buildFixtures } from '../helpers/fixtures.ts';
import { meta2026, type RawServer, startRaw } from '../helpers/raw-stdio.ts';
import { type RecordingEngine, recordingEngine } from '../helpers/recording-engine.ts';

const DIR = `/tmp/mcpt-fault-${process.pid}-e`;
let engine: FaultEngine;
/** The engine under test keeps its default bridge whatever our private engine does (see fault-engine.ts). */
const hasDocker0 = () => existsSync('/sys/class/net/docker0');
const docker0Before = hasDocker0();

beforeAll(async () => {
  engine = faultEngine(DIR);
  await engine.start();
}, 60_000);

afterAll(async () => {
  await disposeFaultEngine(engine);
  rmSync(DIR, { recursive: true, force: true });
}, 60_000);

const elapsed = async <T>(p: Promise<T>): Promise<[T, number]> => {
  const t = Date.now();
  const v = await p;
  return [v, Date.now() - t];
};
let seq = 0;

/** The build fixture whose one step runs `sleep 30`; NONCE makes every build miss the cache. */
const SLOW_BUILD = join(buildFixtures(), 'slow');

/** The slow fixture's step containers for `nonce` on the private engine (their env has NONCE); `all` adds stopped ones. */
async function stepContainers(nonce: string, all = false): Promise<string[]> {
  const ids = (await engine.dockerAsync('ps', '-q', ...(all ? ['-a'] : []))).split('\n').filter(Boolean);
  const out: string[] = [];
  for (const id of ids) {
    const env = await engine.dockerAsync('inspect', '--format', '{{json .Config.Env}}', id).catch(() => '');
    if (env.includes(`NONCE=${nonce}`)) out.push(id);
  }
  return out;
}

/** Waits until the step container for `nonce` runs (the build is mid-step, in its `sleep 30`). */
async function slowStepRunning(nonce: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await stepContainers(nonce)).length > 0) return;
    await sleep(100);
  }
  throw new Error(`the build step for ${nonce} never started`);
}
const imagePresent = async (ref: string) => (await engine.dockerAsync('images', '-q', ref)).trim() !== '';

/** A container on the private engine that prints a line every 0.2 s forever. */
const ticker = () =>
  engine
    .docker(
      'run',
      '-d',
      '--network',
      'none',
      '--label',
      'mcp-docker-test=fault',
      TEST_IMAGE,
      'sh',
      '-c',
      'while true; do echo tick; sleep 0.2; done',
    )
    .trim();

describe('engine stopped mid-session', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ client: 'v2', env: { DOCKER_HOST: engine.host } });
  });
  afterAll(() => server.close());

  it('calls fail fast with engine_unreachable naming the endpoint, and the same session works once it is back', async () => {
    const before = await server.client.callTool('docker_list_containers', { all: true });
    expect(before.isError).toBeFalsy();

    await engine.stop();
    try {
      for (let i = 0; i < 2; i++) {
        const [down, ms] = await elapsed(server.client.callTool('docker_list_containers', { all: true }));
        expect(down.isError).toBe(true);
        const err = errorOf(down);
        expect(err.kind).toBe('engine_unreachable');
        expect(err.message).toContain(engine.host);
        expect(ms).toBeLessThan(5_000);
      }
    } finally {
      await engine.start();
    }
    const after = await server.client.callTool('docker_list_containers', { all: true });
    expect(after.isError).toBeFalsy();
  }, 60_000);
});

describe('an engine error that quotes an argument back', () => {
  // 20 KB: the engine quotes it whole (a 20 KB error). Over ~64 KB runc itself hangs on the message.
  it('a 20 KB argv[0] the engine cannot run comes back as a short error, not a 20 KB one', async () => {
    const server = await startServer({ client: 'v2', env: { DOCKER_HOST: engine.host } });
    try {
      const huge = 'y'.repeat(20_000);
      const result = await server.client.callTool('docker_run_container', {
        image: TEST_IMAGE,
        command: [huge],
        network_mode: 'none',
        labels: { 'mcp-docker-test': 'fault' },
      });
      const err = errorOf(result);
      // The engine's own message ('exec: "yyy…": executable file not found'), its middle cut out; a cut
      // keeps no part of a word (a secret's name or value could be that word), so the 20 KB one goes whole.
      expect(err.message).toContain('exec: …');
      expect(err.message).not.toContain('yyyy');
      expect(err.message).toMatch(/executable file not found|no such file/);
      expect(JSON.stringify(result).length).toBeLessThan(4096);
      // Nothing half-made is left: the failed start removed the container.
      expect(engine.docker('ps', '-aq', '--filter', 'label=mcp-docker-test=fault').trim()).toBe('');
    } finally {
      await server.close();
    }
  }, 30_000);
});

describe('engine killed during a long operation', () => {
  let server: RunningServer;
  let pid: number;
  beforeAll(async () => {
    server = await startServer({ client: 'v2', env: { DOCKER_HOST: engine.host } });
    await server.client.callTool('docker_version', {});
    pid = newestServerPid();
  });
  afterAll(() => server.close());

  for (const [what, tool, args] of [
    [
      'following logs (wait for a log line that never comes)',
      'docker_wait_container',
      { until: 'log', pattern: 'never-printed', timeout: 120 },
    ],
    ['streaming events', 'docker_events', { max_wait: 60, max_events: 100_000 }],
  ] as const) {
    it(`${what}: the call ends with a clear error within seconds, no hang, no leaked stream`, async () => {
      // Only the log wait needs a container; without one the engine restarts faster (no live shim to restore).
      const id = tool === 'docker_wait_container' ? ticker() : '';
      const fdsBefore = fdCount(pid);
      const call = elapsed(
        server.client.callTool(
          tool,
          { ...(tool === 'docker_wait_container' && { container_id: id }), ...args },
          { timeout: 90_000 },
        ),
      );
      await sleep(1_500);
      await engine.kill();
      const [result, ms] = await call;
      console.log(`[fault] ${tool}: answered ${ms} ms after the call began (engine killed at 1.5 s)`);
      const t0 = Date.now();
      expect(ms).toBeLessThan(1_500 + 10_000);
      expect(result.isError).toBe(true);
      const err = errorOf(result);
      expect(err.kind).toBe('engine_unreachable');
      await engine.start();
      if (id) engine.docker('rm', '-f', id);
      console.log(`[fault] engine back and container removed in ${Date.now() - t0} ms`);
      const again = await server.client.callTool('docker_version', {});
      expect(again.isError).toBeFalsy();
      // The dead stream's socket is gone: no more open descriptors than before (small slack for the new connection).
      expect(fdCount(pid)).toBeLessThanOrEqual(fdsBefore + 2);
    }, 60_000);
  }

  it('a build whose step sleeps: the call ends with engine_unreachable within seconds, no hang, no leaked stream, no tag', async () => {
    const nonce = `h8-${process.pid}-${Date.now()}`;
    const tag = `mcpt-h8-build:${process.pid}`;
    const fdsBefore = fdCount(pid);
    const call = elapsed(
      server.client.callTool(
        'docker_build_image',
        { path: SLOW_BUILD, tag, build_args: { NONCE: nonce } },
        { timeout: 90_000 },
      ),
    );
    await slowStepRunning(nonce);
    const killedAt = Date.now();
    await engine.kill();
    const [result, ms] = await call;
    const after = Date.now() - killedAt;
    console.log(
      `[fault] docker_build_image: answered ${after} ms after the engine was killed (call took ${ms} ms)`,
    );
    expect(after).toBeLessThan(10_000);
    const err = errorOf(result);
    expect(err.kind).toBe('engine_unreachable');
    const t0 = Date.now();
    await engine.start();
    console.log(`[fault] engine back in ${Date.now() - t0} ms`);
    expect(await imagePresent(tag)).toBe(false);
    // The daemon died before its builder could remove the step's container: tidy up.
    const left = await stepContainers(nonce, true);
    if (left.length > 0) await engine.dockerAsync('rm', '-f', ...left);
    const again = await server.client.callTool('docker_version', {});
    expect(again.isError).toBeFalsy();
    expect(fdCount(pid)).toBeLessThanOrEqual(fdsBefore + 2);
  }, 90_000);
});

/** The newest child of this test process running the server binary. */
function newestServerPid(): number {
  let newest = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${name}/cmdline`, 'utf8').startsWith(SERVER_BIN))
        newest = Math.max(newest, Number(name));
    } catch {
      // gone
    }
  }
  if (!newest) throw new Error(`no running ${SERVER_BIN} child found`);
  return newest;
}

describe('client cancels or disconnects mid-operation', () => {
  let proxy: RecordingEngine;
  let s: RawServer;
  beforeAll(async () => {
    proxy = await recordingEngine(join(DIR, 'p.sock'), { upstream: engine.socketPath });
  });
  afterAll(() => proxy.close());

  const call = (name: string, args: Record<string, unknown>) => {
    const id = `fault-${++seq}`;
    void s.write(
      `${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: meta2026 } })}\n`,
    );
    return id;
  };
  const waitForRequest = async (match: (path: string) => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const r = proxy.requests.find((x) => match(x.path));
      if (r) return r;
      await sleep(50);
    }
    throw new Error(`the engine never saw a request matching ${match}`);
  };

  it('cancelling an exec aborts the engine request and no success is reported for it', async () => {
    s = startRaw({ DOCKER_HOST: proxy.host, MCP_LOG_LEVEL: 'error' });
    try {
      const container = ticker();
      proxy.clear();
      const id = call('docker_exec_command', { container_id: container, command: 'sleep 30', timeout: 60 });
      const start = await waitForRequest((p) => /^\/exec\/[^/]+\/start/.test(p));
      await s.write(
        `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'test' } })}\n`,
      );
      const end = Date.now() + 5_000;
      while (!start.abortedByClient && Date.now() < end) await sleep(50);
      expect(start.abortedByClient).toBe(true);
      await sleep(500);
      const answer = s.messages.find((m) => m.id === id) as { result?: { isError?: boolean } } | undefined;
      // Per MCP a cancelled request gets no response; if one comes it must not be a success.
      if (answer) expect(answer.result?.isError ?? true).toBe(true);
      engine.docker('rm', '-f', container);
    } finally {
      await s.close();
    }
  }, 30_000);

  it('disconnecting mid-exec (stdin closed): after the grace the engine request is aborted, the call answered cancelled, the server exits', async () => {
    s = startRaw({ DOCKER_HOST: proxy.host, MCP_LOG_LEVEL: 'error' }, ['--shutdown-grace', '1']);
    const container = ticker();
    proxy.clear();
    const id = call('docker_exec_command', { container_id: container, command: 'sleep 30', timeout: 60 });
    const start = await waitForRequest((p) => /^\/exec\/[^/]+\/start/.test(p));
    s.child.stdin.end();
    // Grace 1 s, then up to 1 s for the cancelled answer.
    const end = Date.now() + 7_000;
    while ((!start.abortedByClient || s.alive()) && Date.now() < end) await sleep(50);
    expect(start.abortedByClient).toBe(true);
    expect(s.alive()).toBe(false);
    const answer = s.messages.find((m) => m.id === id) as
      | { result?: { structuredContent?: unknown } }
      | undefined;
    expect(answer?.result?.structuredContent).toMatchObject({ kind: 'cancelled' });
    engine.docker('rm', '-f', container);
  }, 30_000);
});

describe('client disconnects mid-build', () => {
  let proxy: RecordingEngine;
  beforeAll(async () => {
    proxy = await recordingEngine(join(DIR, 'pb.sock'), { upstream: engine.socketPath });
  });
  afterAll(() => proxy.close());

  it('stdin closed during a build step: after the grace the engine request is closed, the call answered cancelled, no tag is left', async () => {
    const s = startRaw({ DOCKER_HOST: proxy.host, MCP_LOG_LEVEL: 'error' }, ['--shutdown-grace', '1']);
    try {
      const nonce = `h8-${process.pid}-${Date.now()}-d`;
      const tag = `mcpt-h8-build:${process.pid}-d`;
      const id = 'build-disconnect';
      await s.write(
        `${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'docker_build_image', arguments: { path: SLOW_BUILD, tag, build_args: { NONCE: nonce } }, _meta: meta2026 } })}\n`,
      );
      await slowStepRunning(nonce);
      const build = proxy.requests.find((r) => r.path.startsWith('/build'));
      expect(build?.finished).toBe(false);
      s.child.stdin.end();
      const end = Date.now() + 7_000;
      while ((!build?.abortedByClient || s.alive()) && Date.now() < end) await sleep(50);
      expect(build?.abortedByClient).toBe(true);
      expect(s.alive()).toBe(false);
      const answer = s.messages.find((m) => m.id === id) as
        | { result?: { structuredContent?: unknown } }
        | undefined;
      expect(answer?.result?.structuredContent).toMatchObject({ kind: 'cancelled' });
      // The engine stops the build when its request goes: the step's container goes and no tag appears.
      const gone = Date.now() + 20_000;
      while (Date.now() < gone && (await stepContainers(nonce, true)).length > 0) await sleep(200);
      expect(await stepContainers(nonce, true)).toEqual([]);
      expect(await imagePresent(tag)).toBe(false);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('the private engine', () => {
  it("leaves the host's docker0 bridge alone (the engine under test builds and runs on it)", async () => {
    await engine.stop();
    await engine.start();
    expect(hasDocker0()).toBe(docker0Before);
  }, 60_000);
});
