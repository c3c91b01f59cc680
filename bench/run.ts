/**
 * `npm run bench`: mcp-docker side by side with the raw Engine API and the other MCP servers for
 * containers on npm, in one run on one engine. Writes bench/results/latest.json, docs/BENCHMARKS.md
 * and docs/benchmarks.svg. A missed target still exits 0 (it is reported); real faults exit 1: no
 * binary, build failure, engine unreachable, our server failing a call. A competitor that cannot
 * run is reported with the reason.
 *
 * Flags: --no-build (use the binary as is) --quick (fewer runs; no 300-container, HTTP or log
 * figures) --no-competitors --no-http --no-logs --no-bounded --no-engines --no-floor --no-swarm --no-stack
 * --no-compose --containers 30,300.
 * Env: MCP_DOCKER_BIN (default dist/mcp-docker), DOCKER_HOST (unix://).
 * Containers are labelled mcp-docker-bench=1, use network none and are removed at the end, on
 * error and on Ctrl-C. All traffic stays on the unix socket and 127.0.0.1.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { runBounded } from './bounded.ts';
import { runCompose } from './compose.ts';
import { replaceSection, writeDocs } from './docs.ts';
import { runEngines } from './engines.ts';
import { buildFloor, runFloorGap } from './floor-gap.ts';
import { runHttpLoad } from './http-load.ts';
import { bytes, EngineApi, memory, StdioSession, summarize } from './lib.ts';
import type { BenchReport } from './report.ts';
import { SEED_TOOLS } from './seed-tools.ts';
import {
  type Call,
  dockerMcp,
  installCompetitors,
  ourServer,
  podmanMcp,
  type ServerSpec,
} from './servers.ts';
import { runStack, STACK_END, STACK_START, stackSection } from './stack.ts';
import { runSwarm, type SwarmReport, swarmSection } from './swarm.ts';

const ROOT = resolve(import.meta.dir, '..');
const BIN = process.env.MCP_DOCKER_BIN ? resolve(process.env.MCP_DOCKER_BIN) : join(ROOT, 'dist/mcp-docker');
const IMAGE = 'mcp-test/busybox:latest';
const LABEL = 'mcp-docker-bench';
const RUN_TAG = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
const has = (flag: string) => process.argv.includes(flag);
const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const QUICK = has('--quick');
const COUNTS = arg('--containers', QUICK ? '30' : '30,300')
  .split(',')
  .map(Number);
const RUNS = {
  cold: QUICK ? 8 : 20,
  calls: (n: number) => (QUICK ? 60 : n <= 30 ? 200 : 40),
  rssCalls: QUICK ? 300 : 1000,
  rssSeconds: 60,
  logs: 5,
};
const LEGACY = '2025-11-25';
const CLIENT_INFO = { name: 'mcp-docker-bench', version: '0' };
const INITIALIZE = { protocolVersion: LEGACY, capabilities: {}, clientInfo: CLIENT_INFO };
const api = EngineApi.fromEnv();
const baseEnv: Record<string, string> = {};
for (const key of ['PATH', 'HOME', 'DOCKER_HOST'] as const) {
  const value = process.env[key];
  if (value !== undefined) baseEnv[key] = value;
}

// ---- cleanup: everything this run starts or creates goes away on exit, error or signal ----
const sessions = new Set<StdioSession>();
const containers: string[] = [];

async function cleanup(): Promise<void> {
  for (const s of sessions) s.proc.kill('SIGKILL');
  sessions.clear();
  const ids = containers.splice(0);
  for (let i = 0; i < ids.length; i += 16)
    await Promise.allSettled(
      ids.slice(i, i + 16).map((id) => api.call('DELETE', `/containers/${id}?force=1&v=1`)),
    );
}
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => void cleanup().finally(() => process.exit(code)));
}

const log = (s: string) => console.error(`[bench] ${s}`);

async function open(spec: ServerSpec, env: Record<string, string> = {}): Promise<StdioSession> {
  const s = new StdioSession(spec.argv, { ...spec.env, ...env });
  sessions.add(s);
  await s.request('initialize', INITIALIZE, 30_000);
  s.notify('notifications/initialized');
  return s;
}

async function close(s: StdioSession): Promise<void> {
  await s.close();
  sessions.delete(s);
}

interface CallResult {
  isError?: boolean;
  content?: { type: string; text?: string }[];
}

async function call(s: StdioSession, c: Call, timeoutMs = 60_000): Promise<CallResult> {
  const r = (await s.request('tools/call', { name: c.name, arguments: c.args }, timeoutMs)) as CallResult;
  if (r.isError) throw new Error(`${c.name} returned isError: ${r.content?.[0]?.text?.slice(0, 300)}`);
  return r;
}

const textOf = (r: CallResult) => (r.content ?? []).map((c) => c.text ?? '').join('');

/**
 * Spawn, write initialize at once, time to its result line; with `ready`, go on as a client does
 * (notifications/initialized, tools/list) and time to the tool list. Closing is not timed.
 */
async function coldOnce(argv: string[], env: Record<string, string>, ready = false): Promise<number> {
  const t0 = performance.now();
  const s = new StdioSession(argv, env);
  sessions.add(s);
  try {
    await s.request('initialize', INITIALIZE, 30_000);
    if (ready) {
      s.notify('notifications/initialized');
      await s.request('tools/list', {}, 30_000);
    }
    return performance.now() - t0;
  } finally {
    s.proc.kill('SIGKILL');
    await s.proc.exited;
    sessions.delete(s);
  }
}

async function makeContainers(n: number, prefix: string, batch: number): Promise<string[]> {
  const ids: string[] = [];
  const make = async (i: number) => {
    const name = `${prefix}-${RUN_TAG}-${String(i).padStart(3, '0')}`;
    const { Id } = (await api.call('POST', `/containers/create?name=${name}`, {
      Image: IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: { [LABEL]: '1', [`${LABEL}.run`]: RUN_TAG, [`${LABEL}.batch`]: `${RUN_TAG}-${batch}` },
      HostConfig: { NetworkMode: 'none' },
    })) as { Id: string };
    containers.push(Id);
    ids.push(Id);
    await api.call('POST', `/containers/${Id}/start`);
  };
  for (let i = 0; i < n; i += 8)
    await Promise.all(Array.from({ length: Math.min(8, n - i) }, (_, k) => make(i + k)));
  return ids;
}

async function rawGet(path: string): Promise<string> {
  const res = await fetch(api.url(path), { unix: api.socketPath });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return body;
}

/**
 * Interleaved rounds: each round runs every series once, in a shuffled order. A series that
 * resolves to a number reports its own time (cold starts exclude their teardown).
 */
async function interleave(
  series: Record<string, () => Promise<unknown>>,
  n: number,
  warmup: number,
): Promise<Record<string, number[]>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(series).map((k) => [k, []]));
  for (let i = 0; i < warmup + n; i++) {
    for (const k of Object.keys(series).sort(() => Math.random() - 0.5)) {
      const t0 = performance.now();
      const own = await series[k]?.();
      if (i >= warmup) times[k]?.push(typeof own === 'number' ? own : performance.now() - t0);
    }
  }
  return times;
}

async function main(): Promise<void> {
  if (!has('--no-build')) {
    const build = Bun.spawnSync([process.execPath, 'build.ts', BIN], {
      cwd: ROOT,
      stdout: 'inherit',
      stderr: 'inherit',
    });
    if (build.exitCode !== 0) throw new Error(`build failed (exit ${build.exitCode})`);
  }
  statSync(BIN);
  const engine = (await api.call('GET', '/version').catch((e: Error) => {
    throw new Error(`engine unreachable at ${api.socketPath}: ${e.message}`);
  })) as { Version: string; ApiVersion: string };
  const node = Bun.which('node');
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: {
      cpu: /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
      cores: cpus().length,
      loadStart: loadavg().map((x) => Number(x.toFixed(2))),
      loadEnd: [],
      bun: Bun.version,
      node: node ? Bun.spawnSync([node, '--version']).stdout.toString().trim() : 'not installed',
      engine: `${engine.Version} (API ${engine.ApiVersion})`,
      binaryMiB: Number((statSync(BIN).size / 2 ** 20).toFixed(1)),
      quick: QUICK,
    },
    servers: [],
    skipped: [],
    cold: {},
    calls: [],
    memory: {},
    tools: {},
    results: {},
  };

  // ---- the servers ----
  const ours = ourServer(BIN, baseEnv);
  const specs: ServerSpec[] = [ours];
  if (!has('--no-competitors')) {
    log('installing the pinned competitors (cached)…');
    const inst = installCompetitors();
    if ('error' in inst) report.skipped.push({ id: 'docker-mcp, podman-mcp-server', why: inst.error });
    else
      for (const spec of [
        dockerMcp(inst.dir, api.socketPath, baseEnv),
        podmanMcp(inst.dir, `unix://${api.socketPath}`, baseEnv),
      ]) {
        if (typeof spec === 'string') report.skipped.push({ id: 'competitor', why: spec });
        else specs.push(spec);
      }
  }
  // A competitor that cannot answer initialize is reported, not fatal.
  for (const spec of [...specs.slice(1)]) {
    try {
      await close(await open(spec));
    } catch (e) {
      specs.splice(specs.indexOf(spec), 1);
      report.skipped.push({ id: spec.id, why: `did not start: ${(e as Error).message.slice(0, 300)}` });
    }
  }
  report.servers = specs.map((s) => ({ id: s.id, runtime: s.runtime, note: s.note, wrapper: s.wrapper }));

  // ---- cold start ----
  const floor = buildFloor();
  log(`cold start: ${RUNS.cold} runs per server, interleaved…`);
  const coldSeries: Record<string, () => Promise<unknown>> = {
    'Bun floor': () => coldOnce([floor], baseEnv),
  };
  for (const spec of specs) coldSeries[spec.id] = () => coldOnce(spec.argv, spec.env);
  const wrapped = specs.find((s) => s.wrapper);
  if (wrapped) {
    const idx = wrapped.argv.indexOf('sh') + 4; // unshare … sh -c SCRIPT sh <command…>
    coldSeries['wrapper around the Bun floor'] = () =>
      coldOnce([...wrapped.argv.slice(0, idx), floor], baseEnv);
  }
  const coldTimes = await interleave(coldSeries, RUNS.cold, 1);
  for (const [k, xs] of Object.entries(coldTimes))
    report.cold[k] = { ...summarize(xs), samples: xs.slice(-RUNS.cold) };
  // What a client waits for before it can offer the tools: initialize, then the tool list.
  const readySeries: Record<string, () => Promise<unknown>> = {};
  for (const spec of specs) readySeries[spec.id] = () => coldOnce(spec.argv, spec.env, true);
  const readyTimes = await interleave(readySeries, RUNS.cold, 1);
  report.ready = {};
  for (const [k, xs] of Object.entries(readyTimes))
    report.ready[k] = { ...summarize(xs), samples: xs.slice(-RUNS.cold) };

  // ---- per-call latency, list and inspect, at each container count ----
  let made = 0;
  let firstIds: string[] = [];
  for (const count of COUNTS) {
    log(`${count} containers…`);
    const ids = await makeContainers(count - made, `bench${count}`, count);
    if (made === 0) firstIds = ids;
    made = count;
    const running = (JSON.parse(await rawGet('/containers/json')) as unknown[]).length;
    const open_ = await Promise.all(specs.map((s) => open(s).then((session) => [s, session] as const)));
    const floorSession = new StdioSession([floor], baseEnv);
    sessions.add(floorSession);
    const target = firstIds[0] as string;
    for (const op of ['list', 'inspect'] as const) {
      const series: Record<string, () => Promise<unknown>> = {
        'raw API': () =>
          rawGet(op === 'list' ? '/containers/json' : `/containers/${target}/json`).then(JSON.parse),
      };
      for (const [spec, session] of open_)
        series[spec.id] = () => call(session, op === 'list' ? spec.list : spec.inspect(target));
      // The stdio floor: a Bun program answering with a reply as large as ours, doing no work.
      const [, mine] = open_[0] as (typeof open_)[number];
      const reply = await call(mine, op === 'list' ? ours.list : ours.inspect(target));
      const pad = bytes(JSON.stringify(reply));
      series['stdio floor (Bun, same reply size)'] = () => floorSession.request('tools/call', { pad });
      // The least a stdio server can do for this call: fetch the same engine path and answer with it.
      const get = op === 'list' ? '/containers/json' : `/containers/${target}/json`;
      series['Bun stdio proxy (fetch + reply)'] = () =>
        floorSession.request('tools/call', { get, socket: api.socketPath });
      const n = RUNS.calls(count);
      log(`  ${op}: ${n} calls per series, interleaved…`);
      const times = await interleave(series, n, Math.min(20, n));
      report.calls.push({
        op,
        containers: count,
        rows: running,
        series: Object.fromEntries(
          Object.entries(times).map(([k, xs]) => [k, { ...summarize(xs), samples: xs }]),
        ),
      });
    }
    await Promise.all([...open_.map(([, s]) => close(s)), close(floorSession)]);
    if (count === COUNTS[0]) await sizes(specs, ours, report, count, running);
  }

  const firstCount = COUNTS[0] as number;
  if (made > firstCount) {
    // The memory figure is taken at the first count, like the sizes.
    const extra = containers.splice(firstCount);
    for (let i = 0; i < extra.length; i += 16)
      await Promise.allSettled(
        extra.slice(i, i + 16).map((id) => api.call('DELETE', `/containers/${id}?force=1&v=1`)),
      );
  }

  // ---- memory: peak RSS after many calls ----
  for (const spec of specs) {
    const s = await open(spec);
    const idle = memory(s.pid);
    const deadline = performance.now() + RUNS.rssSeconds * 1000;
    let n = 0;
    for (; n < RUNS.rssCalls && performance.now() < deadline; n++)
      await call(s, n % 2 ? spec.inspect(firstIds[0] as string) : spec.list);
    const mem = memory(s.pid);
    report.memory[spec.id] = { idleMiB: idle.rssMiB, peakMiB: mem.hwmMiB, rssMiB: mem.rssMiB, calls: n };
    log(`  ${spec.id}: peak ${mem.hwmMiB.toFixed(1)} MiB after ${n} calls`);
    await close(s);
  }
  const fl = new StdioSession([floor], baseEnv);
  sessions.add(fl);
  await fl.request('ping');
  report.memory['Bun floor'] = {
    idleMiB: memory(fl.pid).rssMiB,
    peakMiB: memory(fl.pid).hwmMiB,
    rssMiB: memory(fl.pid).rssMiB,
    calls: 0,
  };
  await close(fl);
  await cleanup();

  // ---- HTTP load (bench/http-load.ts) ----
  if (!QUICK && !has('--no-http')) {
    log('HTTP load (bench/http-load.ts)…');
    try {
      report.http = await runHttpLoad({
        bin: BIN,
        sessions: 50,
        calls: 10_000,
        seconds: 15,
        phases: ['modern:list', 'modern:version', 'session:list'],
      });
    } catch (e) {
      report.skipped.push({ id: 'HTTP load', why: (e as Error).message.slice(0, 300) });
    }
  }

  // ---- 1 GB of logs, tail 100 ----
  if (!QUICK && !has('--no-logs')) await logsFigure(specs, report);

  // ---- a catastrophic grep, and peak RSS of a run-with-wait over 1 GiB (issue 13) ----
  if (!QUICK && !has('--no-bounded'))
    report.bounded = await runBounded({ bin: BIN, env: baseEnv, floodMiB: 1024, log });

  // ---- many engines: a second one, ssh:// and TCP+TLS, an unreachable neighbour, RSS (issue 14) ----
  if (!has('--no-engines')) {
    report.engines = await runEngines({ bin: BIN, env: baseEnv, calls: QUICK ? 30 : 100, log });
    for (const e of report.engines.errors) report.skipped.push({ id: `engines: ${e.figure}`, why: e.why });
  }

  // ---- Compose: up of ten services and a second up vs docker-compose 1.29, config of every fixture (issue 15) ----
  if (!has('--no-compose')) {
    report.compose = await runCompose({ bin: BIN, env: baseEnv, rounds: QUICK ? 2 : 5, log });
    report.compose.load = loadavg().map((x) => Number(x.toFixed(2)));
    for (const e of report.compose.errors) report.skipped.push({ id: `compose: ${e.figure}`, why: e.why });
  }

  // ---- close to the floor: beside a floor MCP server, with the v1 SDK client (issue 20) ----
  if (!has('--no-floor')) {
    log('close to the floor (bench/floor-gap.ts)…');
    report.floor = await runFloorGap({ bin: BIN, env: baseEnv, calls: RUNS.rssCalls, cold: RUNS.cold, log });
  }

  // ---- Swarm: docker_service_list of 100 services on the test Swarm (issue 16) ----
  let swarm: SwarmReport | undefined;
  if (!has('--no-swarm')) {
    swarm = await runSwarm({ bin: BIN, env: baseEnv, calls: QUICK ? 20 : 50, log });
    for (const e of swarm.errors) report.skipped.push({ id: `swarm: ${e.figure}`, why: e.why });
  }

  report.machine.loadEnd = loadavg().map((x) => Number(x.toFixed(2)));
  const outDir = join(ROOT, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 1)}\n`);
  const md = writeDocs(report, ROOT);
  if (swarm)
    replaceSection(
      join(ROOT, 'docs/BENCHMARKS.md'),
      '<!-- swarm:start -->',
      '<!-- swarm:end -->',
      swarmSection(swarm, report.date.slice(0, 10)),
    );
  console.log(md);
  // ---- stack deploy vs docker stack deploy on a private swarm (issue 16): its own section ----
  if (!has('--no-stack')) {
    const stack = await runStack({ bin: BIN, env: baseEnv, rounds: QUICK ? 4 : 10, log });
    for (const e of stack.errors) log(`stack: not measured: ${e.why}`);
    const doc = join(ROOT, 'docs/BENCHMARKS.md');
    replaceSection(doc, STACK_START, STACK_END, stackSection(stack, report.date.slice(0, 10)));
  }
  log(`wrote bench/results/latest.json, docs/BENCHMARKS.md, docs/benchmarks.svg`);
}

/** Model-facing bytes: each server's tool list, and a list of the first batch of containers. */
async function sizes(
  specs: ServerSpec[],
  ours: ServerSpec,
  report: BenchReport,
  count: number,
  running: number,
) {
  log('tool lists and result sizes…');
  const label = `${LABEL}.batch=${RUN_TAG}-${count}`;
  for (const spec of specs) {
    const env: Record<string, string> = spec === ours ? { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' } : {};
    const s = await open(spec, env);
    const { tools } = (await s.request('tools/list')) as {
      tools: { name: string; description?: string; inputSchema: unknown }[];
    };
    const sizes = tools.map((t) => ({
      name: t.name,
      bytes: bytes(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
    }));
    report.tools[spec.id] = {
      count: sizes.length,
      bytes: sizes.reduce((a, t) => a + t.bytes, 0),
      perTool: sizes,
    };
    if (spec === ours) {
      const seed = sizes.filter((t) => SEED_TOOLS.has(t.name));
      report.tools['mcp-docker (seed 36)'] = {
        count: seed.length,
        bytes: seed.reduce((a, t) => a + t.bytes, 0),
        perTool: seed,
      };
    }
    const listed = spec.listLabelled ? spec.listLabelled(label) : spec.list;
    try {
      const r = await call(s, listed);
      report.results[spec.id] = {
        bytes: bytes(textOf(r)),
        wire: bytes(JSON.stringify(r)),
        scope: spec.listLabelled ? `this run's ${count}` : `every running container (${running})`,
      };
    } catch (e) {
      if (spec === ours) throw e;
      report.skipped.push({ id: `${spec.id} (result size)`, why: (e as Error).message.slice(0, 300) });
    }
    await close(s);
  }
  const rawLabelled = await rawGet(
    `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [label] }))}`,
  );
  report.results['raw API'] = {
    bytes: bytes(rawLabelled),
    wire: bytes(rawLabelled),
    scope: `this run's ${count}`,
  };
}

/** A busybox container writes ~1 GB of 100-byte lines on the json-file driver; each server tails 100. */
async function logsFigure(specs: ServerSpec[], report: BenchReport): Promise<void> {
  log('logs: writing ~1 GB to a container log (bounded to 240 s)…');
  const line = '0123456789'.repeat(10);
  const { Id } = (await api.call('POST', `/containers/create?name=benchlogs-${RUN_TAG}`, {
    Image: IMAGE,
    Cmd: ['sh', '-c', `yes ${line} | head -c 1000000000`],
    Labels: { [LABEL]: '1', [`${LABEL}.run`]: RUN_TAG },
    HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'json-file', Config: {} } },
  })) as { Id: string };
  containers.push(Id);
  try {
    const t0 = performance.now();
    await api.call('POST', `/containers/${Id}/start`);
    const waited = await Promise.race([
      // Its own timeout fires after the race is decided on a slow machine: a rejection nobody awaits
      // would end the bench.
      api.call('POST', `/containers/${Id}/wait`, undefined, 250_000).then(
        () => true,
        () => false,
      ),
      Bun.sleep(240_000).then(() => false),
    ]);
    const writeSeconds = (performance.now() - t0) / 1000;
    const info = (await api.call('GET', `/containers/${Id}/json?size=0`)) as { LogPath?: string };
    let logBytes = 0;
    try {
      logBytes = info.LogPath ? statSync(info.LogPath).size : 0;
    } catch {}
    const series: Record<string, number[]> = { 'raw API': [] };
    for (let i = 0; i < RUNS.logs; i++) {
      const t = performance.now();
      await rawGet(`/containers/${Id}/logs?stdout=1&stderr=1&tail=100`);
      series['raw API']?.push(performance.now() - t);
    }
    const peaks: Record<string, number> = {};
    for (const spec of specs) {
      if (!spec.tail100) continue;
      const s = await open(spec);
      const xs: number[] = [];
      try {
        for (let i = 0; i < RUNS.logs; i++) {
          const t = performance.now();
          await call(s, spec.tail100(Id), 120_000);
          xs.push(performance.now() - t);
        }
        series[spec.id] = xs;
        peaks[spec.id] = memory(s.pid).hwmMiB;
      } catch (e) {
        if (spec.id === 'mcp-docker') throw e;
        report.skipped.push({ id: `${spec.id} (logs)`, why: (e as Error).message.slice(0, 300) });
      }
      await close(s);
    }
    report.logs = {
      finished: waited,
      writeSeconds,
      logBytes,
      series: Object.fromEntries(
        Object.entries(series).map(([k, xs]) => [k, { ...summarize(xs), samples: xs, peakMiB: peaks[k] }]),
      ),
    };
  } finally {
    await api.call('DELETE', `/containers/${Id}?force=1&v=1`).catch(() => {});
    containers.splice(containers.indexOf(Id), 1);
  }
}

try {
  await main();
  await cleanup();
  process.exit(0);
} catch (e) {
  await cleanup();
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
}
