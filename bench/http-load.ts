/**
 * `bun bench/http-load.ts`: HTTP load on the compiled binary. Starts it with `--transport http` on
 * 127.0.0.1 (a free port, rate limits raised so they are measured but never hit), then for each
 * phase runs N concurrent MCP sessions speaking the protocol with raw fetch (no SDK client, so the
 * figures are the server's), each session sending its next request when the last one is answered,
 * until the call budget or the time budget is spent. Reports calls/s, p50/p90/p99, errors and the
 * server's peak RSS; writes bench/results/http-load.json. The target (≥ 1,500 calls/s, p99 ≤ 50 ms,
 * 0 errors) is checked on modern:list, the phase that counts, and on session:list, reported beside
 * it but not deciding `met`. A missed target still exits 0; a server that cannot start, or a phase
 * with no successful call, exits 1.
 *
 * Phases (`--phases`, comma-separated, `era:call`):
 *   modern:list     2026-07-28 era, per-request (no session), tools/list — the target counts here:
 *                   it measures the HTTP stack and the server, not the engine
 *   modern:version  same, tools/call docker_version (one cheap engine round trip per call)
 *   session:list    initialize-era sessions (Mcp-Session-Id), tools/list — checked against the
 *                   target too and reported, not counted: the older clients' path, one session each
 *   session:version initialize-era sessions, tools/call docker_version
 *   modern:ps       2026-07-28 era, tools/call docker_list_containers on a filter matching nothing
 *   engine:version, engine:ps  the same engine requests made directly on its socket, same
 *                   concurrency: the ceiling the tool-call phases can reach (they are engine-bound)
 * Flags: --sessions 50  --calls 20000 (per phase)  --seconds 30 (per phase)  --bin PATH
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { memory, percentile } from './lib.ts';

/** CPU time (user + system) a process has used, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const ROOT = resolve(import.meta.dir, '..');
const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
const CLIENT_INFO = { name: 'mcp-docker-http-load', version: '0' };
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
  'io.modelcontextprotocol/clientCapabilities': {},
};
/** The target. `phase` decides `met`; `alsoChecked` phases are held to it and reported only. */
export const TARGET = {
  callsPerSec: 1500,
  p99Ms: 50,
  errors: 0,
  phase: 'modern:list',
  alsoChecked: ['session:list'],
};

export interface TargetCheck {
  phase: string;
  /** True for TARGET.phase, the one that decides `met`. */
  counts: boolean;
  met: boolean;
}

export interface LoadOptions {
  bin: string;
  sessions: number;
  calls: number;
  seconds: number;
  phases: string[];
  env?: Record<string, string>;
}

export interface PhaseResult {
  phase: string;
  calls: number;
  errors: number;
  firstError?: string;
  seconds: number;
  callsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server CPU per call, and the load generator's own CPU share (it shares the machine). */
  serverCpuMsPerCall: number;
  clientCpuMsPerCall: number;
  /** The server's peak RSS so far, read when the phase ends. */
  serverPeakRssMiB: number;
}

export interface LoadResult {
  date: string;
  machine: { cpus: number; model: string };
  sessions: number;
  budget: { calls: number; seconds: number };
  phases: PhaseResult[];
  serverPeakRssMiB: number;
  /** `met`: the phase that counts met the target; `checks`: every target phase that ran, each judged. */
  target: typeof TARGET & { met: boolean; checks: TargetCheck[] };
}

const meets = (p: PhaseResult) =>
  p.callsPerSec >= TARGET.callsPerSec && p.p99Ms <= TARGET.p99Ms && p.errors === TARGET.errors;

const freePort = () =>
  new Promise<number>((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });

interface Call {
  method: string;
  params: Record<string, unknown>;
}
const CALLS: Record<string, Call> = {
  list: { method: 'tools/list', params: {} },
  version: { method: 'tools/call', params: { name: 'docker_version', arguments: {} } },
  /** A list whose filter matches nothing: the cheapest engine round trip a real tool makes. */
  ps: {
    method: 'tools/call',
    params: {
      name: 'docker_list_containers',
      arguments: { all: true, filters: { name: ['mcpt-bench-none'] } },
    },
  },
};
const ENGINE_PATHS: Record<string, string> = {
  version: '/version',
  ps: `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: ['mcpt-bench-none'] }))}`,
};

/** One MCP session over raw fetch; `request` resolves with an error text or undefined on success. */
class Session {
  private id = 0;
  private sessionId?: string;
  constructor(
    private readonly url: string,
    private readonly era: 'modern' | 'session',
  ) {}

  async open(): Promise<void> {
    if (this.era === 'modern') return;
    const init = { protocolVersion: LEGACY, capabilities: {}, clientInfo: CLIENT_INFO };
    const err = await this.request({ method: 'initialize', params: init });
    if (err) throw new Error(`initialize: ${err}`);
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  async close(): Promise<void> {
    if (!this.sessionId) return;
    await fetch(this.url, { method: 'DELETE', headers: this.headers() }).catch(() => {});
  }

  async request(call: Call): Promise<string | undefined> {
    const id = ++this.id;
    const params = this.era === 'modern' ? { ...call.params, _meta: META } : call.params;
    const res = await this.post({ jsonrpc: '2.0', id, method: call.method, params }, call);
    const text = await res.text();
    if (res.status !== 200) return `HTTP ${res.status}: ${text.slice(0, 200)}`;
    if (!this.sessionId && this.era === 'session')
      this.sessionId = res.headers.get('mcp-session-id') ?? undefined;
    // Answers are SSE (`event: message` / `data: {...}`). A success is checked with string tests (the
    // server writes `{"result":…,"jsonrpc":"2.0","id":N}`): parsing 40 KB lists here would steal the
    // CPU the server is being measured on. Anything else is parsed, to report it.
    for (const line of text.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      if (
        line.startsWith('data: {"result":') &&
        line.endsWith(`"id":${id}}`) &&
        !line.includes('"isError":true')
      )
        return undefined;
      const msg = JSON.parse(line.slice(6)) as { id?: number; error?: { message: string }; result?: unknown };
      if (msg.id !== id) continue;
      if (msg.error) return `JSON-RPC error: ${msg.error.message}`;
      return `unexpected answer: ${line.slice(6, 300)}`;
    }
    return `no answer for id ${id} in: ${text.slice(0, 200)}`;
  }

  private headers(call?: Call): Record<string, string> {
    const h: Record<string, string> = {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
    };
    if (this.era === 'modern') {
      h['mcp-protocol-version'] = MODERN;
      if (call) h['mcp-method'] = call.method;
      const name = call?.params.name;
      if (typeof name === 'string') h['mcp-name'] = name;
    } else if (this.sessionId) {
      h['mcp-protocol-version'] = LEGACY;
      h['mcp-session-id'] = this.sessionId;
    }
    return h;
  }

  private post(body: object, call?: Call): Promise<Response> {
    return fetch(this.url, { method: 'POST', headers: this.headers(call), body: JSON.stringify(body) });
  }
}

/** The engine's own API, for the ceiling of engine-bound phases. */
class EngineDirect {
  constructor(private readonly path: string) {}
  private readonly socket = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(
    /^unix:\/\//,
    '',
  );
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async request(): Promise<string | undefined> {
    const res = await fetch(`http://localhost/v1.41${this.path}`, { unix: this.socket });
    const text = await res.text();
    return res.ok ? undefined : `engine HTTP ${res.status}: ${text.slice(0, 200)}`;
  }
}

async function runPhase(url: string, pid: number, phase: string, o: LoadOptions): Promise<PhaseResult> {
  const [era, kind] = phase.split(':') as ['modern' | 'session' | 'engine', string];
  const call = CALLS[kind];
  if (!call || !['modern', 'session', 'engine'].includes(era) || (era === 'engine' && !ENGINE_PATHS[kind]))
    throw new Error(`unknown phase '${phase}'`);
  const sessions = Array.from({ length: o.sessions }, () =>
    era === 'engine' ? new EngineDirect(ENGINE_PATHS[kind] as string) : new Session(url, era),
  );
  await Promise.all(sessions.map((s) => s.open()));
  // Warm-up: one call per session, untimed (first connections, JIT).
  await Promise.all(sessions.map((s) => s.request(call)));

  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let started = 0;
  const cpu0 = { server: cpuMs(pid), client: process.cpuUsage() };
  const t0 = performance.now();
  const deadline = t0 + o.seconds * 1000;
  await Promise.all(
    sessions.map(async (s) => {
      while (started < o.calls && performance.now() < deadline) {
        started++;
        const t = performance.now();
        let err: string | undefined;
        try {
          err = await s.request(call);
        } catch (e) {
          err = (e as Error).message;
        }
        latencies.push(performance.now() - t);
        if (err) {
          errors++;
          firstError ??= err;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const serverCpu = cpuMs(pid) - cpu0.server;
  const clientUsage = process.cpuUsage(cpu0.client);
  const clientCpu = (clientUsage.user + clientUsage.system) / 1000;
  await Promise.all(sessions.map((s) => s.close()));
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    phase,
    calls: latencies.length,
    errors,
    ...(firstError && { firstError }),
    seconds: round(seconds),
    callsPerSec: Math.round(latencies.length / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p90Ms: round(percentile(latencies, 90)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    serverCpuMsPerCall: round(serverCpu / latencies.length),
    clientCpuMsPerCall: round(clientCpu / latencies.length),
    serverPeakRssMiB: Math.round(memory(pid).hwmMiB),
  };
}

export async function runHttpLoad(o: LoadOptions): Promise<LoadResult> {
  const port = await freePort();
  const proc = Bun.spawn([o.bin, '--transport', 'http', '--host', '127.0.0.1', '--port', String(port)], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DOCKER_HOST: process.env.DOCKER_HOST ?? '',
      // Raised, not disabled: the limiter's cost is part of what is measured.
      SECURITY_RATE_LIMIT_RPM: '100000000',
      SECURITY_RATE_LIMIT_CONCURRENT: String(o.sessions * 4),
      MCP_LOG_LEVEL: 'warn',
      ...o.env,
    },
    stdout: 'ignore',
    stderr: 'pipe',
  });
  let stderr = '';
  void (async () => {
    for await (const chunk of proc.stderr) stderr = (stderr + new TextDecoder().decode(chunk)).slice(-4096);
  })();
  const url = `http://127.0.0.1:${port}/mcp`;
  try {
    for (let i = 0; ; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 100 || proc.exitCode !== null) throw new Error(`server did not start:\n${stderr}`);
      await Bun.sleep(50);
    }
    const phases: PhaseResult[] = [];
    for (const phase of o.phases) phases.push(await runPhase(url, proc.pid, phase, o));
    const serverPeakRssMiB = Math.round(memory(proc.pid).hwmMiB * 10) / 10;
    const checks = phases
      .filter((p) => p.phase === TARGET.phase || TARGET.alsoChecked.includes(p.phase))
      .map((p) => ({ phase: p.phase, counts: p.phase === TARGET.phase, met: meets(p) }));
    const met = checks.some((c) => c.counts && c.met);
    return {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
      sessions: o.sessions,
      budget: { calls: o.calls, seconds: o.seconds },
      phases,
      serverPeakRssMiB,
      target: { ...TARGET, met, checks },
    };
  } finally {
    proc.kill('SIGTERM');
    await Promise.race([proc.exited, Bun.sleep(5000)]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
}

export function table(r: LoadResult): string {
  const rows = r.phases.map(
    (p) =>
      `| ${p.phase} | ${p.calls} | ${p.callsPerSec} | ${p.p50Ms} | ${p.p90Ms} | ${p.p99Ms} | ${p.errors} | ${p.serverCpuMsPerCall} | ${p.clientCpuMsPerCall} | ${p.serverPeakRssMiB} |`,
  );
  return [
    `HTTP load: ${r.sessions} sessions on 127.0.0.1, ${r.machine.cpus} CPUs (${r.machine.model}); server peak RSS ${r.serverPeakRssMiB} MiB`,
    '| phase | calls | calls/s | p50 ms | p90 ms | p99 ms | errors | server CPU ms/call | load-generator CPU ms/call | server peak RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    `target: ≥ ${TARGET.callsPerSec} calls/s, p99 ≤ ${TARGET.p99Ms} ms, 0 errors; ${TARGET.phase} is the phase that counts`,
    ...(r.target.checks.length === 0 ? [`  ${TARGET.phase} did not run: target not judged`] : []),
    ...r.target.checks.map(
      (c) =>
        `  ${c.phase}: ${c.met ? 'met' : 'NOT met'}${c.counts ? ' (counts)' : ' (reported, does not count)'}`,
    ),
  ].join('\n');
}

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

if (import.meta.main) {
  const bin = resolve(flag('bin', process.env.MCP_DOCKER_BIN ?? join(ROOT, 'dist/mcp-docker')));
  const result = await runHttpLoad({
    bin,
    sessions: Number(flag('sessions', '50')),
    calls: Number(flag('calls', '20000')),
    seconds: Number(flag('seconds', '30')),
    phases: flag(
      'phases',
      'modern:list,session:list,modern:ps,engine:ps,modern:version,session:version,engine:version',
    ).split(','),
  }).catch((e) => {
    process.stderr.write(`http-load: ${(e as Error).message}\n`);
    process.exit(1);
  });
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/http-load.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(table(result));
  for (const p of result.phases) if (p.firstError) console.log(`${p.phase} first error: ${p.firstError}`);
  if (result.phases.some((p) => p.errors === p.calls)) process.exit(1);
}
