/**
 * Many engines (issue 14), as figures, on the test bed of test/helpers/engines/ (the dev engine over
 * unix, a private dockerd over TCP+TLS with its own bridge, an sshd on 127.0.0.1 whose sessions reach
 * the dev engine):
 *   (a) per-call overhead on a second engine vs the first (both the dev engine, so the same work);
 *   (b) 100 calls over ssh://: SSH connections opened (the sshd's log counts them) and the median beside
 *       the unix and TCP+TLS figures, interleaved;
 *   (c) a call to a healthy engine while another configured engine is unreachable (a loopback listener
 *       that accepts and never answers, called all the while) vs all engines up;
 *   (d) peak RSS with four engines configured and each called vs one engine.
 * Part of `npm run bench` (skip with --no-engines); alone, `bun bench/engines.ts [--no-build]` runs only
 * these and rewrites their section of docs/BENCHMARKS.md in place (`--calls N`: calls per series). Needs root (a private dockerd, sshd).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bed, type EngineEntry, startBed } from '../test/helpers/engines/bed.ts';
import { replaceSection } from './docs.ts';
import { memory, StdioSession, summarize } from './lib.ts';
import type { EnginesReport } from './report.ts';
import { standalone } from './standalone.ts';

const INITIALIZE = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'mcp-docker-bench', version: '0' },
};

interface Options {
  bin: string;
  env: Record<string, string>;
  /** Calls per series (default 100: the "100 calls over ssh://"). */
  calls?: number;
  log?: (s: string) => void;
}

type CallResult = { isError?: boolean; content?: { text?: string }[] };

async function open(o: Options, args: string[]): Promise<StdioSession> {
  const s = new StdioSession([o.bin, ...args], o.env);
  await s.request('initialize', INITIALIZE, 30_000);
  s.notify('notifications/initialized');
  return s;
}

async function call(s: StdioSession, args: Record<string, unknown>, name = 'docker_version'): Promise<void> {
  const r = (await s.request('tools/call', { name, arguments: args }, 60_000)) as CallResult;
  if (r.isError) throw new Error(`${name} ${JSON.stringify(args)}: ${r.content?.[0]?.text?.slice(0, 300)}`);
}

/** Interleaved rounds (each round runs every series once, shuffled), after `warmup` untimed rounds. */
async function interleave(series: Record<string, () => Promise<unknown>>, n: number, warmup = 5) {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(series).map((k) => [k, []]));
  for (let i = 0; i < warmup + n; i++)
    for (const k of Object.keys(series).sort(() => Math.random() - 0.5)) {
      const t0 = performance.now();
      await series[k]?.();
      if (i >= warmup) times[k]?.push(performance.now() - t0);
    }
  return Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, { ...summarize(xs), samples: xs }]));
}

/** A loopback listener that accepts connections and never answers: an engine that hangs. */
async function stalledListener(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `tcp://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export async function runEngines(o: Options): Promise<EnginesReport> {
  const log = o.log ?? (() => {});
  const n = o.calls ?? 100;
  const sessions: StdioSession[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'mcp-bench-engines-'));
  const config = (name: string, engines: Record<string, EngineEntry>) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify({ engines }));
    return ['--config', file];
  };
  const start = async (args: string[]) => {
    const s = await open(o, args);
    sessions.push(s);
    return s;
  };
  const report: EnginesReport = { calls: n, errors: [] };
  log('engines: starting the test bed (a private dockerd over TCP+TLS, an sshd)…');
  let bed: Bed | undefined;
  const stalled = await stalledListener();
  try {
    bed = await startBed();
    const { entries } = bed;
    const second: EngineEntry = { url: entries.default.url, description: 'the dev engine again' };

    // ---- (a) a second engine vs the first ----
    try {
      log(`engines: ${n} calls on each of two engines, interleaved…`);
      const one = await start([]);
      const two = await start(config('two.json', { default: entries.default, second }));
      report.secondEngine = await interleave(
        {
          'one engine configured': () => call(one, {}),
          'two engines: the first': () => call(two, { engine: 'default' }),
          'two engines: the second': () => call(two, { engine: 'second' }),
        },
        n,
      );
    } catch (e) {
      report.errors.push({ figure: 'second engine', why: (e as Error).message.slice(0, 300) });
    }

    // ---- (b) ssh:// vs unix vs TCP+TLS ----
    try {
      log(`engines: ${n} calls over ssh://, unix and TCP+TLS, interleaved; counting SSH connections…`);
      const before = bed.sshd.connections();
      const s = await start(
        config('remote.json', { default: entries.default, tls: entries.tls, ssh: entries.ssh }),
      );
      const series = await interleave(
        {
          'unix (dev engine)': () => call(s, { engine: 'default' }),
          'tcp+tls (private dockerd)': () => call(s, { engine: 'tls' }),
          'ssh:// (dev engine via sshd)': () => call(s, { engine: 'ssh' }),
        },
        n,
      );
      report.remote = { series, sshConnections: bed.sshd.connections() - before, sshCalls: n + 5 };
    } catch (e) {
      report.errors.push({ figure: 'ssh', why: (e as Error).message.slice(0, 300) });
    }

    // ---- (c) a healthy engine while another hangs ----
    try {
      log(`engines: ${n} calls to a healthy engine, with a neighbour that hangs vs all up…`);
      const up = await start(config('up.json', { default: entries.default, tls: entries.tls }));
      const down = await start(
        config('down.json', { default: entries.default, stalled: { url: stalled.url } }),
      );
      // The unreachable engine is asked all the while, one call after another, on the same server.
      let stop = false;
      let attempts = 0;
      const pester = (async () => {
        while (!stop) {
          attempts++;
          await down
            .request('tools/call', { name: 'docker_version', arguments: { engine: 'stalled' } }, 120_000)
            .catch(() => {});
        }
      })();
      // Two at once keep the stalled engine busy even while one of them is being refused.
      const pester2 = (async () => {
        await Bun.sleep(50);
        while (!stop) {
          attempts++;
          await down
            .request(
              'tools/call',
              { name: 'docker_list_containers', arguments: { engine: 'stalled' } },
              120_000,
            )
            .catch(() => {});
        }
      })();
      const series = await interleave(
        {
          'all engines up': () => call(up, { engine: 'default' }),
          'a neighbour unreachable': () => call(down, { engine: 'default' }),
        },
        n,
      );
      stop = true;
      await stalled.close();
      await Promise.race([Promise.all([pester, pester2]), Bun.sleep(5_000)]);
      report.unreachable = { series, neighbourCalls: attempts };
      report.load = (await import('node:os')).loadavg().map((x) => Number(x.toFixed(2)));
    } catch (e) {
      report.errors.push({ figure: 'unreachable', why: (e as Error).message.slice(0, 300) });
    }

    // ---- (d) peak RSS, four engines vs one ----
    try {
      log(`engines: peak RSS after ${n * 4} calls, four engines vs one…`);
      const one = await start([]);
      const four = await start(
        config('four.json', { default: entries.default, second, tls: entries.tls, ssh: entries.ssh }),
      );
      // Four engines over unix only: what the count of engines costs, apart from the TLS and SSH code.
      const unix4 = await start(
        config('unix4.json', {
          default: entries.default,
          second,
          third: { url: entries.default.url },
          fourth: { url: entries.default.url },
        }),
      );
      // One remote engine beside the unix one: what TLS, and what SSH, adds on its own.
      const withTls = await start(config('with-tls.json', { default: entries.default, tls: entries.tls }));
      const withSsh = await start(config('with-ssh.json', { default: entries.default, ssh: entries.ssh }));
      const names = ['default', 'second', 'tls', 'ssh'];
      const unixNames = ['default', 'second', 'third', 'fourth'];
      for (let i = 0; i < n * 4; i++) {
        const tool = i % 8 < 4 ? 'docker_version' : 'docker_list_containers';
        await call(one, {}, i % 2 ? 'docker_version' : 'docker_list_containers');
        await call(four, { engine: names[i % 4] }, tool);
        await call(unix4, { engine: unixNames[i % 4] }, tool);
        await call(withTls, { engine: i % 2 ? 'tls' : 'default' }, tool);
        await call(withSsh, { engine: i % 2 ? 'ssh' : 'default' }, tool);
      }
      const a = memory(one.pid).hwmMiB;
      const b = memory(four.pid).hwmMiB;
      report.rss = {
        oneMiB: a,
        fourMiB: b,
        diffMiB: b - a,
        fourUnixMiB: memory(unix4.pid).hwmMiB,
        unixAndTlsMiB: memory(withTls.pid).hwmMiB,
        unixAndSshMiB: memory(withSsh.pid).hwmMiB,
        calls: n * 4,
      };
    } catch (e) {
      report.errors.push({ figure: 'rss', why: (e as Error).message.slice(0, 300) });
    }
    return report;
  } finally {
    for (const s of sessions) s.proc.kill('SIGKILL');
    await stalled.close().catch(() => {});
    await bed?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const START = '<!-- engines:start -->';
const END = '<!-- engines:end -->';

if (import.meta.main) {
  const { root, bin, env, num, log } = standalone(['PATH', 'HOME', 'DOCKER_HOST']);
  const calls = num('--calls', 100);
  const report = await runEngines({ bin, env, calls, log });
  const { enginesSection } = await import('./report.ts');
  const forPrint = JSON.parse(
    JSON.stringify(report, (k, v) => (k === 'samples' ? undefined : v)),
  ) as EnginesReport;
  console.log(JSON.stringify(forPrint, null, 2));
  const doc = join(root, 'docs/BENCHMARKS.md');
  replaceSection(doc, START, END, enginesSection(report, new Date().toISOString().slice(0, 10)));
  console.error('[bench] wrote the engines section of docs/BENCHMARKS.md');
  process.exit(report.errors.length > 0 ? 1 : 0);
}
