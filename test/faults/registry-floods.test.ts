/**
 * Fault injection around long transfers and floods, on a private dockerd: a registry that is down
 * or stalls during pull/push (a loopback proxy in front of the test registry), the client cancelling
 * or the engine dying mid-pull, and output floods (logs written flat out, an exec printing 1 GB)
 * with the compiled server's peak RSS measured and printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistries, type TestRegistries } from '../../scripts/registry.ts';
import type { AnyTool } from '../../src/core/tool.ts';
import { Engine } from '../../src/docker/engine.ts';
import { runPipeline } from '../../src/pipeline/run.ts';
import { catalogue } from '../../src/tools/index.ts';
import { TEST_IMAGE } from '../helpers/engine.ts';
import {
  disposeFaultEngine,
  type FaultEngine,
  faultEngine,
  fdCount,
  sleep,
} from '../helpers/fault-engine.ts';
import { expectActionableError } from '../helpers/fuzz.ts';
import { pipelineEnv } from '../helpers/pipeline.ts';
import { meta2026, type RawServer, startRaw } from '../helpers/raw-stdio.ts';
import { type RecordingEngine, recordingEngine } from '../helpers/recording-engine.ts';
import { type StallProxy, stallProxy } from '../helpers/stall-proxy.ts';

const DIR = `/tmp/mcpt-fault-${process.pid}-r`;
let engine: FaultEngine;
let registries: TestRegistries | undefined;
let registry: string;
let stall: StallProxy;
const REPO = `mcpt-h8/busybox:${process.pid}`;

beforeAll(async () => {
  engine = faultEngine(DIR);
  await engine.start();
  registry = process.env.MCP_DOCKER_TEST_REGISTRY ?? '';
  if (!registry) {
    registries = await startRegistries();
    registry = registries.env.MCP_DOCKER_TEST_REGISTRY ?? '';
  }
  const [host, port] = registry.split(':');
  stall = await stallProxy({ host: host ?? '127.0.0.1', port: Number(port) });
  // The image the pulls fetch, in the test registry through the proxy's address.
  engine.docker('tag', TEST_IMAGE, `${stall.address}/${REPO}`);
  await engine.dockerAsync('push', `${stall.address}/${REPO}`);
  engine.docker('rmi', `${stall.address}/${REPO}`);
}, 90_000);

afterAll(async () => {
  await stall?.close();
  await registries?.stop();
  await disposeFaultEngine(engine);
  rmSync(DIR, { recursive: true, force: true });
}, 60_000);

const tool = (name: string) => catalogue.find((t) => t.name === name) as AnyTool;
const privateEngine = () =>
  new Engine({
    dockerHost: engine.host,
    dockerConfigDir: '/nonexistent',
    tlsVerify: false,
    home: '/nonexistent',
    platform: 'linux',
  });

describe('registry down or slow during pull/push', () => {
  for (const name of ['docker_pull_image', 'docker_push_image'] as const) {
    it(`${name} to a registry nobody listens on fails fast with a clear error naming it`, async () => {
      const image = `127.0.0.1:9/${REPO}`;
      if (name === 'docker_push_image') engine.docker('tag', TEST_IMAGE, image);
      try {
        const t = Date.now();
        const out = await runPipeline(tool(name), { image }, pipelineEnv({ engine: privateEngine() }));
        const ms = Date.now() - t;
        console.log(`[fault] ${name} to 127.0.0.1:9 answered after ${ms} ms`);
        expect(out.ok).toBe(false);
        if (!out.ok) {
          expectActionableError(out.error);
          expect(out.error.message).toContain('127.0.0.1:9');
        }
        expect(ms).toBeLessThan(10_000);
      } finally {
        if (name === 'docker_push_image') engine.docker('rmi', image);
      }
    }, 20_000);
  }

  for (const name of ['docker_pull_image', 'docker_push_image'] as const) {
    it(`${name} against a registry that stalls is bounded by the tool timeout, with a timeout error`, async () => {
      if (name === 'docker_push_image') engine.docker('tag', TEST_IMAGE, `${stall.address}/${REPO}`);
      stall.mode = 'stall';
      try {
        // The real tool and pipeline; only the tool's 30-minute budget is shortened so the test is seconds.
        const short = { ...tool(name), timeoutMs: 3_000 };
        const acceptedBefore = stall.accepted;
        const t = Date.now();
        const out = await runPipeline(
          short,
          { image: `${stall.address}/${REPO}` },
          pipelineEnv({ engine: privateEngine(), timeoutMs: 3_000 }),
        );
        const ms = Date.now() - t;
        console.log(`[fault] ${name} against a stalled registry answered after ${ms} ms`);
        expect(ms).toBeLessThan(8_000);
        expect(out.ok).toBe(false);
        if (!out.ok) {
          expect(out.error.kind).toBe('timeout');
          expectActionableError(out.error);
        }
        // This call's engine reached the stalled registry (the setup push had counted already).
        expect(stall.accepted).toBeGreaterThan(acceptedBefore);
      } finally {
        stall.mode = 'pass';
        if (name === 'docker_push_image') engine.docker('rmi', `${stall.address}/${REPO}`);
      }
    }, 30_000);
  }
});

describe('pull interrupted', () => {
  let proxy: RecordingEngine;
  let s: RawServer;
  beforeAll(async () => {
    proxy = await recordingEngine(join(DIR, 'p.sock'), { upstream: engine.socketPath });
  });
  afterAll(() => proxy.close());
  let seq = 0;

  const startPull = () => {
    const id = `pull-${++seq}`;
    void s.write(
      `${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'docker_pull_image', arguments: { image: `${stall.address}/${REPO}` }, _meta: meta2026 } })}\n`,
    );
    return id;
  };
  const waitForPullRequest = async () => {
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      const r = proxy.requests.find((x) => x.path.startsWith('/images/create'));
      if (r) return r;
      await sleep(50);
    }
    throw new Error('the engine never saw the pull request');
  };

  it('the client cancelling a pull aborts the engine request; no success is reported', async () => {
    s = startRaw({ DOCKER_HOST: proxy.host, MCP_LOG_LEVEL: 'error' });
    stall.mode = 'stall';
    try {
      proxy.clear();
      const id = startPull();
      const pull = await waitForPullRequest();
      await sleep(300);
      await s.write(
        `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } })}\n`,
      );
      const end = Date.now() + 5_000;
      while (!pull.abortedByClient && Date.now() < end) await sleep(50);
      expect(pull.abortedByClient).toBe(true);
      await sleep(300);
      const answer = s.messages.find((m) => m.id === id) as { result?: { isError?: boolean } } | undefined;
      if (answer) expect(answer.result?.isError ?? true).toBe(true);
    } finally {
      stall.mode = 'pass';
      await s.close();
    }
  }, 30_000);

  it('the client disconnecting mid-pull (stdin closed): after the grace the engine request is aborted, the call answered cancelled, the server exits', async () => {
    s = startRaw({ DOCKER_HOST: proxy.host, MCP_LOG_LEVEL: 'error' }, ['--shutdown-grace', '1']);
    stall.mode = 'stall';
    try {
      proxy.clear();
      const id = startPull();
      const pull = await waitForPullRequest();
      await sleep(300);
      expect(pull.finished).toBe(false);
      s.child.stdin.end();
      const end = Date.now() + 7_000;
      while ((!pull.abortedByClient || s.alive()) && Date.now() < end) await sleep(50);
      expect(pull.abortedByClient).toBe(true);
      expect(s.alive()).toBe(false);
      const answer = s.messages.find((m) => m.id === id) as
        | { result?: { structuredContent?: unknown } }
        | undefined;
      expect(answer?.result?.structuredContent).toMatchObject({ kind: 'cancelled' });
    } finally {
      stall.mode = 'pass';
      await s.close();
    }
  }, 30_000);

  it('the engine killed mid-pull ends the call with engine_unreachable, no hang, no leaked stream', async () => {
    s = startRaw({ DOCKER_HOST: engine.host, MCP_LOG_LEVEL: 'error' });
    const version = () =>
      s.request({
        jsonrpc: '2.0',
        id: `pull-${++seq}`,
        method: 'tools/call',
        params: { name: 'docker_version', arguments: {}, _meta: meta2026 },
      }) as Promise<{ result?: { isError?: boolean } }>;
    stall.mode = 'stall';
    let restarted = false;
    try {
      await version(); // connected first, so the count below includes the engine connection
      const pid = s.child.pid as number;
      const fdsBefore = fdCount(pid);
      const id = startPull();
      await sleep(1_500);
      await engine.kill();
      const t = Date.now();
      const res = (await s.waitFor(id, 10_000)) as {
        result?: { isError?: boolean; structuredContent?: { kind?: string } };
      };
      console.log(`[fault] pull answered ${Date.now() - t} ms after the engine was killed`);
      expect(res.result?.isError).toBe(true);
      expect(res.result?.structuredContent?.kind).toBe('engine_unreachable');
      stall.mode = 'pass';
      await engine.start();
      restarted = true;
      expect((await version()).result?.isError).toBeFalsy();
      // The dead pull's socket is gone: no more open descriptors than before (slack for the new connection).
      expect(fdCount(pid)).toBeLessThanOrEqual(fdsBefore + 2);
    } finally {
      stall.mode = 'pass';
      await s.close();
      if (!restarted) await engine.start();
    }
  }, 60_000);
});

describe('floods', () => {
  let s: RawServer;
  beforeAll(() => {
    s = startRaw({ DOCKER_HOST: engine.host, MCP_LOG_LEVEL: 'error' });
  });
  afterAll(() => s.close());
  let seq = 0;
  const callTool = async (name: string, args: Record<string, unknown>, ms = 60_000) => {
    const res = await s.request(
      {
        jsonrpc: '2.0',
        id: `flood-${++seq}`,
        method: 'tools/call',
        params: { name, arguments: args, _meta: meta2026 },
      },
      ms,
    );
    return res.result as {
      isError?: boolean;
      structuredContent?: Record<string, unknown>;
      content: { text: string }[];
    };
  };

  it('an exec printing 1 GB comes back capped, with server memory bounded', async () => {
    const id = engine.docker('run', '-d', '--network', 'none', TEST_IMAGE, 'sleep', '600').trim();
    try {
      const base = s.peakRssMb();
      const t = Date.now();
      const r = await callTool(
        'docker_exec_command',
        {
          container_id: id,
          command: 'head -c 1000000000 /dev/zero | tr "\\0" x',
          timeout: 120,
        },
        150_000,
      );
      const bytes = JSON.stringify(r).length;
      const peak = s.peakRssMb();
      console.log(
        `[flood] exec 1 GB: ${Date.now() - t} ms, answer ${bytes} bytes, server peak RSS ${peak.toFixed(0)} MB (before ${base.toFixed(0)} MB)`,
      );
      expect(bytes).toBeLessThan(3 * 1024 * 1024);
      expect(peak).toBeLessThan(400);
      // The gigabyte really flowed and was capped: the exec kept only its tail and says what it dropped.
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent?.exit_code).toBe(0);
      expect(Number(r.structuredContent?.truncated_bytes)).toBeGreaterThan(990_000_000);
    } finally {
      engine.docker('rm', '-f', id);
    }
  }, 180_000);

  it('a container writing logs flat out: logs come back capped, with server memory bounded', async () => {
    const id = engine
      .docker(
        'run',
        '-d',
        '--network',
        'none',
        TEST_IMAGE,
        'sh',
        '-c',
        'yes 0123456789abcdef0123456789abcdef0123456789abcdef | head -c 150000000; sleep 600',
      )
      .trim();
    try {
      await sleep(4_000); // let it write
      const t = Date.now();
      const r = await callTool('docker_container_logs', { container_id: id, tail: 1_000_000 });
      const bytes = JSON.stringify(r).length;
      const peak = s.peakRssMb();
      console.log(
        `[flood] logs: ${Date.now() - t} ms, answer ${bytes} bytes, server peak RSS ${peak.toFixed(0)} MB`,
      );
      expect(bytes).toBeLessThan(3 * 1024 * 1024);
      expect(peak).toBeLessThan(400);
      expect(s.alive()).toBe(true);
      // A flood, capped by the tool itself: it keeps the newest lines and says how many it left out.
      expect(r.isError).toBeFalsy();
      const out = r.structuredContent as { count?: number; left_out?: number; note?: string } | undefined;
      console.log(`[flood] logs: ${out?.count} lines kept, ${out?.left_out} left out`);
      expect(out?.left_out ?? 0).toBeGreaterThan(0);
      expect(out?.count ?? 0).toBeGreaterThan(0);
    } finally {
      engine.docker('rm', '-f', id);
    }
  }, 120_000);
});
