/** The bench's result shape and docs/BENCHMARKS.md, generated from it. */
import { type ComposeReport, composeSection } from './compose.ts';
import { type FloorReport, floorSection } from './floor-gap.ts';
import type { LoadResult } from './http-load.ts';
import { TARGET as HTTP_TARGET } from './http-load.ts';
import type { Summary } from './lib.ts';
import { budgetedToolset, countedBytes, SEED_TOOLS } from './seed-tools.ts';

/** Issue 7's targets. */
export const TARGET = {
  coldMs: 40,
  overheadMs: 0.3,
  rssMiB: 50,
  toolAvgBytes: 350,
  seedBytes: 12 * 1024,
  resultBytes: 4096,
  logMs: 300,
  logRssMiB: 100,
};

type Series = Summary & { samples: number[] };

export interface BenchReport {
  date: string;
  machine: {
    cpu: string;
    cores: number;
    loadStart: number[];
    loadEnd: number[];
    bun: string;
    node: string;
    engine: string;
    binaryMiB: number;
    quick: boolean;
  };
  servers: { id: string; runtime: string; note?: string; wrapper?: string }[];
  skipped: { id: string; why: string }[];
  cold: Record<string, Series>;
  /** Cold start to the first tools/list result (initialize, initialized, tools/list); absent in older reports. */
  ready?: Record<string, Series>;
  calls: { op: 'list' | 'inspect'; containers: number; rows: number; series: Record<string, Series> }[];
  memory: Record<string, { idleMiB: number; peakMiB: number; rssMiB: number; calls: number }>;
  tools: Record<string, { count: number; bytes: number; perTool: { name: string; bytes: number }[] }>;
  results: Record<string, { bytes: number; wire: number; scope: string }>;
  http?: LoadResult;
  logs?: {
    finished: boolean;
    writeSeconds: number;
    logBytes: number;
    series: Record<string, Series & { peakMiB?: number }>;
  };
  /** Issue 13, class 7: bounded work per call (bench/bounded.ts). */
  bounded?: BoundedReport;
  /** Issue 14: many engines (bench/engines.ts). */
  engines?: EnginesReport;
  /** Issue 15: Compose beside docker-compose 1.29 (bench/compose.ts). */
  compose?: ComposeReport;
  /** Issue 20: side by side with a floor MCP server (bench/floor-gap.ts). */
  floor?: FloorReport;
}

/** Many engines (issue 14): a second engine, ssh:// and TCP+TLS beside unix, an unreachable neighbour, RSS. */
export interface EnginesReport {
  /** Calls per series. */
  calls: number;
  secondEngine?: Record<string, Series>;
  /** sshConnections: SSH connections the sshd accepted during sshCalls calls over ssh:// (warm-up included). */
  remote?: { series: Record<string, Series>; sshConnections: number; sshCalls: number };
  /** neighbourCalls: calls made meanwhile to the engine that never answers. */
  unreachable?: { series: Record<string, Series>; neighbourCalls: number };
  /** fourUnixMiB: four engines, all over unix (the count of engines alone, without TLS and SSH code). */
  rss?: {
    oneMiB: number;
    fourMiB: number;
    diffMiB: number;
    fourUnixMiB?: number;
    /** Two engines: unix and TCP+TLS; unix and ssh://. */
    unixAndTlsMiB?: number;
    unixAndSshMiB?: number;
    calls: number;
  };
  /** Load average when the figures were taken (the machine may be shared). */
  load?: number[];
  /** A figure that could not be taken, and why. */
  errors: { figure: string; why: string }[];
}

/** A catastrophic grep beside other calls, and peak memory of a run-with-wait over a flood. */
export interface BoundedReport {
  grep: {
    pattern: string;
    lineBytes: number;
    scanned: number;
    ms: number;
    isError: boolean;
    /** docker_list_containers on the same server, alone and while the grep runs. */
    listIdle: Summary;
    listDuring: Summary;
  };
  flood: {
    bytes: number;
    lineBytes: number;
    ms: number;
    capBytes: number;
    stdoutBytes: number;
    truncated: boolean;
    hwmBeforeMiB: number;
    hwmMiB: number;
  };
}

const OURS = 'mcp-docker';
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const ok = (pass: boolean) => (pass ? 'met' : '**missed**');
const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** Our figures against issue 7's targets, one line each. */
export function targets(r: BenchReport): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const cold = r.cold[OURS];
  if (cold)
    rows.push([
      'cold start → initialize (median)',
      `${f(cold.median)} ms`,
      `≤ ${TARGET.coldMs} ms`,
      ok(cold.median <= TARGET.coldMs),
    ]);
  const ready = r.ready?.[OURS];
  if (ready) rows.push(['cold start → first tools/list result (median)', `${f(ready.median)} ms`, '—', '—']);
  for (const c of r.calls) {
    const ours = c.series[OURS];
    const raw = c.series['raw API'];
    if (!ours || !raw) continue;
    const over = ours.median - raw.median;
    rows.push([
      `per-call overhead, ${c.op} at ${c.containers} containers`,
      `${f(over, 3)} ms`,
      c.containers <= 30 ? `≤ ${TARGET.overheadMs} ms` : '—',
      c.containers <= 30 ? ok(over <= TARGET.overheadMs) : '—',
    ]);
  }
  const mem = r.memory[OURS];
  if (mem)
    rows.push([
      `peak RSS after ${mem.calls} calls`,
      `${f(mem.peakMiB)} MiB`,
      `≤ ${TARGET.rssMiB} MB`,
      ok(mem.peakMiB <= TARGET.rssMiB),
    ]);
  const all = r.tools[OURS];
  if (all) {
    // Issue 7's budgets as DECISIONS states them: create and run counted at their size before
    // Compose's options; Compose and Swarm each within their own budget.
    const sum = (ts: { name: string; bytes: number }[]) =>
      ts.reduce((n, t) => n + countedBytes(t.name, t.bytes), 0);
    const seed = all.perTool.filter((t) => SEED_TOOLS.has(t.name));
    const core = all.perTool.filter((t) => budgetedToolset(t.name) === undefined);
    const seedBytes = sum(seed);
    const coreAvg = sum(core) / core.length;
    rows.push([
      `tool list, the seed's ${seed.length} tools (create and run counted as before Compose's options)`,
      `${seedBytes} B (${f(seedBytes / seed.length, 0)} B/tool)`,
      `≤ ${TARGET.seedBytes} B, ≤ ${TARGET.toolAvgBytes} B/tool`,
      ok(seedBytes <= TARGET.seedBytes && seedBytes / seed.length <= TARGET.toolAvgBytes),
    ]);
    rows.push([
      `tool list, the ${core.length} tools of the core toolsets (counted the same way)`,
      `${f(coreAvg, 0)} B/tool`,
      `≤ ${TARGET.toolAvgBytes} B/tool`,
      ok(coreAvg <= TARGET.toolAvgBytes),
    ]);
    for (const [set, budget] of [
      ['compose', 5 * 1024],
      ['swarm', 12 * 1024],
    ] as const) {
      const tools = all.perTool.filter((t) => budgetedToolset(t.name) === set);
      if (tools.length === 0) continue;
      const b = tools.reduce((n, t) => n + t.bytes, 0);
      rows.push([`tool list, the ${tools.length} ${set} tools`, `${b} B`, `≤ ${budget} B`, ok(b <= budget)]);
    }
    rows.push([
      `tool list, all ${all.count} tools`,
      `${all.bytes} B (${f(all.bytes / all.count, 0)} B/tool)`,
      '—',
      '—',
    ]);
  }
  const res = r.results[OURS];
  if (res)
    rows.push([
      `result text, list of ${res.scope}`,
      `${res.bytes} B`,
      `≤ ${TARGET.resultBytes} B`,
      ok(res.bytes <= TARGET.resultBytes),
    ]);
  const main = r.http?.phases.find((p) => p.phase === HTTP_TARGET.phase);
  if (main)
    rows.push([
      `HTTP ${main.phase}, ${r.http?.sessions} sessions`,
      `${main.callsPerSec} calls/s, p99 ${main.p99Ms} ms, ${main.errors} errors`,
      `≥ ${HTTP_TARGET.callsPerSec}/s, p99 ≤ ${HTTP_TARGET.p99Ms} ms, 0 errors`,
      ok(Boolean(r.http?.target.met)),
    ]);
  const logs = r.logs?.series[OURS];
  if (logs)
    rows.push([
      `tail 100 of a ${f((r.logs?.logBytes ?? 0) / 2 ** 30, 2)} GiB log`,
      `${f(logs.median)} ms, peak RSS ${f(logs.peakMiB ?? Number.NaN)} MiB`,
      `≤ ${TARGET.logMs} ms, ≤ ${TARGET.logRssMiB} MB`,
      ok(logs.median <= TARGET.logMs && (logs.peakMiB ?? 0) <= TARGET.logRssMiB),
    ]);
  return rows;
}

/** `changes`: the hand-written account of what was changed and by how much (bench/changes.md). */
export function markdown(r: BenchReport, changes?: string): string {
  const m = r.machine;
  const floor = r.cold['Bun floor'];
  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.ts); do not edit by hand. -->',
    '',
    `mcp-docker side by side with the raw Engine API and the other MCP servers for containers that install from npm, in one run on one engine. Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC${m.quick ? ' (quick run: fewer samples)' : ''}.`,
    '',
    '![Latency distributions](benchmarks.svg)',
    '',
    '## Machine',
    '',
    table(
      ['CPU', 'cores', 'load average (start → end)', 'engine', 'Bun', 'Node', 'binary'],
      [
        [
          m.cpu,
          m.cores,
          `${m.loadStart.join(' ')} → ${m.loadEnd.join(' ')}`,
          m.engine,
          m.bun,
          m.node,
          `${m.binaryMiB} MiB`,
        ],
      ],
    ),
    '',
    'Servers:',
    '',
    ...r.servers.map((s) => `- **${s.id}** — ${s.runtime}${s.note ? `. ${s.note}` : ''}`),
    ...r.skipped.map((s) => `- not measured: **${s.id}** — ${s.why}`),
    '',
    '## Against the targets (issue 7)',
    '',
    table(['figure', 'mcp-docker', 'target', ''], targets(r)),
    '',
    '## Cold start to initialize result',
    '',
    'Spawn the server, write `initialize` at once, time until its result line (closing is not timed). Runs are interleaved across servers so load on the machine falls on all of them alike.',
    '',
    table(
      ['server', 'median ms', 'p10–p90 ms', 'runs', '× Bun floor'],
      Object.entries(r.cold).map(([k, s]) => [
        k,
        f(s.median),
        `${f(s.p10)}–${f(s.p90)}`,
        s.n,
        floor ? f(s.median / floor.median, 2) : '—',
      ]),
    ),
    '',
    r.servers.some((s) => s.wrapper)
      ? `The "wrapper around the Bun floor" row is what ${r.servers.find((s) => s.wrapper)?.wrapper} costs by itself; docker-mcp's row includes it.`
      : '',
    '',
    ...(r.ready
      ? [
          '## Cold start to the first tool list',
          '',
          'What a client waits for before it can offer the tools: spawn, `initialize`, `notifications/initialized`, `tools/list`, timed to the list. A server that defers work past initialize pays it here.',
          '',
          table(
            ['server', 'median ms', 'p10–p90 ms', 'runs'],
            Object.entries(r.ready).map(([k, s]) => [k, f(s.median), `${f(s.p10)}–${f(s.p90)}`, s.n]),
          ),
          '',
        ]
      : []),
    '## Per-call latency over the raw Engine API',
    '',
    'One long-lived session per server; every round calls each series once in shuffled order. "raw API" is `fetch` on the engine socket plus `JSON.parse`. Overhead = server median − raw median. "stdio floor" is a compiled Bun program that answers at once with a reply as large as mcp-docker\'s: what the stdio round trip itself costs (pipe writes and wake-ups on both sides). "Bun stdio proxy" is the same program fetching the same engine path and answering with the body: the least any stdio server must do for the call, so "over Bun stdio proxy" is the cost of the server\'s own work. Containers are `sleep` busybox containers; the list is of running containers (every server can do that), so other containers on a shared engine count too (see rows).',
    '',
  ];
  for (const c of r.calls) {
    const raw = c.series['raw API'];
    const proxy = c.series['Bun stdio proxy (fetch + reply)'];
    const server = (k: string) =>
      k !== 'raw API' && !k.startsWith('stdio floor') && !k.startsWith('Bun stdio');
    out.push(
      `### ${c.op === 'list' ? 'List' : 'Inspect one of'} ${c.containers} containers (${c.rows} running on the engine)`,
      '',
      table(
        ['series', 'median ms', 'p10–p90 ms', 'calls', 'over raw ms', '× raw', 'over Bun stdio proxy ms'],
        Object.entries(c.series).map(([k, s]) => [
          k,
          f(s.median, 3),
          `${f(s.p10, 3)}–${f(s.p90, 3)}`,
          s.n,
          raw && server(k) ? f(s.median - raw.median, 3) : '—',
          raw && server(k) ? f(s.median / raw.median, 2) : '—',
          proxy && server(k) ? f(s.median - proxy.median, 3) : '—',
        ]),
      ),
      '',
    );
  }
  const floorMem = r.memory['Bun floor'];
  out.push(
    '## Memory',
    '',
    'Resident set after initialize, then peak (VmHWM) after alternating list and inspect calls (bounded at 60 s per server). For podman-mcp-server this is the Go process behind its Node launcher.',
    '',
    table(
      ['server', 'RSS after initialize MiB', 'peak RSS MiB', 'calls', '× Bun floor'],
      Object.entries(r.memory).map(([k, v]) => [
        k,
        f(v.idleMiB),
        f(v.peakMiB),
        v.calls,
        floorMem ? f(v.peakMiB / floorMem.peakMiB, 2) : '—',
      ]),
    ),
    '',
    '## What the model reads',
    '',
    'Tool list: bytes of `{name, description, inputSchema}` per tool, as JSON (mcp-docker with every tier enabled, so all tools are listed; the seed row is the subset the seed had). Result: the text content of a container list.',
    '',
    table(
      ['server', 'tools', 'bytes', 'B/tool', 'largest'],
      Object.entries(r.tools).map(([k, t]) => {
        const big = [...t.perTool].sort((a, b) => b.bytes - a.bytes).slice(0, 3);
        return [
          k,
          t.count,
          t.bytes,
          f(t.bytes / t.count, 0),
          big.map((b) => `${b.name} ${b.bytes}`).join(', '),
        ];
      }),
    ),
    '',
    table(
      ['server', 'result text B', 'whole result on the wire B', 'containers listed'],
      Object.entries(r.results).map(([k, v]) => [k, v.bytes, v.wire, v.scope]),
    ),
    '',
  );
  if (r.http) {
    out.push(
      '## HTTP load (bench/http-load.ts)',
      '',
      `${r.http.sessions} concurrent sessions on 127.0.0.1, each sending its next request when the last is answered; budget ${r.http.budget.calls} calls or ${r.http.budget.seconds} s per phase. Server peak RSS ${r.http.serverPeakRssMiB} MiB.`,
      '',
      table(
        ['phase', 'calls', 'calls/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'server CPU ms/call'],
        r.http.phases.map((p) => [
          p.phase,
          p.calls,
          p.callsPerSec,
          p.p50Ms,
          p.p90Ms,
          p.p99Ms,
          p.errors,
          p.serverCpuMsPerCall,
        ]),
      ),
      '',
    );
  }
  if (r.logs) {
    out.push(
      '## Tail of a 1 GB log',
      '',
      `A busybox container wrote ${f(r.logs.logBytes / 2 ** 30, 2)} GiB of json-file log (100-byte lines, ${f(r.logs.writeSeconds, 0)} s${r.logs.finished ? '' : ', stopped at the time bound'}); each server asks for the last 100 lines.`,
      '',
      table(
        ['series', 'median ms', 'p10–p90 ms', 'runs', 'server peak RSS MiB'],
        Object.entries(r.logs.series).map(([k, s]) => [
          k,
          f(s.median),
          `${f(s.p10)}–${f(s.p90)}`,
          s.n,
          f(s.peakMiB ?? Number.NaN),
        ]),
      ),
      '',
    );
  }
  if (r.bounded) out.push(boundedSection(r.bounded, r.date.slice(0, 10)), '');
  if (r.engines) out.push(enginesSection(r.engines, r.date.slice(0, 10)), '');
  if (r.compose) out.push(composeSection(r.compose, r.date.slice(0, 10)), '');
  if (r.floor) out.push(floorSection(r.floor, r.date.slice(0, 10)), '');
  if (changes) out.push(changes.trim(), '');
  out.push(
    '## Reproduce',
    '',
    '```sh',
    'npm ci',
    'DOCKER_HOST=unix:///var/run/docker.sock npm run bench        # builds dist/mcp-docker, then measures',
    'npm run bench -- --quick                                     # a minute: fewer runs, 30 containers only',
    'npm run bench -- --no-build --no-competitors --no-logs --no-http --no-bounded --no-engines --no-floor --no-compose',
    'bun bench/bounded.ts [--no-build] [--flood-mib 1024]                # only the issue-13 figures, rewritten in place',
    'bun bench/engines.ts [--no-build]                            # only the issue-14 figures (root: a private dockerd, sshd)',
    'bun bench/floor-gap.ts [--no-build]                          # only the issue-20 figures (beside a floor MCP server), rewritten in place',
    'bun bench/compose.ts [--no-build] [--rounds N]               # only the issue-15 figures (docker-compose 1.29 beside)',
    'bun bench/docs.ts                                            # this page and the chart again from bench/results/latest.json',
    '```',
    '',
    'Needs the test image `mcp-test/busybox:latest` (the test runner makes it), and for the side-by-side figures Node and npm (the competitors, pinned in `bench/competitors/package-lock.json`, install into `~/.cache/mcp-docker-bench/`, never into the project), the Docker CLI (stand-in for `podman`), and root with `unshare` when the engine socket is not `/var/run/docker.sock`. Containers are labelled `mcp-docker-bench`, use network none and are removed at the end, on error and on Ctrl-C. Raw data: `bench/results/latest.json`. Figures from a shared or loaded machine vary; compare ratios within one run.',
    '',
  );
  return out.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
}

/** The section of bench/bounded.ts, between markers so `bun bench/bounded.ts` alone can replace it. */
export function boundedSection(b: BoundedReport, date: string): string {
  const { grep: g, flood: fl } = b;
  const MiB = 1024 * 1024;
  return [
    '<!-- bounded:start -->',
    '## One call stops no one (issue 13)',
    '',
    `Measured ${date} with \`bun bench/bounded.ts\`. Caller-supplied patterns run on re2js (RE2, linear time).`,
    '',
    `**A catastrophic grep.** A container printed 2,000 lines of ${g.lineBytes.toLocaleString('en')} bytes (a's and a final "!"); \`docker_container_logs\` with \`grep: "${g.pattern}"\` (exponential backtracking with JavaScript's RegExp) scanned ${g.scanned} lines and answered ${g.isError ? 'with an error' : 'with a result'} in ${f(g.ms, 0)} ms (the call's budget is the 60 s default --timeout; with Bun's RegExp, time doubles with each a: 26 of them already take 0.5 s, one such line never finishes). Meanwhile other requests on the same server (one stdio session, handled concurrently) answered ${g.listDuring.n} \`docker_list_containers\` calls:`,
    '',
    table(
      ['docker_list_containers', 'calls', 'median ms', 'p90 ms', 'max ms'],
      [
        ['alone', g.listIdle.n, f(g.listIdle.median), f(g.listIdle.p90), f(g.listIdle.max)],
        ['during the grep', g.listDuring.n, f(g.listDuring.median), f(g.listDuring.p90), f(g.listDuring.max)],
      ],
    ),
    '',
    `**A run-with-wait over a flood.** \`docker_run_container\` with \`wait: true\` over a container printing ${f(fl.bytes / MiB / 1024, 2)} GiB in ${fl.lineBytes / 1024} KiB lines answered in ${f(fl.ms / 1000, 1)} s (most of it the container printing) with ${f(fl.stdoutBytes / 1024, 0)} KiB of stdout (${fl.truncated ? 'output_truncated' : 'not truncated'}): the last ${f(fl.capBytes / MiB, 0)} MiB (--max-exec-output-bytes) is read, then cut to the response cap. The server reads the newest 256 log entries first and goes further back only for a stream still under the cap; before that change a run over 256 MiB (test/e2e/bounded.test.ts) peaked at 126–140 MiB, nearly all of it Bun's HTTP client streaming the 10,000-entry tail, not what is kept.`,
    '',
    table(
      ['server VmHWM', 'MiB'],
      [
        ['after initialize', f(fl.hwmBeforeMiB)],
        ['after the run', f(fl.hwmMiB)],
        ['growth', f(fl.hwmMiB - fl.hwmBeforeMiB)],
      ],
    ),
    '<!-- bounded:end -->',
  ].join('\n');
}

/** The section of bench/engines.ts, between markers so `bun bench/engines.ts` alone can replace it. */
export function enginesSection(e: EnginesReport, date: string): string {
  const rows = (series: Record<string, Series>) =>
    Object.entries(series).map(([k, s]) => [k, s.n, f(s.median, 2), f(s.p10, 2), f(s.p90, 2)]);
  const head = ['docker_version', 'calls', 'median ms', 'p10 ms', 'p90 ms'];
  const out = [
    '<!-- engines:start -->',
    '## Many engines (issue 14)',
    '',
    `Measured ${date} with \`bun bench/engines.ts\` on the test bed of \`test/helpers/engines/\`: the dev engine over unix, a private dockerd on tcp://127.0.0.1 with TLS (its own bridge), and an sshd on 127.0.0.1 whose sessions reach the dev engine (\`docker system dial-stdio\`). Series are interleaved, ${e.calls} calls each after 5 untimed${e.load ? ` (load average ${e.load.join(', ')}: compare within a table, not with other sections)` : ''}.`,
    '',
  ];
  if (e.secondEngine)
    out.push(
      '**A second engine costs what the first does.** Both names point at the dev engine, so the work is the same:',
      '',
      table(head, rows(e.secondEngine)),
      '',
    );
  if (e.remote)
    out.push(
      `**ssh:// reuses one connection.** ${e.remote.sshCalls} calls over ssh:// opened ${e.remote.sshConnections} SSH connection${e.remote.sshConnections === 1 ? '' : 's'} (counted in the sshd's log). Latency beside unix and TCP+TLS, on one server:`,
      '',
      table(head, rows(e.remote.series)),
      '',
    );
  if (e.unreachable)
    out.push(
      `**An unreachable neighbour delays no one.** One server with a second engine on a loopback port that accepts and never answers, with ${e.unreachable.neighbourCalls} calls to it pending the whole time (neither answered nor timed out), vs a server whose engines are all up:`,
      '',
      table(head, rows(e.unreachable.series)),
      '',
    );
  if (e.rss)
    out.push(
      `**Memory.** Peak RSS (VmHWM) after ${e.rss.calls} calls: one engine ${f(e.rss.oneMiB)} MiB; four engines (unix twice, TCP+TLS, ssh://), each called, ${f(e.rss.fourMiB)} MiB: ${f(e.rss.diffMiB)} MiB more (aim: under 5 MiB)${e.rss.fourUnixMiB === undefined ? '' : `; four engines all over unix ${f(e.rss.fourUnixMiB)} MiB (${f(e.rss.fourUnixMiB - e.rss.oneMiB)} MiB more), so the rest is the TLS and SSH code and connections`}.${e.rss.unixAndTlsMiB === undefined || e.rss.unixAndSshMiB === undefined ? '' : ` One remote engine beside unix: TCP+TLS ${f(e.rss.unixAndTlsMiB)} MiB (+${f(e.rss.unixAndTlsMiB - e.rss.oneMiB)}), ssh:// ${f(e.rss.unixAndSshMiB)} MiB (+${f(e.rss.unixAndSshMiB - e.rss.oneMiB)}).`}`,
      '',
    );
  if (e.errors.length > 0)
    out.push(
      'Figures not taken:',
      '',
      ...e.errors.map((x) => `- ${x.figure}: ${x.why.replace(/\n/g, ' ')}`),
      '',
    );
  out.push('<!-- engines:end -->');
  return out.join('\n');
}
