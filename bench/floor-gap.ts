/**
 * Close to the floor (issue 20): mcp-docker beside bench/floor.ts — a compiled Bun MCP server that does
 * only a call's unavoidable work (read the line, fetch the Engine API path over the socket, shape the
 * same compact rows, write the answer) — in one run, driven by the v1 SDK client every MCP client
 * library descends from:
 *   - cold start → first tools/list answered (spawn, connect, listTools: the client compiles each
 *     listed output schema into a validator then), interleaved;
 *   - median list and inspect call over 30 labelled containers, 1,000 calls per server, interleaved;
 *   - peak RSS (VmHWM) of each after those calls: the median of three sessions per server, since where
 *     a session's last collection falls moves a peak by several MiB (the floor's more than ours);
 *   - the wire size of the default tools/list (input and output schemas) as a figure of its own.
 * Part of `npm run bench` (skip with --no-floor); alone, `bun bench/floor-gap.ts [--no-build]
 * [--calls 1000] [--sessions 3] [--cold 20]` runs only these and rewrites their section of docs/BENCHMARKS.md.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { EXEC_ARGV } from '../packaging/exec-argv.ts';
import { replaceSection } from './docs.ts';
import {
  bytes,
  EngineApi,
  mainThreadCpuMs,
  median,
  memory,
  push,
  StdioSession,
  type Summary,
  summarize,
} from './lib.ts';
import { standalone } from './standalone.ts';

export interface FloorReport {
  containers: number;
  /** Calls each server served (list and inspect alternating), warm-up included. */
  calls: number;
  /** Load average when the figures were taken (the machine may be shared). */
  load: number[];
  /** Per side ('mcp-docker', 'floor'): cold start → first tools/list, list call, inspect call (ms). */
  ready: Record<string, Summary>;
  list: Record<string, Summary>;
  inspect: Record<string, Summary>;
  /** Median over the sessions of each one's peak RSS (VmHWM) after its calls. */
  peakMiB: Record<string, number>;
  /** Sessions per server, each `calls` long: a peak depends on where the last collection fell. */
  sessions?: number;
  /** Each session's peak RSS, per side, in the order run. */
  peakRuns?: Record<string, number[]>;
  /**
   * CPU time (ms, medians), which a loaded machine inflates far less than wall time: cold start is the
   * client's (connect, list, compile) plus the server's to its first tools/list; a call is the server's
   * alone (from /proc/PID/schedstat around it).
   */
  cpu?: {
    ready: Record<string, number>;
    list: Record<string, number>;
    inspect: Record<string, number>;
    /** The server's whole CPU time over the timed calls, per call: work done after a reply counts too. */
    perCall: Record<string, number>;
  };
  /** The default tools/list result as JSON bytes: whole, and the sum of input and of output schemas. */
  wire: { tools: number; bytes: number; inputBytes: number; outputBytes: number };
}

interface Options {
  bin: string;
  env: Record<string, string>;
  calls?: number;
  /** Sessions of `calls` calls per server (default 3): peak RSS is their median, timings pool them. */
  sessions?: number;
  cold?: number;
  containers?: number;
  log?: (s: string) => void;
}

const IMAGE = 'mcp-test/busybox:latest';
const OURS = 'mcp-docker';
const FLOOR = 'floor';

/**
 * bench/floor.ts, compiled as mcp-docker is (bytecode, minified, the same runtime flags: --smol collects
 * more often, which alone lowers a peak by ~3 MiB), cached beside the competitors.
 */
export function buildFloor(): string {
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mcp-docker-bench');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'bun-floor');
  const b = Bun.spawnSync(
    [
      process.execPath,
      'build',
      join(import.meta.dir, 'floor.ts'),
      '--compile',
      '--bytecode',
      '--minify',
      `--compile-exec-argv=${EXEC_ARGV.join(' ')}`,
    ].concat(['--outfile', out]),
    { stdout: 'ignore', stderr: 'pipe' },
  );
  if (b.exitCode !== 0) throw new Error(`could not build the Bun floor: ${b.stderr.toString().trim()}`);
  return out;
}

/** CPU time a process has used so far, in ms (/proc/PID/schedstat, nanoseconds). */
const cpuMs = mainThreadCpuMs;

async function connect(command: string, env: Record<string, string>) {
  const transport = new StdioClientTransport({ command, args: [], env, stderr: 'ignore' });
  const client = new Client({ name: 'mcp-docker-bench', version: '0' });
  await client.connect(transport);
  return { client, transport };
}

/** Interleaved rounds: each round runs every series once, in a shuffled order, after `warmup` untimed ones. */
async function interleave(series: Record<string, () => Promise<unknown>>, n: number, warmup: number) {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(series).map((k) => [k, []]));
  for (let i = 0; i < warmup + n; i++)
    for (const k of Object.keys(series).sort(() => Math.random() - 0.5)) {
      const t0 = performance.now();
      const own = await series[k]?.();
      if (i >= warmup) times[k]?.push(typeof own === 'number' ? own : performance.now() - t0);
    }
  return times;
}

/** The default tools/list on the wire, read raw (no SDK) so the bytes are the server's. */
async function wireSize(bin: string, env: Record<string, string>): Promise<FloorReport['wire']> {
  const s = new StdioSession([bin], env);
  try {
    await s.request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'mcp-docker-bench', version: '0' },
    });
    s.notify('notifications/initialized');
    const r = (await s.request('tools/list')) as {
      tools: { inputSchema: unknown; outputSchema?: unknown }[];
    };
    const sum = (pick: (t: (typeof r.tools)[number]) => unknown) =>
      r.tools.reduce((n, t) => n + (pick(t) === undefined ? 0 : bytes(JSON.stringify(pick(t)))), 0);
    return {
      tools: r.tools.length,
      bytes: bytes(JSON.stringify(r)),
      inputBytes: sum((t) => t.inputSchema),
      outputBytes: sum((t) => t.outputSchema),
    };
  } finally {
    await s.close();
  }
}

export async function runFloorGap(o: Options): Promise<FloorReport> {
  const log = o.log ?? (() => {});
  const calls = o.calls ?? 1000;
  const count = o.containers ?? 30;
  const api = EngineApi.fromEnv(o.env.DOCKER_HOST);
  // Both binaries copied side by side just before they run: a file written moments ago maps with more
  // resident pages than one that has sat in the page cache (up to 4 MiB of RSS for the same binary),
  // so a freshly built floor beside an older build of ours (or the reverse) would skew peak RSS.
  const fresh = mkdtempSync(join(tmpdir(), 'mcp-floor-'));
  const floor = join(fresh, 'floor');
  const bin = join(fresh, 'mcp-docker');
  copyFileSync(buildFloor(), floor);
  copyFileSync(o.bin, bin);
  const run = Math.random().toString(36).slice(2, 8);
  const ids: string[] = [];
  const open: { close(): Promise<void> }[] = [];
  try {
    for (let i = 0; i < count; i += 8)
      await Promise.all(
        Array.from({ length: Math.min(8, count - i) }, async () => {
          const { Id } = (await api.call('POST', '/containers/create', {
            Image: IMAGE,
            Cmd: ['sleep', '3600'],
            Labels: { 'mcp-docker-bench': '1', 'mcp-docker-bench.floor': run },
            HostConfig: { NetworkMode: 'none' },
          })) as { Id: string };
          ids.push(Id);
          await api.call('POST', `/containers/${Id}/start`);
        }),
      );
    const sides: Record<string, string> = { [OURS]: bin, [FLOOR]: floor };

    log(`floor gap: cold start → first tools/list, ${o.cold ?? 20} runs each, v1 SDK client…`);
    const readyCpu: Record<string, number[]> = {};
    const coldSeries = Object.fromEntries(
      Object.entries(sides).map(([k, bin]) => [
        k,
        async () => {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const c = await connect(bin, o.env);
          await c.client.listTools();
          const ms = performance.now() - t0;
          const client = process.cpuUsage(c0);
          push(readyCpu, k, (client.user + client.system) / 1000 + cpuMs(c.transport.pid as number));
          await c.client.close();
          return ms;
        },
      ]),
    );
    const ready = await interleave(coldSeries, o.cold ?? 20, 2);

    const sessionsN = o.sessions ?? 3;
    log(
      `floor gap: ${sessionsN} sessions of ${calls} calls per server (list and inspect alternating), interleaved…`,
    );
    const filters = { label: [`mcp-docker-bench.floor=${run}`] };
    const target = ids[0] as string;
    const times: Record<string, number[]> = {};
    const callCpu: Record<string, number[]> = {};
    const perCallRuns: Record<string, number[]> = {};
    const peakRuns: Record<string, number[]> = {};
    for (let n = 0; n < sessionsN; n++) {
      const sessions = Object.fromEntries(
        await Promise.all(
          Object.entries(sides).map(async ([k, bin]) => [k, await connect(bin, o.env)] as const),
        ),
      );
      open.push(...Object.values(sessions).map((s) => s.client));
      const series: Record<string, () => Promise<unknown>> = {};
      for (const [k, s] of Object.entries(sessions)) {
        const pid = s.transport.pid as number;
        const timed = async (op: string, call: () => Promise<void>) => {
          const c0 = cpuMs(pid);
          await call();
          push(callCpu, `${k} ${op}`, cpuMs(pid) - c0);
        };
        await s.client.listTools();
        const check = (r: Awaited<ReturnType<typeof s.client.callTool>>) => {
          if (r.isError) throw new Error(`${k}: ${JSON.stringify(r.content).slice(0, 300)}`);
        };
        series[`${k} list`] = () =>
          timed('list', async () =>
            check(await s.client.callTool({ name: 'docker_list_containers', arguments: { filters } })),
          );
        series[`${k} inspect`] = () =>
          timed('inspect', async () =>
            check(
              await s.client.callTool({
                name: 'docker_inspect_container',
                arguments: { container_id: target },
              }),
            ),
          );
      }
      const warmup = 20;
      const before = Object.fromEntries(
        Object.entries(sessions).map(([k, s]) => [k, cpuMs(s.transport.pid as number)]),
      );
      const rounds = Math.ceil(calls / 2) - warmup;
      for (const [k, xs] of Object.entries(await interleave(series, rounds, warmup)))
        times[k] = (times[k] ?? []).concat(xs);
      for (const [k, s] of Object.entries(sessions)) {
        const pid = s.transport.pid as number;
        push(perCallRuns, k, (cpuMs(pid) - (before[k] ?? 0)) / ((rounds + warmup) * 2));
        push(peakRuns, k, memory(pid).hwmMiB);
      }
      // Only this session's clients are open here; the error path closes what is left in `open`.
      await Promise.allSettled(open.splice(0).map((c) => c.close()));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const perCall = Object.fromEntries(Object.entries(perCallRuns).map(([k, xs]) => [k, mean(xs)]));
    const peakMiB = Object.fromEntries(Object.entries(peakRuns).map(([k, xs]) => [k, median(xs)]));
    const pick = (op: string) =>
      Object.fromEntries(Object.keys(sides).map((k) => [k, summarize(times[`${k} ${op}`] ?? [])]));
    return {
      containers: count,
      calls: Math.ceil(calls / 2) * 2,
      sessions: sessionsN,
      peakRuns,
      load: (await import('node:os')).loadavg().map((x) => Number(x.toFixed(2))),
      ready: Object.fromEntries(Object.entries(ready).map(([k, xs]) => [k, summarize(xs)])),
      list: pick('list'),
      inspect: pick('inspect'),
      peakMiB,
      cpu: {
        ready: Object.fromEntries(Object.entries(readyCpu).map(([k, xs]) => [k, median(xs.slice(2))])),
        list: Object.fromEntries(Object.keys(sides).map((k) => [k, median(callCpu[`${k} list`] ?? [])])),
        inspect: Object.fromEntries(
          Object.keys(sides).map((k) => [k, median(callCpu[`${k} inspect`] ?? [])]),
        ),
        perCall,
      },
      wire: await wireSize(bin, o.env),
    };
  } finally {
    await Promise.allSettled(open.map((c) => c.close()));
    await Promise.allSettled(ids.map((id) => api.call('DELETE', `/containers/${id}?force=1&v=1`)));
    rmSync(fresh, { recursive: true, force: true });
  }
}

/** Issue 20's targets, over the floor. */
export const FLOOR_TARGET = { readyMs: 10, perCallMs: 0.1, peakMiB: 8 };

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** The section of this part, between markers so `bun bench/floor-gap.ts` alone can replace it. */
export function floorSection(r: FloorReport, date: string): string {
  const gap = (ours: number, floor: number, target: number, d: number) => [
    f(ours, d),
    f(floor, d),
    f(ours - floor, d),
    `≤ ${target}`,
    ours - floor <= target ? 'met' : '**missed**',
  ];
  const rows = [
    [
      'cold start → first tools/list (median ms)',
      ...gap(r.ready[OURS]?.median ?? NaN, r.ready[FLOOR]?.median ?? NaN, FLOOR_TARGET.readyMs, 1),
    ],
    [
      `list ${r.containers} containers (median ms)`,
      ...gap(r.list[OURS]?.median ?? NaN, r.list[FLOOR]?.median ?? NaN, FLOOR_TARGET.perCallMs, 3),
    ],
    [
      'inspect one (median ms)',
      ...gap(r.inspect[OURS]?.median ?? NaN, r.inspect[FLOOR]?.median ?? NaN, FLOOR_TARGET.perCallMs, 3),
    ],
    [
      `peak RSS after ${r.calls} calls (MiB${r.sessions && r.sessions > 1 ? `, median of ${r.sessions} sessions` : ''})`,
      ...gap(r.peakMiB[OURS] ?? NaN, r.peakMiB[FLOOR] ?? NaN, FLOOR_TARGET.peakMiB, 1),
    ],
  ];
  const w = r.wire;
  const c = r.cpu;
  const cpuRows = c
    ? [
        [
          'cold start → first tools/list, client + server',
          ...gap(c.ready[OURS] ?? NaN, c.ready[FLOOR] ?? NaN, FLOOR_TARGET.readyMs, 1),
        ],
        [
          `list ${r.containers} containers, server`,
          ...gap(c.list[OURS] ?? NaN, c.list[FLOOR] ?? NaN, FLOOR_TARGET.perCallMs, 3),
        ],
        [
          'inspect one, server',
          ...gap(c.inspect[OURS] ?? NaN, c.inspect[FLOOR] ?? NaN, FLOOR_TARGET.perCallMs, 3),
        ],
        [
          'every call (mean), server, work after its reply included',
          ...gap(c.perCall[OURS] ?? NaN, c.perCall[FLOOR] ?? NaN, FLOOR_TARGET.perCallMs, 3),
        ],
      ]
    : [];
  return [
    '<!-- floor:start -->',
    '## Close to the floor (issue 20)',
    '',
    `Measured ${date} with \`bun bench/floor-gap.ts\` (load average ${r.load.join(', ')}). The floor is \`bench/floor.ts\`, compiled as mcp-docker is (bytecode, minified, \`${EXEC_ARGV.join(' ')}\`): an MCP server over stdio that lists two tools without output schemas and, per call, reads the line (Bun's own stdin stream and stdout writer, as ours), fetches the Engine API path over the socket, shapes the same compact rows (the same functions) and writes the answer — nothing else. Both are driven by the v1 SDK client (\`@modelcontextprotocol/sdk\`), in one process, interleaved: cold start is spawn + connect + \`listTools\` (where the client compiles every listed output schema into a validator); ${r.sessions && r.sessions > 1 ? `${r.sessions} sessions of ` : ''}${r.calls} calls per server over ${r.containers} labelled containers, list and inspect alternating${r.peakRuns ? `; each session's peak RSS, mcp-docker ${(r.peakRuns[OURS] ?? []).map((x) => f(x)).join(' / ')} MiB, the floor ${(r.peakRuns[FLOOR] ?? []).map((x) => f(x)).join(' / ')} MiB` : ''}.`,
    '',
    '| figure | mcp-docker | floor | gap | target | |',
    '|---|---|---|---|---|---|',
    ...rows.map((x) => `| ${x.join(' | ')} |`),
    '',
    ...(c
      ? [
          "CPU time (median ms), which load inflates far less than wall time: for a cold start the client's (connect, list, compiling the output schemas) plus the server's up to its first tools/list; for a call the server's alone (`/proc/PID/schedstat` around it).",
          '',
          '| CPU time | mcp-docker | floor | gap | target | |',
          '|---|---|---|---|---|---|',
          ...cpuRows.map((x) => `| ${x.join(' | ')} |`),
          '',
        ]
      : []),
    `The default \`tools/list\` on the wire: ${w.bytes.toLocaleString('en')} B for ${w.tools} tools, of which input schemas ${w.inputBytes.toLocaleString('en')} B and output schemas ${w.outputBytes.toLocaleString('en')} B.`,
    '<!-- floor:end -->',
  ].join('\n');
}

const START = '<!-- floor:start -->';
const END = '<!-- floor:end -->';

if (import.meta.main) {
  const { root, bin, env, num, log } = standalone(['PATH', 'HOME', 'DOCKER_HOST']);
  const report = await runFloorGap({
    bin,
    env,
    calls: num('--calls', 1000),
    sessions: num('--sessions', 3),
    cold: num('--cold', 20),
    log,
  });
  const section = floorSection(report, new Date().toISOString().slice(0, 10));
  console.log(section);
  if (!process.argv.includes('--no-docs')) {
    replaceSection(join(root, 'docs/BENCHMARKS.md'), START, END, section);
    console.error('[bench] wrote the floor section of docs/BENCHMARKS.md');
  }
  process.exit(0);
}
