/**
 * A/B of compiled binaries in one interleaved run: per-call list and inspect of 30 labelled
 * containers (wall time, and the server's main-thread CPU), each server's peak RSS after those calls,
 * and cold start to the initialize result. For measuring one change against the binary before it on
 * a loaded machine, where only interleaved figures compare: every server's session is open at once
 * and the calls go to them one by one in shuffled order, so a change in the machine's load falls on
 * all of them alike. With `--rounds N` the sessions are opened N times afresh, and each binary's
 * figures are also given as the median of its per-round difference to the first binary (paired by
 * round): sessions run one after another can read a change 0.04 ms better in one run and 0.04 worse
 * in the next (bench/changes.md, thirteenth pass).
 *
 *   bun bench/ab.ts [--calls 300] [--rounds 1] [--cold 20] /tmp/a/mcp-docker /tmp/b/mcp-docker …
 *   bun bench/ab.ts --calls 0 --cold 20 BINARY…   (cold start only)
 *   bun bench/ab.ts --calls 0 --cold 0 --ready 20 BINARY…   (cold start → first tools/list, v1 SDK client)
 *
 * Needs DOCKER_HOST=unix://…; creates 30 busybox `sleep` containers labelled for this run and
 * removes them on exit.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { EngineApi, mainThreadCpuMs, median, memory, percentile, push, StdioSession } from './lib.ts';

const argv = process.argv.slice(2);
const opt = (flag: string, fallback: number) => {
  const i = argv.indexOf(flag);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  argv.splice(i, 2);
  return v;
};
const CALLS = opt('--calls', 300);
const ROUNDS = Math.max(1, opt('--rounds', 1));
const COLD = opt('--cold', 20);
const COUNT = opt('--containers', 30);
const READY = opt('--ready', 0);
const bins = argv;
if (bins.length === 0) {
  process.stderr.write('usage: bun bench/ab.ts [--calls N] [--rounds N] [--cold N] [--ready N] BINARY…\n');
  process.exit(2);
}
const socket = (process.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, '');
const api = new EngineApi(socket);
const run = Math.random().toString(36).slice(2, 8);
const label = `mcp-docker-ab.run=${run}`;
const env = { PATH: process.env.PATH ?? '', DOCKER_HOST: `unix://${socket}`, HOME: process.env.HOME ?? '/' };
const image = process.env.TEST_IMAGE ?? 'mcp-test/busybox:latest';

const ids: string[] = [];
async function cleanup() {
  await Promise.allSettled(ids.map((id) => api.call('DELETE', `/containers/${id}?force=1&v=1`)));
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

const init = {
  protocolVersion: '2025-06-18',
  capabilities: {},
  clientInfo: { name: 'ab', version: '0' },
};

async function open(bin: string): Promise<StdioSession> {
  const s = new StdioSession([bin], env);
  await s.request('initialize', init);
  s.notify('notifications/initialized');
  return s;
}

const stats = (xs: number[]) =>
  `median ${median(xs).toFixed(3)}  p10 ${percentile(xs, 10).toFixed(3)}  p90 ${percentile(xs, 90).toFixed(3)}`;

/** Each series n times after `warmup`, one call of each in shuffled order per step: wall ms, and the CPU ms of `pids[k]`. */
async function interleave(
  series: Record<string, () => Promise<unknown>>,
  n: number,
  warmup: number,
  pids: Record<string, number> = {},
) {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(series).map((k) => [k, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(pids).map((k) => [k, []]));
  for (let i = 0; i < warmup + n; i++) {
    for (const k of Object.keys(series).sort(() => Math.random() - 0.5)) {
      const pid = pids[k];
      const c0 = pid === undefined ? 0 : mainThreadCpuMs(pid);
      const t0 = performance.now();
      await series[k]?.();
      if (i < warmup) continue;
      times[k]?.push(performance.now() - t0);
      if (pid !== undefined) cpu[k]?.push(mainThreadCpuMs(pid) - c0);
    }
  }
  return { times, cpu };
}

try {
  // --calls 0: cold start only (any stdio server, no containers).
  for (let i = 0; CALLS > 0 && i < COUNT; i += 10) {
    const made = await Promise.all(
      Array.from({ length: Math.min(10, COUNT - i) }, async () => {
        const body = {
          Image: image,
          Cmd: ['sleep', '3600'],
          Labels: { 'mcp-docker-ab.run': run },
          HostConfig: { NetworkMode: 'none' },
        };
        const created = (await api.call('POST', '/containers/create', body)) as { Id: string };
        ids.push(created.Id);
        await api.call('POST', `/containers/${created.Id}/start`);
        return created.Id;
      }),
    );
    void made;
  }
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const target = ids[0] as string;
  const names = bins.map((bin, i) => `${i}:${bin}`);
  // Per op and binary: every call's wall ms, and per round the median wall and CPU ms; per binary, each round's peak.
  const wall: Record<string, number[]> = {};
  const roundWall: Record<string, number[]> = {};
  const roundCpu: Record<string, number[]> = {};
  const peaks: Record<string, number[]> = {};
  for (let round = 0; CALLS > 0 && round < ROUNDS; round++) {
    const sessions = await Promise.all(bins.map(open));
    for (const op of ['list', 'inspect'] as const) {
      const series: Record<string, () => Promise<unknown>> = {
        raw: () =>
          api.call(
            'GET',
            op === 'list' ? `/containers/json?filters=${filters}` : `/containers/${target}/json`,
          ),
      };
      const pids: Record<string, number> = {};
      names.forEach((name, i) => {
        const s = sessions[i] as StdioSession;
        const params =
          op === 'list'
            ? { name: 'docker_list_containers', arguments: { filters: { label: [label] } } }
            : { name: 'docker_inspect_container', arguments: { container_id: target } };
        series[name] = () => s.request('tools/call', params);
        pids[name] = s.pid;
      });
      const { times, cpu } = await interleave(series, CALLS, 30, pids);
      for (const [k, xs] of Object.entries(times)) {
        push(wall, `${op} ${k}`, ...xs);
        push(roundWall, `${op} ${k}`, median(xs));
      }
      for (const [k, xs] of Object.entries(cpu)) push(roundCpu, `${op} ${k}`, median(xs));
    }
    // Each session served the same calls: its peak RSS compares the binaries' memory for one workload.
    names.forEach((name, i) => {
      push(peaks, name, memory((sessions[i] as StdioSession).pid).hwmMiB);
    });
    await Promise.all(sessions.map((s) => s.close()));
  }
  // The median over rounds of each round's difference to the first binary.
  const paired = (byRound: Record<string, number[]>, key: string, first: string) => {
    const xs = byRound[key] ?? [];
    const ys = byRound[first] ?? [];
    return median(xs.map((x, r) => x - (ys[r] ?? Number.NaN)));
  };
  const f3 = (x: number) => x.toFixed(3);
  for (const op of CALLS > 0 ? (['list', 'inspect'] as const) : []) {
    const raw = median(wall[`${op} raw`] ?? []);
    const rounds = ROUNDS > 1 ? `, ${ROUNDS} rounds` : '';
    process.stdout.write(`\n${op} of ${COUNT} (${CALLS} calls each${rounds}, ms)\n`);
    process.stdout.write(`  ${'raw'.padEnd(40)} ${stats(wall[`${op} raw`] ?? [])}\n`);
    for (const name of names) {
      const key = `${op} ${name}`;
      const cpu = median(roundCpu[key] ?? []);
      const vsFirst =
        ROUNDS > 1 && name !== names[0]
          ? `  Δ vs 0, paired: wall ${f3(paired(roundWall, key, `${op} ${names[0]}`))} cpu ${f3(paired(roundCpu, key, `${op} ${names[0]}`))}`
          : '';
      process.stdout.write(
        `  ${name.padEnd(40)} ${stats(wall[key] ?? [])}  over raw ${f3(median(wall[key] ?? []) - raw)}  server cpu ${f3(cpu)}${vsFirst}\n`,
      );
    }
  }
  if (CALLS > 0) {
    process.stdout.write('\npeak RSS after the calls above (VmHWM, MiB; median of the rounds)\n');
    for (const name of names) {
      const vsFirst =
        ROUNDS > 1 && name !== names[0]
          ? `  Δ vs 0, paired ${paired(peaks, name, names[0] as string).toFixed(2)}`
          : '';
      process.stdout.write(`  ${name.padEnd(40)} peak ${median(peaks[name] ?? []).toFixed(1)}${vsFirst}\n`);
    }
  }

  if (COLD > 0) {
    const cold: Record<string, () => Promise<unknown>> = {};
    for (const [i, bin] of bins.entries())
      cold[`${i}:${bin}`] = async () => {
        const s = new StdioSession([bin], env);
        await s.request('initialize', init);
        void s.close();
      };
    const { times } = await interleave(cold, COLD, 2);
    process.stdout.write(`\ncold start → initialize (${COLD} runs each, ms)\n`);
    for (const [k, xs] of Object.entries(times)) process.stdout.write(`  ${k.padEnd(40)} ${stats(xs)}\n`);
  }
  if (READY > 0) {
    // What a client waits for: the v1 SDK client connects and lists (compiling each output schema).
    const ready: Record<string, () => Promise<unknown>> = {};
    for (const [i, bin] of bins.entries())
      ready[`${i}:${bin}`] = async () => {
        const client = new Client({ name: 'ab', version: '0' });
        await client.connect(new StdioClientTransport({ command: bin, env, stderr: 'ignore' }));
        await client.listTools();
        void client.close();
      };
    const { times } = await interleave(ready, READY, 3);
    process.stdout.write(`\ncold start → first tools/list, v1 SDK client (${READY} runs each, ms)\n`);
    for (const [k, xs] of Object.entries(times)) process.stdout.write(`  ${k.padEnd(40)} ${stats(xs)}\n`);
  }
} finally {
  await cleanup();
}
