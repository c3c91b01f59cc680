/**
 * Swarm (issue 16), as figures, on the test Swarm of test/helpers/swarm-cluster.ts (two private
 * dockerds in network namespaces): `docker_service_list` of 100 services — the bytes a model reads
 * (compact rows, and full: true) beside the raw API's answer, and the latency of the tool over stdio
 * beside the raw `GET /services?status=true`, interleaved. The services run no task (replicas 0):
 * the figure is the list, not the scheduler, and the machine is shared.
 * Part of `npm run bench` (skip with --no-swarm); alone, `bun bench/swarm.ts [--no-build]` runs only
 * this and rewrites its section of docs/BENCHMARKS.md in place (`--calls N`). Needs root.
 */
import { join } from 'node:path';
import { type SwarmCluster, startSwarm, stopSwarm } from '../test/helpers/swarm-cluster.ts';
import { replaceSection } from './docs.ts';
import { bytes, EngineApi, StdioSession, type Summary, summarize } from './lib.ts';
import { standalone } from './standalone.ts';

const INITIALIZE = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'mcp-docker-bench', version: '0' },
};
const SERVICES = 100;
const IMAGE = 'mcp-test/busybox:latest';

export interface SwarmReport {
  services: number;
  bytes: { compact: number; full: number; rawApi: number };
  latency: { tool: Summary; rawApi: Summary };
  errors: { figure: string; why: string }[];
}

interface Options {
  bin: string;
  env: Record<string, string>;
  calls?: number;
  log?: (s: string) => void;
}

type CallResult = { isError?: boolean; content?: { text?: string }[] };

export async function runSwarm(o: Options): Promise<SwarmReport> {
  const log = o.log ?? (() => {});
  const calls = o.calls ?? 50;
  const report: SwarmReport = {
    services: SERVICES,
    bytes: { compact: 0, full: 0, rawApi: 0 },
    latency: { tool: summarize([]), rawApi: summarize([]) },
    errors: [],
  };
  let cluster: SwarmCluster | undefined;
  let session: StdioSession | undefined;
  try {
    log('swarm: starting the test Swarm…');
    cluster = await startSwarm(IMAGE);
    const api = EngineApi.fromEnv(cluster.manager.host);
    log(`swarm: creating ${SERVICES} services…`);
    for (let i = 0; i < SERVICES; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          api.call('POST', '/services/create', {
            Name: `bench-svc-${String(i + j).padStart(3, '0')}`,
            Labels: { 'mcp-docker-bench': '1', tier: (i + j) % 2 ? 'web' : 'worker' },
            TaskTemplate: { ContainerSpec: { Image: IMAGE, Args: ['sleep', '3600'] } },
            Mode: { Replicated: { Replicas: 0 } },
          }),
        ),
      );
    session = new StdioSession([o.bin, '--toolsets', 'swarm'], {
      ...o.env,
      DOCKER_HOST: cluster.manager.host,
    });
    await session.request('initialize', INITIALIZE, 30_000);
    session.notify('notifications/initialized');
    const s = session;
    const list = async (full: boolean) => {
      const r = (await s.request('tools/call', {
        name: 'docker_service_list',
        arguments: full ? { full: true } : {},
      })) as CallResult;
      if (r.isError) throw new Error(`docker_service_list: ${r.content?.[0]?.text?.slice(0, 300)}`);
      return r.content?.[0]?.text ?? '';
    };
    const raw = async () => {
      const res = await fetch(api.url('/services?status=true'), { unix: api.socketPath });
      return res.text();
    };
    const compact = await list(false);
    const count = (JSON.parse(compact) as { count: number }).count;
    if (count !== SERVICES) throw new Error(`docker_service_list counted ${count} services, not ${SERVICES}`);
    report.bytes = { compact: bytes(compact), full: bytes(await list(true)), rawApi: bytes(await raw()) };
    log(`swarm: ${calls} interleaved calls…`);
    const times = { tool: [] as number[], rawApi: [] as number[] };
    for (let i = 0; i < calls + 5; i++)
      for (const [k, fn] of Object.entries({ tool: () => list(false), rawApi: raw }).sort(
        () => Math.random() - 0.5,
      )) {
        const t0 = performance.now();
        await fn();
        if (i >= 5) times[k as keyof typeof times].push(performance.now() - t0);
      }
    report.latency = { tool: summarize(times.tool), rawApi: summarize(times.rawApi) };
  } catch (e) {
    report.errors.push({ figure: 'service list', why: (e as Error).message.slice(0, 300) });
  } finally {
    session?.proc.kill('SIGKILL');
    if (cluster) await stopSwarm(cluster);
  }
  return report;
}

const START = '<!-- swarm:start -->';
const END = '<!-- swarm:end -->';
const ms = (x: number) => `${x.toFixed(1)} ms`;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

/** The section of docs/BENCHMARKS.md, between its markers. */
export function swarmSection(r: SwarmReport, date: string): string {
  const body =
    r.errors.length > 0
      ? r.errors.map((e) => `- not measured (${e.figure}): ${e.why}`).join('\n')
      : [
          `| ${r.services} services | bytes the caller reads | median | p90 |`,
          '|---|---|---|---|',
          `| \`docker_service_list\` (compact rows) | ${kb(r.bytes.compact)} (${Math.round(r.bytes.compact / r.services)} B/service) | ${ms(r.latency.tool.median)} | ${ms(r.latency.tool.p90)} |`,
          `| \`docker_service_list\` \`full: true\` | ${kb(r.bytes.full)} | | |`,
          `| raw \`GET /services?status=true\` | ${kb(r.bytes.rawApi)} | ${ms(r.latency.rawApi.median)} | ${ms(r.latency.rawApi.p90)} |`,
          '',
          `Compact rows are ${(r.bytes.rawApi / Math.max(1, r.bytes.compact)).toFixed(1)}× smaller than the engine's answer; the tool costs ${ms(r.latency.tool.median - r.latency.rawApi.median)} over the raw API per call (stdio, JSON-RPC, pipeline), median of ${r.latency.tool.n} interleaved calls.`,
        ].join('\n');
  return `${START}
## Swarm: listing 100 services (${date})

On the test Swarm (two private dockerds in network namespaces, \`bun bench/swarm.ts\`); the services
have no tasks (replicas 0), so the figure is the list itself.

${body}
${END}`;
}

if (import.meta.main) {
  const { root, bin, env, num, log } = standalone(['PATH', 'HOME']);
  const calls = num('--calls', 50);
  const report = await runSwarm({ bin, env, calls, log });
  console.log(JSON.stringify(report, null, 2));
  replaceSection(
    join(root, 'docs/BENCHMARKS.md'),
    START,
    END,
    swarmSection(report, new Date().toISOString().slice(0, 10)),
  );
  console.error('[bench] wrote the swarm section of docs/BENCHMARKS.md');
  process.exit(report.errors.length > 0 ? 1 : 0);
}
