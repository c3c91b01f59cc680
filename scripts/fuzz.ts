/**
 * `npm run fuzz`: the fuzz properties of test/fuzz with many more runs than `npm test` gives them,
 * inside a time budget. Options (flags or env):
 *   --runs N      (FUZZ_RUNS, default 2000)  runs per property; `npm test` uses 12–300
 *   --seed S      (FUZZ_SEED)                replay a failure with the seed fast-check printed
 *   --budget SEC  (FUZZ_BUDGET, default 600) the whole run is stopped after this many seconds
 * Builds the binary into a temp dir for the stdio protocol fuzzer unless MCP_DOCKER_BIN is set.
 * The engine is a recording stand-in the tests start themselves: nothing real is created.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function option(flag: string, env: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : (process.env[env] ?? fallback);
}

const runs = option('--runs', 'FUZZ_RUNS', '2000') as string;
const seed = option('--seed', 'FUZZ_SEED');
const budget = Number(option('--budget', 'FUZZ_BUDGET', '600'));

let bin = process.env.MCP_DOCKER_BIN;
if (!bin) {
  bin = join(mkdtempSync(join(tmpdir(), 'mcp-docker-fuzz-')), 'mcp-docker');
  const built = spawnSync('bun', ['build.ts', bin], { stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('fuzz: the build failed');
    process.exit(1);
  }
}

console.error(`fuzz: ${runs} runs per property${seed ? `, seed ${seed}` : ''}, budget ${budget} s`);
const child = spawn('bun', ['test', 'test/fuzz', '--timeout', String(budget * 1000)], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: runs, ...(seed && { FUZZ_SEED: seed }), MCP_DOCKER_BIN: bin },
});
const timer = setTimeout(() => {
  console.error(`fuzz: budget of ${budget} s spent; stopping (raise --budget or lower --runs)`);
  child.kill('SIGTERM');
}, budget * 1000);
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  process.exit(code ?? (signal ? 1 : 0));
});
