/**
 * A/B of compiled binaries in one interleaved run: per-call list and inspect of 30 labelled
 * containers, each server's peak RSS after those calls, and cold start to the initialize result. For measuring one change against the binary
 * before it on a loaded machine, where only interleaved figures compare.
 *
 *   bun bench/ab.ts [--calls 300] [--cold 20] /tmp/a/mcp-docker /tmp/b/mcp-docker …
 *   bun bench/ab.ts --calls 0 --cold 20 BINARY…   (cold start only)
 *   bun bench/ab.ts --calls 0 --cold 0 --ready 20 BINARY…   (cold start → first tools/list, v1 SDK client)
 *
 * Needs DOCKER_HOST=unix://…; creates 30 busybox `sleep` containers labelled for this run and
 * removes them on exit.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { EngineApi, median, memory, percentile, StdioSession } from './lib.ts';

const argv = process.argv.slice(2);
const opt = (flag: string, fallback: number) => {
  const i = argv.indexOf(flag);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  argv.splice(i, 2);
  return v;
};
const CALLS = opt('--calls', 300);
const COLD = opt('--cold', 20);
const COUNT = opt('--containers', 30);
const READY = opt('--ready', 0);
const bins = argv;
if (bins.length === 0) {
  process.stderr.write('usage: bun bench/ab.ts [--calls N] [--cold N] BINARY…\n');
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

async function interleave(series: Record<string, () => Promise<unknown>>, n: number, warmup: number) {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(series).map((k) => [k, []]));
  for (let i = 0; i < warmup + n; i++) {
    for (const k of Object.keys(series).sort(() => Math.random() - 0.5)) {
      const t0 = performance.now();
      await series[k]?.();
      if (i >= warmup) times[k]?.push(performance.now() - t0);
    }
  }
  return times;
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
  const sessions = CALLS > 0 ? await Promise.all(bins.map(open)) : [];
  const target = ids[0] as string;
  for (const op of CALLS > 0 ? (['list', 'inspect'] as const) : []) {
    const series: Record<string, () => Promise<unknown>> = {
      raw: () =>
        api.call('GET', op === 'list' ? `/containers/json?filters=${filters}` : `/containers/${target}/json`),
    };
    bins.forEach((bin, i) => {
      const s = sessions[i] as StdioSession;
      const params =
        op === 'list'
          ? { name: 'docker_list_containers', arguments: { filters: { label: [label] } } }
          : { name: 'docker_inspect_container', arguments: { container_id: target } };
      series[`${i}:${bin}`] = () => s.request('tools/call', params);
    });
    const times = await interleave(series, CALLS, 30);
    const raw = median(times.raw ?? []);
    process.stdout.write(`\n${op} of ${COUNT} (${CALLS} calls each, ms)\n`);
    for (const [k, xs] of Object.entries(times))
      process.stdout.write(
        `  ${k.padEnd(40)} ${stats(xs)}${k === 'raw' ? '' : `  over raw ${(median(xs) - raw).toFixed(3)}`}\n`,
      );
  }
  if (sessions.length > 0) {
    // Each session served the same calls above: its peak RSS compares the binaries' memory for one workload.
    process.stdout.write('\npeak RSS after the calls above (VmHWM, MiB)\n');
    for (const [i, bin] of bins.entries()) {
      const m = memory((sessions[i] as StdioSession).pid);
      process.stdout.write(
        `  ${`${i}:${bin}`.padEnd(40)} peak ${m.hwmMiB.toFixed(1)}  now ${m.rssMiB.toFixed(1)}\n`,
      );
    }
  }
  await Promise.all(sessions.map((s) => s.close()));

  if (COLD > 0) {
    const cold: Record<string, () => Promise<unknown>> = {};
    for (const [i, bin] of bins.entries())
      cold[`${i}:${bin}`] = async () => {
        const s = new StdioSession([bin], env);
        await s.request('initialize', init);
        void s.close();
      };
    const times = await interleave(cold, COLD, 2);
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
    const times = await interleave(ready, READY, 3);
    process.stdout.write(`\ncold start → first tools/list, v1 SDK client (${READY} runs each, ms)\n`);
    for (const [k, xs] of Object.entries(times)) process.stdout.write(`  ${k.padEnd(40)} ${stats(xs)}\n`);
  }
} finally {
  await cleanup();
}
