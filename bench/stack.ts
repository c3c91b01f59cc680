/**
 * Stack deploy (issue 16): docker_stack_deploy of the five-service fixture (test/fixtures/stack: two
 * overlay networks, a secret, a config, six tasks) beside `docker stack deploy` of the same file, on
 * the same cluster: the test Swarm (test/helpers/swarm-cluster.ts: two private dockerds, each in a
 * network namespace of its own), deployed through its manager. Interleaved rounds, each: a first deploy of a new stack by each side, then a redeploy of
 * the same file (every service updated in place), then both stacks removed (untimed, waited out).
 * Ours is a tools/call over stdio to a running server; the CLI's includes its process start, as a
 * user or an agent shelling out pays it. Part of `npm run bench` (skip with --no-stack); alone,
 * `bun bench/stack.ts [--no-build] [--rounds N]` rewrites only its section of docs/BENCHMARKS.md.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type SwarmCluster, startSwarm, stopSwarm } from '../test/helpers/swarm-cluster.ts';
import { replaceSection } from './docs.ts';
import { StdioSession, type Summary, summarize } from './lib.ts';
import { standalone } from './standalone.ts';

const FIXTURE = resolve(import.meta.dir, '../test/fixtures/stack');
const IMAGE = 'mcp-test/busybox:latest';

export interface StackReport {
  rounds: number;
  services: number;
  tasks: number;
  series: Record<string, Summary & { samples: number[] }>;
  /** 1-minute load average at the start and the end, and the machine's cores: the figures' noise. */
  load: { start: number; end: number; cores: number };
  errors: { figure: string; why: string }[];
}

interface Options {
  bin: string;
  env: Record<string, string>;
  rounds?: number;
  log?: (s: string) => void;
}

const cli = (swarm: SwarmCluster, args: string[], cwd?: string) =>
  new Promise<string>((res, rej) =>
    execFile(
      'docker',
      ['-H', swarm.manager.host, ...args],
      { cwd, env: { ...process.env, IMAGE } },
      (e, out, err) => (e ? rej(new Error(`docker ${args.join(' ')}: ${err || e.message}`)) : res(out)),
    ),
  );

async function removeAndWait(swarm: SwarmCluster, stack: string) {
  await cli(swarm, ['stack', 'rm', stack]);
  const end = Date.now() + 60_000;
  while (
    (
      await cli(swarm, ['network', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`])
    ).trim()
  ) {
    if (Date.now() > end) throw new Error(`stack ${stack}'s networks were not removed within 60 s`);
    await Bun.sleep(200);
  }
  // Let the removed tasks' containers go too, on both nodes, so the next round starts from the same state.
  const left = (node: 'manager' | 'worker') =>
    new Promise<string>((res) =>
      execFile(
        'docker',
        ['-H', swarm[node].host, 'ps', '-aq', '--filter', `label=com.docker.stack.namespace=${stack}`],
        (e, out) => res(e ? '' : out.trim()),
      ),
    );
  while ((await left('manager')) || (await left('worker'))) {
    if (Date.now() > end) break;
    await Bun.sleep(200);
  }
}

export async function runStack(o: Options): Promise<StackReport> {
  const log = o.log ?? (() => {});
  const rounds = o.rounds ?? 10;
  const load = () => Number((loadavg()[0] ?? 0).toFixed(2));
  const report: StackReport = {
    rounds,
    services: 5,
    tasks: 6,
    series: {},
    load: { start: load(), end: 0, cores: cpus().length },
    errors: [],
  };
  const dir = mkdtempSync(join(tmpdir(), 'mcpt-bench-stack-'));
  const project = join(dir, 'stack');
  cpSync(FIXTURE, project, { recursive: true });
  let swarm: SwarmCluster | undefined;
  let session: StdioSession | undefined;
  try {
    log('stack deploy: the test Swarm (two private dockerds in network namespaces)…');
    swarm = await startSwarm(IMAGE);
    session = new StdioSession([o.bin, '--toolsets', 'default,swarm', '--allow-destructive'], {
      ...o.env,
      DOCKER_HOST: swarm.manager.host,
    });
    await session.request(
      'initialize',
      {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'mcp-docker-bench', version: '0' },
      },
      30_000,
    );
    session.notify('notifications/initialized');
    const s = session;
    const ours = async (stack: string) => {
      const r = (await s.request(
        'tools/call',
        {
          name: 'docker_stack_deploy',
          arguments: { project_dir: project, project_name: stack, env: { IMAGE } },
        },
        120_000,
      )) as { isError?: boolean; content?: { text?: string }[] };
      if (r.isError) throw new Error(`docker_stack_deploy: ${r.content?.[0]?.text?.slice(0, 300)}`);
    };
    const theirs = (stack: string) =>
      cli(swarm as SwarmCluster, ['stack', 'deploy', '-c', 'compose.yaml', stack], project);
    const times: Record<string, number[]> = {
      'mcp-docker: first deploy': [],
      'docker stack deploy: first deploy': [],
      'mcp-docker: redeploy (in place)': [],
      'docker stack deploy: redeploy (in place)': [],
    };
    const timed = async (key: string, fn: () => Promise<unknown>, keep: boolean) => {
      const t0 = performance.now();
      await fn();
      if (keep) times[key]?.push(performance.now() - t0);
    };
    // One untimed warm-up round, then `rounds` timed ones; the side that goes first alternates.
    for (let i = 0; i <= rounds; i++) {
      const keep = i > 0;
      const a = `bo${i}`;
      const b = `bc${i}`;
      const steps: [string, () => Promise<unknown>][] = [
        ['mcp-docker: first deploy', () => ours(a)],
        ['docker stack deploy: first deploy', () => theirs(b)],
      ];
      const again: [string, () => Promise<unknown>][] = [
        ['mcp-docker: redeploy (in place)', () => ours(a)],
        ['docker stack deploy: redeploy (in place)', () => theirs(b)],
      ];
      if (i % 2) {
        steps.reverse();
        again.reverse();
      }
      for (const [k, fn] of [...steps, ...again]) await timed(k, fn, keep);
      await removeAndWait(swarm, a);
      await removeAndWait(swarm, b);
      log(`stack deploy: round ${i}/${rounds}`);
    }
    for (const [k, xs] of Object.entries(times)) report.series[k] = { ...summarize(xs), samples: xs };
    report.load.end = load();
  } catch (e) {
    report.errors.push({ figure: 'stack deploy', why: (e as Error).message.slice(0, 300) });
  } finally {
    session?.proc.kill('SIGKILL');
    if (swarm) await stopSwarm(swarm);
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

export const STACK_START = '<!-- stack:start -->';
export const STACK_END = '<!-- stack:end -->';
const ms = (x: number) => `${x.toFixed(1)} ms`;

export function stackSection(r: StackReport, date: string): string {
  const rows = Object.entries(r.series).map(
    ([k, s]) => `| ${k} | ${ms(s.median)} | ${ms(s.p10)} | ${ms(s.p90)} | ${s.n} |`,
  );
  return [
    STACK_START,
    '## Stack deploy: docker_stack_deploy vs docker stack deploy',
    '',
    `The fixture stack (test/fixtures/stack: ${r.services} services, ${r.tasks} tasks, two overlay networks, a secret and a config) on the two-node test swarm (two private dockerds in network namespaces), ${date}. ` +
      `Interleaved rounds (first deploy of a new stack, then a redeploy updating every service in place; both sides alternate who goes first; stacks removed between rounds, untimed). ` +
      'Ours is a tools/call to a running server over stdio; the CLI figure includes starting the docker process, as shelling out does. Neither waits for tasks to run (the CLI detaches by default). ' +
      `Load average ${r.load.start} at the start and ${r.load.end} at the end on ${r.load.cores} cores: with a loaded machine the spread is wide, compare medians of the same run only.`,
    '',
    '| series | median | p10 | p90 | n |',
    '|---|---|---|---|---|',
    ...rows,
    ...(r.errors.length ? ['', ...r.errors.map((e) => `- not measured: ${e.figure}: ${e.why}`)] : []),
    '',
    'Run alone with `bun bench/stack.ts` (needs root: two private dockerds in network namespaces).',
    STACK_END,
  ].join('\n');
}

if (import.meta.main) {
  const { root, bin, env, num, log } = standalone(['PATH', 'HOME']);
  const rounds = num('--rounds', 10);
  const report = await runStack({ bin, env, rounds, log });
  console.log(JSON.stringify(report, (k, v) => (k === 'samples' ? undefined : v), 2));
  replaceSection(
    join(root, 'docs/BENCHMARKS.md'),
    STACK_START,
    STACK_END,
    stackSection(report, new Date().toISOString().slice(0, 10)),
  );
  console.error('[bench] wrote the stack section of docs/BENCHMARKS.md');
  process.exit(report.errors.length > 0 ? 1 : 0);
}
