/**
 * Compose (issue 15), side by side with Docker Compose 1.29 (`docker-compose`) on the same engine:
 *   (a) `up` of a ten-service project from nothing (depends_on with service_healthy, healthchecks at
 *       1 s intervals, the local test image, network none): our docker_compose_up vs `docker-compose up -d`;
 *   (b) a second `up` with nothing changed (target ≤ 300 ms for ten services), both;
 *   (c) docker_compose_config of every real-world fixture in ../shared/fixtures/compose (time per call,
 *       and the server's peak RSS after all of them) beside `docker-compose config` of the same file.
 * Rounds alternate the two tools so load falls on both alike. Part of `npm run bench` (skip with
 * --no-compose); alone, `bun bench/compose.ts [--no-build] [--rounds N]` runs only these and rewrites
 * their section of docs/BENCHMARKS.md in place. Containers carry the label mcp-docker-bench.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { replaceSection } from './docs.ts';
import { memory, StdioSession, type Summary, summarize } from './lib.ts';

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
  /** The engine's own time per container in our up, from its Created to its State.StartedAt (ms). */
  engineStart?: Series;
  dockerCompose?: string;
  load?: number[];
  errors: { figure: string; why: string }[];
}

interface Options {
  bin: string;
  env: Record<string, string>;
  rounds?: number;
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
  const names = ['db', 'cache', 'api1', 'api2', 'api3', 'api4', 'web1', 'web2', 'web3', 'web4'];
  const deps: Record<string, string[]> = {
    api1: ['db'],
    api2: ['db'],
    api3: ['cache'],
    api4: ['cache', 'db'],
    web1: ['api1'],
    web2: ['api2'],
    web3: ['api3'],
    web4: ['api4', 'api1'],
  };
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

/** Created → StartedAt of each container of a project, as the engine records them. */
function engineTimes(project: string, env: Record<string, string>): number[] {
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`], {
    env,
    encoding: 'utf8',
  })
    .stdout.split(/\s+/)
    .filter(Boolean);
  if (ids.length === 0) return [];
  const r = spawnSync('docker', ['inspect', ...ids], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const infos = JSON.parse(r.stdout || '[]') as { Created: string; State: { StartedAt: string } }[];
  return infos.map((i) => Date.parse(i.State.StartedAt) - Date.parse(i.Created)).filter((x) => x >= 0);
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
    const engine: number[] = [];
    try {
      await down();
      for (let i = 0; i < rounds; i++) {
        log(`compose up round ${i + 1}/${rounds}…`);
        const order = i % 2 ? ['dc', 'ours'] : ['ours', 'dc'];
        for (const who of order) {
          if (who === 'ours') {
            let t0 = performance.now();
            await call(s, 'docker_compose_up', { project_dir: dir, project_name: ours });
            up['mcp-docker']?.push(performance.now() - t0);
            engine.push(...engineTimes(ours, o.env));
            t0 = performance.now();
            const r = await call(s, 'docker_compose_up', { project_dir: dir, project_name: ours });
            again['mcp-docker']?.push(performance.now() - t0);
            const text = r.content?.[0]?.text ?? '';
            if (!text.includes('unchanged') || /created|recreated|started/.test(text))
              throw new Error(`the second up changed something: ${text.slice(0, 300)}`);
          } else if (haveDc) {
            up['docker-compose 1.29']?.push(
              dockerCompose(['-f', file, '-p', theirs, 'up', '-d'], o.env, dir),
            );
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
    if (engine.length) report.engineStart = { ...summarize(engine), samples: engine };
    for (const [k, xs] of Object.entries(again))
      if (xs.length) report.again[k] = { ...summarize(xs), samples: xs };

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
    ...(c.engineStart && ours
      ? [
          '',
          `Where the time of our \`up\` goes: the engine takes ${f0(c.engineStart.median)} ms (median; p10–p90 ${f0(c.engineStart.p10)}–${f0(c.engineStart.p90)}) from a container's creation to its start, and a container is reported healthy no sooner than one 1 s interval after it starts. Along the three levels that is at least 3 × ${f0(c.engineStart.median)} + 2 × 1000 ≈ ${f0(3 * c.engineStart.median + 2000)} ms of engine time that no client can save, of our ${f0(ours.median)} ms. Services already start side by side as soon as their dependencies are up, and each dependency poll is one list call every 150 ms; docker-compose pays the same floor plus its own overhead, which its second \`up\` shows (${f0(c.again['docker-compose 1.29']?.median)} ms to change nothing). Half its time would need that overhead to exceed the floor; on this engine it does not.`,
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
  const root = resolve(import.meta.dir, '..');
  if (!process.argv.includes('--no-build')) {
    const b = Bun.spawnSync([process.execPath, 'build.ts'], {
      cwd: root,
      stdout: 'inherit',
      stderr: 'inherit',
    });
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
  const at = process.argv.indexOf('--rounds');
  const rounds = at >= 0 ? Number(process.argv[at + 1]) : 5;
  const { loadavg } = await import('node:os');
  const report = await runCompose({ bin, env, rounds, log: (s) => console.error(`[bench] ${s}`) });
  report.load = loadavg().map((x) => Number(x.toFixed(2)));
  console.log(JSON.stringify(report, (k, v) => (k === 'samples' ? undefined : v), 2));
  replaceSection(
    join(root, 'docs/BENCHMARKS.md'),
    START,
    END,
    composeSection(report, new Date().toISOString().slice(0, 10)),
  );
  console.error('[bench] wrote the compose section of docs/BENCHMARKS.md');
  process.exit(report.errors.length > 0 ? 1 : 0);
}
