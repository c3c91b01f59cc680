/**
 * "One call stops no one" (issue 13, class 7), as figures: (a) a catastrophic `grep` on a container's
 * logs, timed, while the same server keeps answering docker_list_containers (each of those timed too);
 * (b) the server's peak RSS (VmHWM) during docker_run_container with wait over a container printing
 * about 1 GiB in long lines, against the output cap. Part of `npm run bench` (skip with --no-bounded);
 * alone, `bun bench/bounded.ts [--flood-mib 1024] [--no-build]` runs only these and rewrites their
 * section of docs/BENCHMARKS.md in place.
 * Containers use network none, are labelled mcp-docker-bench=1 and are removed at the end.
 */

import { join, resolve } from 'node:path';
import { replaceSection } from './docs.ts';
import { EngineApi, memory, StdioSession, summarize } from './lib.ts';
import type { BoundedReport } from './report.ts';

const IMAGE = 'mcp-test/busybox:latest';
const LABEL = 'mcp-docker-bench';
const INITIALIZE = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'mcp-docker-bench', version: '0' },
};
/** The output cap of a waited run: the default --max-exec-output-bytes. */
const OUTPUT_CAP = 1_048_576;
const LINE = 65_536;
const HOSTILE = '/(a+)+$/';

interface Options {
  bin: string;
  env: Record<string, string>;
  floodMiB: number;
  log?: (s: string) => void;
}

type CallResult = { isError?: boolean; content?: { text?: string }[]; structuredContent?: unknown };

async function open(o: Options): Promise<StdioSession> {
  const s = new StdioSession(o.bin, o.env);
  await s.request('initialize', INITIALIZE, 30_000);
  s.notify('notifications/initialized');
  return s;
}

const call = (s: StdioSession, name: string, args: Record<string, unknown>, timeoutMs = 600_000) =>
  s.request('tools/call', { name, arguments: args }, timeoutMs) as Promise<CallResult>;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

/** Both figures; containers made here are removed before it returns. */
export async function runBounded(o: Options): Promise<BoundedReport> {
  const api = EngineApi.fromEnv(o.env.DOCKER_HOST);
  const log = o.log ?? (() => {});
  const made: string[] = [];
  const sessions: StdioSession[] = [];
  try {
    // ---- (a) a catastrophic grep while another call keeps answering ----
    log('bounded: a container printing 2,000 lines of 16,000 a\'s and a "!"…');
    const tag = Math.random().toString(36).slice(2, 8);
    const { Id } = (await api.call('POST', `/containers/create?name=benchgrep-${tag}`, {
      Image: IMAGE,
      Cmd: [
        'sh',
        '-c',
        'l=$(head -c 16000 /dev/zero | tr "\\0" a); i=0; while [ $i -lt 2000 ]; do echo "$l!"; i=$((i+1)); done; echo done; sleep 3600',
      ],
      Labels: { [LABEL]: '1' },
      HostConfig: { NetworkMode: 'none' },
    })) as { Id: string };
    made.push(Id);
    await api.call('POST', `/containers/${Id}/start`);
    const s = await open(o);
    sessions.push(s);
    for (let i = 0; i < 100; i++) {
      const r = await call(s, 'docker_container_logs', { container_id: Id, tail: 1 });
      if (JSON.stringify(r).includes('done')) break;
      await Bun.sleep(100);
    }
    const list = () => call(s, 'docker_list_containers', { all: true });
    const idle: number[] = [];
    for (let i = 0; i < 30; i++) idle.push((await timed(list))[1]);
    // The grep asks the engine for tail 100 × 20 = 2,000 lines of 16 KB; the list calls run meanwhile.
    const during: number[] = [];
    let grepDone = false;
    const grep = timed(() =>
      call(s, 'docker_container_logs', { container_id: Id, grep: HOSTILE, tail: 100 }).finally(() => {
        grepDone = true;
      }),
    );
    while (!grepDone) during.push((await timed(list))[1]);
    const [grepResult, grepMs] = await grep;
    const scanned = (grepResult.structuredContent as { scanned?: number } | undefined)?.scanned ?? 0;
    await s.close();

    // ---- (b) peak RSS of a run-with-wait over a flood ----
    const floodBytes = o.floodMiB * 1024 * 1024;
    log(`bounded: docker_run_container wait over ${o.floodMiB} MiB in ${LINE / 1024} KiB lines…`);
    const f = await open(o);
    sessions.push(f);
    const before = memory(f.pid).hwmMiB;
    const [run, runMs] = await timed(() =>
      call(f, 'docker_run_container', {
        image: IMAGE,
        name: `benchflood-${tag}`,
        command: [
          'sh',
          '-c',
          `l=$(head -c ${LINE - 1} /dev/zero | tr "\\0" x); i=0; while [ $i -lt ${floodBytes / LINE} ]; do echo "$l"; i=$((i+1)); done; echo end`,
        ],
        network_mode: 'none',
        labels: { [LABEL]: '1' },
        wait: true,
        timeout: 900,
        remove: true,
      }),
    );
    const after = memory(f.pid).hwmMiB;
    if (run.isError) throw new Error(`run-with-wait failed: ${run.content?.[0]?.text?.slice(0, 300)}`);
    const out = run.structuredContent as { stdout?: string; output_truncated?: boolean };
    await f.close();
    return {
      grep: {
        pattern: HOSTILE,
        lineBytes: 16_001,
        scanned,
        ms: grepMs,
        isError: Boolean(grepResult.isError),
        listIdle: summarize(idle),
        listDuring: summarize(during),
      },
      flood: {
        bytes: floodBytes,
        lineBytes: LINE,
        ms: runMs,
        capBytes: OUTPUT_CAP,
        stdoutBytes: Buffer.byteLength(out?.stdout ?? ''),
        truncated: Boolean(out?.output_truncated),
        hwmBeforeMiB: before,
        hwmMiB: after,
      },
    };
  } finally {
    for (const s of sessions) s.proc.kill('SIGKILL');
    for (const id of made) await api.call('DELETE', `/containers/${id}?force=1&v=1`).catch(() => undefined);
    const left = (await api.call(
      'GET',
      `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: ['benchflood-'] }))}`,
    )) as { Id: string; Labels?: Record<string, string> }[];
    for (const c of left.filter((c) => c.Labels?.[LABEL] === '1'))
      await api.call('DELETE', `/containers/${c.Id}?force=1&v=1`).catch(() => undefined);
  }
}

const START = '<!-- bounded:start -->';
const END = '<!-- bounded:end -->';

if (import.meta.main) {
  const root = resolve(import.meta.dir, '..');
  const argv = process.argv;
  const at = argv.indexOf('--flood-mib');
  const floodMiB = at >= 0 ? Number(argv[at + 1]) : 1024;
  if (!argv.includes('--no-build')) {
    const b = Bun.spawnSync(['bun', 'build.ts'], { cwd: root, stdout: 'inherit', stderr: 'inherit' });
    if (b.exitCode !== 0) process.exit(1);
  }
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'DOCKER_HOST'] as const) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  const bin = process.env.MCP_DOCKER_BIN
    ? resolve(process.env.MCP_DOCKER_BIN)
    : join(root, 'dist/mcp-docker');
  const report = await runBounded({ bin, env, floodMiB, log: (s) => console.error(`[bench] ${s}`) });
  console.log(JSON.stringify(report, null, 2));
  const { boundedSection } = await import('./report.ts');
  const doc = join(root, 'docs/BENCHMARKS.md');
  replaceSection(doc, START, END, boundedSection(report, new Date().toISOString().slice(0, 10)));
  console.error('[bench] wrote the bounded section of docs/BENCHMARKS.md');
}
