/**
 * Compose (issue 15), side by side with Docker Compose 1.29 (`docker-compose`) on the same engine:
 *   (a) `up` of a ten-service project from nothing (depends_on with service_healthy, healthchecks at
 *       1 s intervals, the local test image, network none): our docker_compose_up vs `docker-compose up -d`;
 *   (b) a second `up` with nothing changed (target ≤ 300 ms for ten services), both;
 *   (c) docker_compose_config of every real-world fixture in ../shared/fixtures/compose (time per call,
 *       and the server's peak RSS after all of them) beside `docker-compose config` of the same file.
 * Rounds alternate the two tools so load falls on both alike. Part of `npm run bench` (skip with
 * --no-compose); alone, `bun bench/compose.ts [--no-build] [--rounds N]` runs only these and rewrites
 * their section of docs/BENCHMARKS.md in place (`--up-only`: (a) and (b) only, printed, docs untouched). Containers carry the label mcp-docker-bench.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { replaceSection } from './docs.ts';
import { memory, StdioSession, type Summary, summarize } from './lib.ts';
import { standalone } from './standalone.ts';

type Series = Summary & { samples: number[] };

export interface ComposeReport {
  rounds: number;
  services: number;
  /** Wall time of `up` from nothing, and of a second `up` with nothing changed, per tool. */
  up: Record<string, Series>;
  again: Record<string, Series>;
  /** docker_compose_config per fixture (median of `configRuns` calls) and docker-compose config (one run). */
  config: { fixture: string; oursMs: number; dockerComposeMs?: number }[];
  configRuns: number;
  /** The server's peak RSS (VmHWM) after every fixture's config calls. */
  configPeakMiB: number;
  /** The server's peak RSS after the up rounds. */
  upPeakMiB: number;
  /** Medians over the rounds of where each tool's `up` spent its time. */
  phases: Record<string, Phases>;
  dockerCompose?: string;
  load?: number[];
  errors: { figure: string; why: string }[];
}

interface Options {
  bin: string;
  env: Record<string, string>;
  rounds?: number;
  /** Only (a) and (b), for a quick look: the docs are not rewritten. */
  upOnly?: boolean;
  log?: (s: string) => void;
}

const IMAGE = 'mcp-test/busybox:latest';
const LABEL = 'mcp-docker-bench';
const FIXTURES = resolve(import.meta.dir, '../../shared/fixtures/compose/awesome-compose');
const INITIALIZE = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'mcp-docker-bench', version: '0' },
};

/** Who waits for whom (healthy) in the ten-service project. */
const DEPS: Record<string, string[]> = {
  api1: ['db'],
  api2: ['db'],
  api3: ['cache'],
  api4: ['cache', 'db'],
  web1: ['api1'],
  web2: ['api2'],
  web3: ['api3'],
  web4: ['api4', 'api1'],
};

/** Ten services in three levels: two with healthchecks, four waiting for them healthy, four for those. */
export function tenServices(): string {
  const svc = (name: string, deps: string[]) =>
    [
      `  ${name}:`,
      `    image: ${IMAGE}`,
      '    command: ["sleep", "3600"]',
      '    network_mode: none',
      '    healthcheck: { test: ["CMD", "true"], interval: 1s, timeout: 1s, retries: 30 }',
      '    stop_grace_period: 1s',
      `    labels: { ${LABEL}: "compose" }`,
      ...(deps.length
        ? ['    depends_on:', ...deps.map((d) => `      ${d}: { condition: service_healthy }`)]
        : []),
    ].join('\n');
  const names = ['db', 'cache', ...Object.keys(DEPS)];
  const deps = DEPS;
  return `services:\n${names.map((n) => svc(n, deps[n] ?? [])).join('\n')}\n`;
}

type CallResult = { isError?: boolean; content?: { text?: string }[] };

async function call(s: StdioSession, name: string, args: Record<string, unknown>): Promise<CallResult> {
  const r = (await s.request('tools/call', { name, arguments: args }, 300_000)) as CallResult;
  if (r.isError) throw new Error(`${name}: ${r.content?.[0]?.text?.slice(0, 400)}`);
  return r;
}

function dockerCompose(args: string[], env: Record<string, string>, cwd?: string): number {
  const t0 = performance.now();
  const r = spawnSync('docker-compose', args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`docker-compose ${args.join(' ')}: ${(r.stderr ?? '').slice(-400)}`);
  return ms;
}

/** Where one `up` spent its time, from the engine's own records (ms). */
export interface Phases {
  /** From the call to the first container started (load, policy, networks, images, creates, one start). */
  firstStart: number;
  /** From a container's start to its first passing healthcheck (the engine's interval, then the check). */
  healthy: number;
  /** From the last dependency healthy to the dependent started (noticing it, then the start call). */
  reaction: number;
  /** From the last container started to the answer. */
  answer: number;
}

interface Inspected {
  Name: string;
  Config: { Labels: Record<string, string> };
  State: { StartedAt: string; Health?: { Log?: { End: string; ExitCode: number }[] } };
}

const median = (xs: number[]) => (xs.length ? (summarize(xs).median as number) : Number.NaN);

/** The phases of one `up` of a project that started at `t0` and answered at `t1` (epoch ms). */
function phases(project: string, env: Record<string, string>, t0: number, t1: number): Phases | undefined {
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`], {
    env,
    encoding: 'utf8',
  })
    .stdout.split(/\s+/)
    .filter(Boolean);
  if (ids.length === 0) return undefined;
  const r = spawnSync('docker', ['inspect', ...ids], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const infos = JSON.parse(r.stdout || '[]') as Inspected[];
  const by = new Map(infos.map((i) => [i.Config.Labels['com.docker.compose.service'] ?? '', i]));
  const started = (i: Inspected) => Date.parse(i.State.StartedAt);
  const healthyAt = (i: Inspected) =>
    Math.min(...(i.State.Health?.Log ?? []).filter((l) => l.ExitCode === 0).map((l) => Date.parse(l.End)));
  const starts = infos.map(started);
  const depended = new Set(Object.values(DEPS).flat());
  const healthy = [...depended].map((d) => by.get(d)).filter((i) => i !== undefined);
  const reaction = Object.entries(DEPS).flatMap(([s, ds]) => {
    const i = by.get(s);
    const ready = Math.max(...ds.map((d) => by.get(d)).map((d) => (d ? healthyAt(d) : Number.NaN)));
    return i && Number.isFinite(ready) ? [started(i) - ready] : [];
  });
  return {
    firstStart: Math.min(...starts) - t0,
    healthy: median(healthy.map((i) => healthyAt(i) - started(i)).filter(Number.isFinite)),
    reaction: median(reaction),
    answer: t1 - Math.max(...starts),
  };
}

export async function runCompose(o: Options): Promise<ComposeReport> {
  const log = o.log ?? (() => {});
  const rounds = o.rounds ?? 5;
  const report: ComposeReport = {
    rounds,
    services: 10,
    up: {},
    again: {},
    config: [],
    configRuns: 5,
    configPeakMiB: Number.NaN,
    upPeakMiB: Number.NaN,
    phases: {},
    errors: [],
  };
  const version = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
  const haveDc = version.status === 0;
  if (haveDc) report.dockerCompose = version.stdout.trim();
  else report.errors.push({ figure: 'docker-compose', why: 'docker-compose is not installed' });

  const dir = mkdtempSync(join(tmpdir(), 'mcp-bench-compose-'));
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, tenServices());
  const tag = Math.random().toString(36).slice(2, 8);
  const ours = `mcpbench-ours-${tag}`;
  const theirs = `mcpbench-dc-${tag}`;
  // down is destructive: allowed for this server only, which touches nothing but its bench projects.
  const s = new StdioSession([o.bin], { ...o.env, SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' });
  try {
    await s.request('initialize', INITIALIZE, 30_000);
    s.notify('notifications/initialized');
    const down = async () => {
      await call(s, 'docker_compose_down', { project_name: ours });
      if (haveDc)
        try {
          dockerCompose(['-f', file, '-p', theirs, 'down', '-t', '0'], o.env, dir);
        } catch {}
    };

    // (a) and (b): alternate the tools round by round, each from nothing.
    const up: Record<string, number[]> = { 'mcp-docker': [], 'docker-compose 1.29': [] };
    const again: Record<string, number[]> = { 'mcp-docker': [], 'docker-compose 1.29': [] };
    const timing: Record<string, Phases[]> = { 'mcp-docker': [], 'docker-compose 1.29': [] };
    const timed = (who: string, project: string, t0: number) => {
      const ph = phases(project, o.env, t0, Date.now());
      if (ph) timing[who]?.push(ph);
    };
    try {
      await down();
      for (let i = 0; i < rounds; i++) {
        log(`compose up round ${i + 1}/${rounds}…`);
        const order = i % 2 ? ['dc', 'ours'] : ['ours', 'dc'];
        for (const who of order) {
          if (who === 'ours') {
            const wall = Date.now();
            let t0 = performance.now();
            await call(s, 'docker_compose_up', { project_dir: dir, project_name: ours });
            up['mcp-docker']?.push(performance.now() - t0);
            timed('mcp-docker', ours, wall);
            t0 = performance.now();
            const r = await call(s, 'docker_compose_up', { project_dir: dir, project_name: ours });
            again['mcp-docker']?.push(performance.now() - t0);
            const text = r.content?.[0]?.text ?? '';
            if (!text.includes('unchanged') || /created|recreated|started/.test(text))
              throw new Error(`the second up changed something: ${text.slice(0, 300)}`);
          } else if (haveDc) {
            const wall = Date.now();
            up['docker-compose 1.29']?.push(
              dockerCompose(['-f', file, '-p', theirs, 'up', '-d'], o.env, dir),
            );
            timed('docker-compose 1.29', theirs, wall);
            again['docker-compose 1.29']?.push(
              dockerCompose(['-f', file, '-p', theirs, 'up', '-d'], o.env, dir),
            );
          }
        }
        await down();
      }
      report.upPeakMiB = memory(s.pid).hwmMiB;
    } catch (e) {
      report.errors.push({ figure: 'up', why: (e as Error).message.slice(0, 300) });
    } finally {
      await down();
    }
    for (const [k, xs] of Object.entries(up)) if (xs.length) report.up[k] = { ...summarize(xs), samples: xs };
    for (const [who, xs] of Object.entries(timing))
      if (xs.length)
        report.phases[who] = {
          firstStart: median(xs.map((x) => x.firstStart)),
          healthy: median(xs.map((x) => x.healthy)),
          reaction: median(xs.map((x) => x.reaction)),
          answer: median(xs.map((x) => x.answer)),
        };
    for (const [k, xs] of Object.entries(again))
      if (xs.length) report.again[k] = { ...summarize(xs), samples: xs };

    if (o.upOnly) return report;
    // (c): config of every fixture, in a fresh server so its peak RSS is config's alone.
    const c = new StdioSession([o.bin, '--mount-allowlist', `${FIXTURES},${tmpdir()}`], o.env);
    try {
      await c.request('initialize', INITIALIZE, 30_000);
      c.notify('notifications/initialized');
      const fixtures = existsSync(FIXTURES)
        ? readdirSync(FIXTURES)
            .filter((d) => statSync(join(FIXTURES, d)).isDirectory())
            .sort()
        : [];
      if (fixtures.length === 0) throw new Error(`no fixtures in ${FIXTURES}`);
      log(`compose config of ${fixtures.length} fixtures…`);
      for (const f of fixtures) {
        const times: number[] = [];
        for (let i = 0; i < report.configRuns; i++) {
          const t0 = performance.now();
          await call(c, 'docker_compose_config', { project_dir: join(FIXTURES, f) });
          times.push(performance.now() - t0);
        }
        const row: ComposeReport['config'][number] = { fixture: f, oursMs: summarize(times).median };
        if (haveDc)
          try {
            row.dockerComposeMs = dockerCompose(['config', '-q'], o.env, join(FIXTURES, f));
          } catch {
            // 1.29 refuses some newer files (e.g. a top-level name:); the row says so by its absence.
          }
        report.config.push(row);
      }
      report.configPeakMiB = memory(c.pid).hwmMiB;
    } catch (e) {
      report.errors.push({ figure: 'config', why: (e as Error).message.slice(0, 300) });
    } finally {
      c.proc.kill('SIGKILL');
    }
    return report;
  } finally {
    s.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(1));
const f0 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(0));

/** The section of this part, between markers so `bun bench/compose.ts` alone can replace it. */
export function composeSection(c: ComposeReport, date: string): string {
  const ours = c.up['mcp-docker'];
  const theirs = c.up['docker-compose 1.29'];
  const ratio = ours && theirs ? ours.median / theirs.median : undefined;
  const again = c.again['mcp-docker'];
  const row = (label: string, s: Series | undefined) =>
    `| ${label} | ${f0(s?.median)} | ${f0(s?.p10)}–${f0(s?.p90)} | ${s?.n ?? 0} |`;
  const configured = c.config.filter((r) => r.dockerComposeMs !== undefined);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const out = [
    '<!-- compose:start -->',
    '## Compose (issue 15)',
    '',
    `Measured ${date} with \`bun bench/compose.ts\`, side by side with Docker Compose ${c.dockerCompose ?? '(not installed)'} (\`docker-compose\`, Debian) on the same engine. The project: ${c.services} services of the local test image, network none, in three levels joined by \`depends_on: service_healthy\`, each with a healthcheck every 1 s (\`bench/compose.ts\` writes it). ${c.rounds} rounds, the two tools alternating, each from nothing (taken down between rounds)${c.load ? `; load average ${c.load.join(', ')}` : ''}.`,
    '',
    '| `up` from nothing | median ms | p10–p90 ms | runs |',
    '|---|---|---|---|',
    row('mcp-docker `docker_compose_up`', ours),
    row('docker-compose 1.29 `up -d`', theirs),
    '',
    '| second `up`, nothing changed | median ms | p10–p90 ms | runs |',
    '|---|---|---|---|',
    row('mcp-docker', again),
    row('docker-compose 1.29', c.again['docker-compose 1.29']),
    '',
    `Against the targets: \`up\` at most half of docker-compose's time — ${ratio === undefined ? 'not measured' : `${(ratio * 100).toFixed(0)}% of it, ${ratio <= 0.5 ? 'met' : '**missed**'}`}; a second \`up\` of ten services ≤ 300 ms — ${again ? `${f0(again.median)} ms, ${again.median <= 300 ? 'met' : '**missed**'}` : 'not measured'}. Server peak RSS after the rounds: ${f1(c.upPeakMiB)} MiB.`,
    ...(Object.keys(c.phases).length
      ? [
          '',
          "Where the time goes, from the engine's own records (median per round, ms): the call to the first container started; a container's start to its first passing healthcheck; a dependency healthy to its dependent started; the last start to the answer. The project's critical path is one first start, then two levels of (healthy + reaction), then the answer.",
          '',
          '| tool | to first start | start → healthy | healthy → dependent started | last start → answer | critical path |',
          '|---|---|---|---|---|---|',
          ...Object.entries(c.phases).map(
            ([who, ph]) =>
              `| ${who} | ${f0(ph.firstStart)} | ${f0(ph.healthy)} | ${f0(ph.reaction)} | ${f0(ph.answer)} | ${f0(ph.firstStart + 2 * (ph.healthy + ph.reaction) + ph.answer)} |`,
          ),
          ...(c.phases['mcp-docker']
            ? [
                '',
                `Our \`up\` creates every container as soon as what its creation needs exists (networks, volumes, images, the containers a network_mode, link or volumes_from names; a dependency it waits for healthy started, so its creation runs during that healthcheck's interval rather than beside the first starts), side by side, and starts each once its dependencies are up; one list of the project's containers serves every waiting service, taken every 100 ms or at once when the project's engine events say a healthcheck passed or a container exited. What remains is the engine's: the healthcheck's first run comes one interval (1 s) after the start, and its exec and the dependent's start take the rest (${f0(c.phases['mcp-docker'].healthy)} and ${f0(c.phases['mcp-docker'].reaction)} ms here). Two levels of that alone are ${f0(2 * (c.phases['mcp-docker'].healthy + c.phases['mcp-docker'].reaction))} ms${theirs ? `, ${((200 * (c.phases['mcp-docker'].healthy + c.phases['mcp-docker'].reaction)) / theirs.median).toFixed(0)}% of docker-compose's whole \`up\`; half of its time is ${f0(theirs.median / 2)} ms, and the two healthcheck waits alone take ${f0(2 * c.phases['mcp-docker'].healthy)} ms of it. The target cannot be met on this project while the engine runs a first healthcheck a whole interval after the start; what a client can still save is the reaction (noticing the health, then the start call, most of it the engine's start under load)` : ''}.`,
              ]
            : []),
        ]
      : []),
    '',
    `**config of every fixture** (\`../shared/fixtures/compose/awesome-compose\`, ${c.config.length} projects): docker_compose_config median of ${c.configRuns} calls per project, beside one \`docker-compose config -q\` (a process per call, as a user runs it). Server peak RSS after all of them: ${f1(c.configPeakMiB)} MiB.`,
    '',
    '| project | mcp-docker ms | docker-compose 1.29 ms |',
    '|---|---|---|',
    ...c.config.map((r) => `| ${r.fixture} | ${f1(r.oursMs)} | ${f0(r.dockerComposeMs)} |`),
    `| **total** | ${f1(sum(c.config.map((r) => r.oursMs)))} | ${configured.length ? `${f0(sum(configured.map((r) => r.dockerComposeMs as number)))} (${configured.length} projects)` : '—'} |`,
  ];
  if (c.errors.length) out.push('', ...c.errors.map((e) => `- not measured: ${e.figure} — ${e.why}`));
  out.push('<!-- compose:end -->');
  return out.join('\n');
}

const START = '<!-- compose:start -->';
const END = '<!-- compose:end -->';

if (import.meta.main) {
  const { root, bin, env, num, log } = standalone(['PATH', 'HOME', 'DOCKER_HOST']);
  const rounds = num('--rounds', 5);
  const { loadavg } = await import('node:os');
  const upOnly = process.argv.includes('--up-only');
  const report = await runCompose({ bin, env, rounds, upOnly, log });
  report.load = loadavg().map((x) => Number(x.toFixed(2)));
  console.log(JSON.stringify(report, (k, v) => (k === 'samples' ? undefined : v), 2));
  if (upOnly) process.exit(report.errors.length > 0 ? 1 : 0);
  replaceSection(
    join(root, 'docs/BENCHMARKS.md'),
    START,
    END,
    composeSection(report, new Date().toISOString().slice(0, 10)),
  );
  console.error('[bench] wrote the compose section of docs/BENCHMARKS.md');
  process.exit(report.errors.length > 0 ? 1 : 0);
}
