/**
 * `npm run bench`: measures the compiled binary against its targets and REPORTS; a missed target
 * still exits 0. Real faults exit 1: no binary, build failure, engine unreachable, a tool call
 * returning isError. Flags: --no-build (use the binary as is). Env: MCP_DOCKER_BIN (default
 * dist/mcp-docker, rebuilt in place unless --no-build), DOCKER_HOST (unix://). Writes
 * bench/results/latest.json. Containers are labelled mcp-docker-bench=1, use network none and are
 * removed at the end, on error and on Ctrl-C.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { bytes, EngineApi, memory, StdioSession, type Summary, summarize, timeRuns } from './lib.ts';

const ROOT = resolve(import.meta.dir, '..');
const BIN = process.env.MCP_DOCKER_BIN ? resolve(process.env.MCP_DOCKER_BIN) : join(ROOT, 'dist/mcp-docker');
const IMAGE = 'mcp-test/busybox:latest';
const LABEL = 'mcp-docker-bench';
/** Short and fixed-length, so container names (and the result size) match from run to run. */
const RUN_TAG = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
const COLD = { n: 30, warmup: 3 };
const CALLS = { n: 300, warmup: 30, containers: 30 };
const TARGET = { coldMs: 60, overheadMs: 0.5, resultBytes: 4096, rssMiB: 64, toolAvgBytes: 350 };
const LEGACY = '2025-11-25';
const MODERN = '2026-07-28';
const CLIENT_INFO = { name: 'mcp-docker-bench', version: '0' };
const INITIALIZE = { protocolVersion: LEGACY, capabilities: {}, clientInfo: CLIENT_INFO };
/** The 2026-era probe, as @modelcontextprotocol/client 2.x sends it: `_meta` envelope, no params. */
const DISCOVER = {
  _meta: {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
    'io.modelcontextprotocol/clientCapabilities': {},
  },
};

const api = EngineApi.fromEnv();
const serverEnv: Record<string, string> = {};
for (const key of ['PATH', 'HOME', 'DOCKER_HOST'] as const) {
  const value = process.env[key];
  if (value !== undefined) serverEnv[key] = value;
}

// ---- cleanup: everything this run starts or creates goes away on exit, error or signal ----
const sessions = new Set<StdioSession>();
const containers: string[] = [];

async function cleanup(): Promise<void> {
  for (const s of sessions) s.proc.kill();
  const ids = containers.splice(0);
  await Promise.allSettled(ids.map((id) => api.call('DELETE', `/containers/${id}?force=1&v=1`)));
}
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => void cleanup().finally(() => process.exit(code)));
}

function open(): StdioSession {
  const session = new StdioSession(BIN, serverEnv);
  sessions.add(session);
  return session;
}

async function close(session: StdioSession): Promise<void> {
  await session.close();
  sessions.delete(session);
}

// ---- measurements ----

/** Spawn, write the first request at once, time until its response line; closing is not timed. */
async function coldStart(method: string, params: object, check: (r: Record<string, unknown>) => boolean) {
  const times: number[] = [];
  for (let i = 0; i < COLD.warmup + COLD.n; i++) {
    const t0 = performance.now();
    const session = open();
    const result = (await session.request(method, params as Record<string, unknown>)) as Record<
      string,
      unknown
    >;
    const ms = performance.now() - t0;
    await close(session);
    if (!check(result)) throw new Error(`${method}: unexpected result ${JSON.stringify(result)}`);
    if (i >= COLD.warmup) times.push(ms);
  }
  return summarize(times);
}

async function makeContainers(n: number): Promise<void> {
  const make = async (i: number) => {
    const name = `bench-${RUN_TAG}-${String(i).padStart(2, '0')}`;
    const { Id } = (await api.call('POST', `/containers/create?name=${name}`, {
      Image: IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: { [LABEL]: '1', [`${LABEL}.run`]: RUN_TAG },
      HostConfig: { NetworkMode: 'none' },
    })) as { Id: string };
    containers.push(Id);
    await api.call('POST', `/containers/${Id}/start`);
  };
  await Promise.all(Array.from({ length: n }, (_, i) => make(i)));
}

interface CallResult {
  isError?: boolean;
  content?: { type: string; text?: string }[];
  structuredContent?: { count?: number };
}

async function listContainers(session: StdioSession, args: Record<string, unknown>): Promise<CallResult> {
  const result = (await session.request('tools/call', {
    name: 'docker_list_containers',
    arguments: args,
  })) as CallResult;
  if (result.isError)
    throw new Error(`docker_list_containers returned isError: ${result.content?.[0]?.text}`);
  return result;
}

async function rawList(query: string): Promise<string> {
  const res = await fetch(api.url(`/containers/json?${query}`), { unix: api.socketPath });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET /containers/json: ${res.status}`);
  return body;
}

/** One long-lived session: tools/list sizes, stdio round trip, timed calls, memory, result sizes. */
async function sessionBench() {
  const session = open();
  await session.request('initialize', INITIALIZE);
  session.notify('notifications/initialized');
  const idle = memory(session.pid);

  const { tools } = (await session.request('tools/list')) as {
    tools: { name: string; description?: string; inputSchema: unknown }[];
  };
  const toolSizes = tools
    .map(({ name, description, inputSchema }) => ({
      name,
      bytes: bytes(JSON.stringify({ name, description, inputSchema })),
    }))
    .sort((a, b) => b.bytes - a.bytes);

  const ping = summarize(await timeRuns(CALLS.n, CALLS.warmup, () => session.request('ping')));
  let rows: number | undefined;
  const callTimes = await timeRuns(CALLS.n, CALLS.warmup, async () => {
    rows = (await listContainers(session, { all: true })).structuredContent?.count;
  });
  const mem = memory(session.pid);

  // Sizes over exactly this run's containers, whatever else the engine holds; taken after the timed
  // calls so every status reads "Up N seconds".
  const ours = { label: [`${LABEL}.run=${RUN_TAG}`] };
  const sized = await listContainers(session, { all: true, filters: ours });
  if (sized.structuredContent?.count !== CALLS.containers) {
    throw new Error(
      `expected ${CALLS.containers} rows for this run's label, got ${sized.structuredContent?.count}`,
    );
  }
  await close(session);
  const rawSized = await rawList(`all=1&filters=${encodeURIComponent(JSON.stringify(ours))}`);

  let rawRows = 0;
  const rawTimes = await timeRuns(CALLS.n, CALLS.warmup, async () => {
    rawRows = (JSON.parse(await rawList('all=1')) as unknown[]).length;
  });

  return {
    tools: toolSizes,
    ping,
    call: summarize(callTimes),
    raw: summarize(rawTimes),
    rowsTimed: { tool: rows, raw: rawRows },
    size: {
      toolText: bytes(sized.content?.find((c) => c.type === 'text')?.text ?? ''),
      toolWholeResult: bytes(JSON.stringify(sized)),
      raw: bytes(rawSized),
    },
    memory: { ...mem, idleRssMiB: idle.rssMiB, afterCalls: 2 * (CALLS.n + CALLS.warmup) + 2 },
  };
}

// ---- report ----
const f = (x: number, digits = 2) => x.toFixed(digits);
const row = (figure: string, measured: string, target = '—', pass?: boolean) => [
  figure,
  measured,
  target,
  pass === undefined ? '—' : pass ? 'yes' : '**NO**',
];
const coldRow = (figure: string, s: Summary) =>
  row(
    figure,
    `${f(s.median, 1)} ms (p90 ${f(s.p90, 1)}, min ${f(s.min, 1)})`,
    `≤ ${TARGET.coldMs} ms`,
    s.median <= TARGET.coldMs,
  );

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build')) {
    const build = Bun.spawnSync([process.execPath, 'build.ts', BIN], {
      cwd: ROOT,
      stdout: 'inherit',
      stderr: 'inherit',
    });
    if (build.exitCode !== 0) throw new Error(`build failed (exit ${build.exitCode})`);
  }
  if (!existsSync(BIN)) throw new Error(`no binary at ${BIN}: run 'bun build.ts' or set MCP_DOCKER_BIN`);

  const engine = (await api.call('GET', '/version').catch((e: Error) => {
    throw new Error(`engine unreachable at ${api.socketPath}: ${e.message}`);
  })) as { Version: string; ApiVersion: string };
  const machine = {
    cpu: /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
    cores: cpus().length,
    loadavg: loadavg().map((x) => Number(f(x))),
    bun: Bun.version,
    engine: `${engine.Version} (API ${engine.ApiVersion})`,
    binary: { path: BIN, bytes: statSync(BIN).size },
  };

  console.error(`cold start: ${COLD.n} runs per era (+${COLD.warmup} warmups)…`);
  const coldLegacy = await coldStart('initialize', INITIALIZE, (r) => r.protocolVersion === LEGACY);
  const coldModern = await coldStart(
    'server/discover',
    DISCOVER,
    (r) => Array.isArray(r.supportedVersions) && r.supportedVersions.includes(MODERN),
  );
  console.error(`${CALLS.containers} containers, ${CALLS.n} calls (+${CALLS.warmup} warmups) per series…`);
  await makeContainers(CALLS.containers);
  const s = await sessionBench();
  await cleanup();

  const overhead = s.call.median - s.raw.median;
  const total = s.tools.reduce((sum, t) => sum + t.bytes, 0);
  const avg = total / s.tools.length;
  const ms = (x: Summary) => `${f(x.median, 3)} ms (p90 ${f(x.p90, 3)})`;
  const mem = s.memory;
  const rows = [
    coldRow(`cold start → initialize result (${LEGACY})`, coldLegacy),
    coldRow(`cold start → server/discover result (${MODERN})`, coldModern),
    row('stdio round trip: ping, median', ms(s.ping)),
    row(`docker_list_containers {all: true}, ${s.rowsTimed.tool} rows, median`, ms(s.call)),
    row(`raw GET /containers/json?all=1, ${s.rowsTimed.raw} rows, median`, ms(s.raw)),
    row(
      'per-call overhead (tool − raw)',
      `${f(overhead, 3)} ms`,
      `≤ ${TARGET.overheadMs} ms`,
      overhead <= TARGET.overheadMs,
    ),
    row(
      `tool result text, ${CALLS.containers} containers`,
      `${s.size.toolText} B`,
      `≤ ${TARGET.resultBytes} B`,
      s.size.toolText <= TARGET.resultBytes,
    ),
    row(`raw API JSON, ${CALLS.containers} containers`, `${s.size.raw} B`),
    row(
      `peak RSS (VmHWM) after ${mem.afterCalls} requests`,
      `${f(mem.hwmMiB, 1)} MiB (VmRSS ${f(mem.rssMiB, 1)}; ${f(mem.idleRssMiB, 1)} after initialize)`,
      `≤ ${TARGET.rssMiB} MiB`,
      mem.hwmMiB <= TARGET.rssMiB,
    ),
    row(
      `tools/list: ${s.tools.length} tools, ${total} B`,
      `${f(avg, 0)} B/tool`,
      `≤ ${TARGET.toolAvgBytes} B/tool`,
      avg <= TARGET.toolAvgBytes,
    ),
  ];

  const load = machine.loadavg.join(' ');
  console.log(
    `\nmachine: ${machine.cpu}, ${machine.cores} cores (load ${load}), bun ${machine.bun}, engine ${machine.engine}`,
  );
  console.log(`binary: ${BIN} (${f(machine.binary.bytes / 2 ** 20, 1)} MiB)\n`);
  console.log('| figure | measured | target | ok? |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  const biggest = s.tools.slice(0, 3).map((t) => `${t.name} ${t.bytes} B`);
  console.log(`\nbiggest tools: ${biggest.join(', ')}`);
  console.log(`whole tool result on the wire (text + structuredContent): ${s.size.toolWholeResult} B`);

  const outDir = join(ROOT, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const report = {
    date: new Date().toISOString(),
    machine,
    targets: TARGET,
    coldStart: { initialize: coldLegacy, discover: coldModern },
    ...s,
    overheadMs: overhead,
    toolList: { count: s.tools.length, totalBytes: total, avgBytes: avg },
  };
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${join(outDir, 'latest.json')}`);
}

try {
  await main();
} catch (e) {
  await cleanup();
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
}
