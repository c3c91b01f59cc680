/**
 * `npm test`: find or start a Docker engine, make the test image, build the binary, run `bun test` against
 * them, and tear down what this run made. Extra arguments go to `bun test` (`npm test -- test/unit`).
 *
 * The LAST line printed is always `N passed, N failed[, N skipped]`: CI counts that line. A missing engine or
 * a failed build is a failure, never a skip.
 *
 * The binary the end-to-end tests drive is the shipped artifact when there is a current one: this host's
 * binary from the all-target build in dist/release (MCP_DOCKER_RELEASE_DIR), the very file its archive
 * holds, when its build-info.json matches this source tree, Bun and version (CI: .ci/run runs
 * `bun build.ts --all` first). Otherwise the runner builds dist/mcp-docker, except with CI=true, where a
 * missing or stale release build fails the run. It says which binary it used.
 *
 * Only what the selected tests need is prepared: `npm test -- test/unit` (unit tests are pure functions)
 * builds no binary and starts no engine or registries. A run with no path, or any path outside test/unit,
 * gets everything (CI's full run is unchanged).
 *
 * Podman: the full run (no arguments) adds a second pass over PODMAN_SUBSET (scripts/test-plan.ts) against a
 * private `podman system service` (scripts/podman.ts); without podman that pass fails under CI=true and counts
 * one skipped test otherwise. `MCP_DOCKER_TEST_ENGINE=podman npm test -- FILES` runs any selection against
 * Podman instead of Docker. The tests see MCP_DOCKER_TEST_ENGINE=docker|podman (test/helpers/podman.ts).
 *
 * MCP_DOCKER_SKIP_BUILD=1 skips `bun build.ts` and uses MCP_DOCKER_BIN, a current release binary or whatever
 * dist/mcp-docker exists. A dev convenience only: CI never sets it, and it is ignored when CI=true.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { relative, resolve } from 'node:path';
import { releaseVersion } from '../build.ts';
import { currentHostBinary } from '../packaging/build-info.ts';
import { hostTarget } from '../packaging/targets.ts';
import { type SwarmCluster, startSwarm, stopSwarm } from '../test/helpers/swarm-cluster.ts';
import {
  type DockerHost,
  EngineError,
  engineDir,
  ensureTestImage,
  findRunningEngine,
  type PrivateEngine,
  ping,
  removeLabelled,
  startPrivateEngine,
  stopPrivateEngine,
} from './engine.ts';
import { findPodman, type PrivatePodman, startPodman, stopPodman } from './podman.ts';
import { RegistryError, startRegistries, type TestRegistries } from './registry.ts';
import { type Counts, failureRecap, parseSummary } from './test-output.ts';
import { needsEngine, needsSwarm, PODMAN_SUBSET, wantsPodmanPass } from './test-plan.ts';

const REPO = resolve(import.meta.dir, '..');
const TEST_IMAGE = 'mcp-test/busybox:latest';
const TEST_LABEL = 'mcp-docker-test';
/** This run's label value: teardown removes its containers and leftovers of runs over an hour old, never a concurrent run's. */
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const STALE_SECONDS = 3600;
const RELEASE_DIR = resolve(REPO, process.env.MCP_DOCKER_RELEASE_DIR ?? 'dist/release');

let host: DockerHost | undefined;
let privateEngine: PrivateEngine | undefined;
let podman: PrivatePodman | undefined;
/** The test Swarm (two private dockerds in namespaces), when the selection has swarm or stack tests. */
let swarm: SwarmCluster | undefined;
/** `MCP_DOCKER_TEST_ENGINE=podman`: the whole selection runs against a private Podman service instead. */
const PODMAN_ONLY = process.env.MCP_DOCKER_TEST_ENGINE === 'podman';
let registries: TestRegistries | undefined;
let testRun: ChildProcess | undefined;
let tearingDown: Promise<void> | undefined;
let testedBinary: string | undefined;
/** What failed in each pass, repeated before the summary line: CI keeps only the end of the output. */
const failures: string[] = [];

const say = (message: string) => console.error(`[test] ${message}`);
const failure = (): Counts => ({ passed: 0, failed: 1, skipped: 0 });

/** Runs a child with stdio inherited; resolves to its exit code (signals count as failure). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: 'inherit' });
    child.on('error', () => done(127));
    child.on('exit', (code) => done(code ?? 1));
  });
}

/** Runs `bun test`, streaming its output through while keeping a copy to read the summary from. */
function runTests(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    let output = '';
    // bunfig.toml's [test] timeout is not read by this bun; the flag is.
    const child = spawn(process.execPath, ['test', '--timeout', '60000', ...args], {
      cwd: REPO,
      env,
      stdio: ['inherit', 'pipe', 'pipe'],
    });
    testRun = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', (error) => {
      output += `\n${error.message}`;
      done({ code: 127, output });
    });
    child.on('close', (code) => {
      testRun = undefined;
      done({ code: code ?? 1, output });
    });
  });
}

/** The binary the end-to-end tests drive and a line saying what it is; undefined when the build failed. */
async function testBinary(): Promise<{ bin: string; about: string } | undefined> {
  const skipBuild = process.env.MCP_DOCKER_SKIP_BUILD === '1' && process.env.CI !== 'true';
  // With the build skipped, a binary named in the environment is used as is.
  if (skipBuild && process.env.MCP_DOCKER_BIN) {
    const bin = resolve(REPO, process.env.MCP_DOCKER_BIN);
    return {
      bin,
      about: `${bin} (MCP_DOCKER_BIN, MCP_DOCKER_SKIP_BUILD=1: not checked against the sources)`,
    };
  }
  let version: string;
  try {
    version = releaseVersion(undefined, process.env.GITHUB_REF);
  } catch (error) {
    say(`build failed: ${(error as Error).message}`);
    return undefined;
  }
  const release = currentHostBinary(RELEASE_DIR, hostTarget(), version);
  if ('path' in release)
    return {
      bin: release.path,
      about: `${relative(REPO, release.path) || release.path}, the release artifact for this host (${version}), current for these sources`,
    };
  if (process.env.CI === 'true') {
    // CI built every target just before (.ci/run): the suite must drive that artifact, not a second build.
    say(`no current release build for this host in ${RELEASE_DIR}: ${release.reason}`);
    say(
      'CI runs the end-to-end suite against the shipped binary: run `bun build.ts --all` first (.ci/run does)',
    );
    return undefined;
  }
  const bin = resolve(REPO, 'dist/mcp-docker');
  if (skipBuild)
    return {
      bin,
      about: `dist/mcp-docker as it is (MCP_DOCKER_SKIP_BUILD=1; no current release build: ${release.reason})`,
    };
  say(`building dist/mcp-docker (no current release build for this host: ${release.reason})`);
  const code = await run(process.execPath, ['build.ts']);
  if (code !== 0) {
    say(`build failed: \`bun build.ts\` exited ${code} — src/main.ts must compile to dist/mcp-docker.`);
    say('(for local work on tests only, MCP_DOCKER_SKIP_BUILD=1 skips the build; CI never does)');
    return undefined;
  }
  return { bin, about: `dist/mcp-docker, built now (${version})` };
}

async function main(args: string[]): Promise<Counts> {
  if (!needsEngine(args)) {
    say('unit tests only: no binary, engine or registries needed');
    return countsOf('unit tests', await runTests(args, { ...process.env, MCP_DOCKER_TEST_RUN: RUN_ID }));
  }
  // 1. The binary the end-to-end tests drive: the current release artifact for this host, else a build.
  const binary = await testBinary();
  if (!binary) return failure();
  testedBinary = binary.about;
  say(`end-to-end tests run against ${binary.about}`);

  // 2. An engine: DOCKER_HOST, the default socket, or a private dockerd this run starts and stops
  //    (with MCP_DOCKER_TEST_ENGINE=podman: a private Podman service, whatever DOCKER_HOST says).
  host = PODMAN_ONLY ? undefined : await findRunningEngine(process.env.DOCKER_HOST);
  if (PODMAN_ONLY) {
    podman = await startPodman();
    host = podman.host;
    say(`private Podman service ready at ${host}`);
  } else if (host) {
    say(`using the engine at ${host}`);
  } else {
    const dir = engineDir(REPO);
    say(`no engine answers; starting a private dockerd in ${dir}`);
    privateEngine = await startPrivateEngine(dir);
    host = privateEngine.host;
    say(`private engine ready at ${host}`);
  }

  // 3. The image every integration test runs.
  const image = await ensureTestImage(host, TEST_IMAGE);
  if (image === 'built') say(`built ${TEST_IMAGE} from /bin/busybox`);

  // The loopback registries the image pull/push/build tests use (found or started; a failure fails the run).
  registries = await startRegistries();
  for (const note of registries.notes) say(note);

  // The test Swarm, shared by every swarm and stack spec of the run (the Podman-only run has none).
  if (!PODMAN_ONLY && needsSwarm(args)) {
    say('starting the test Swarm: two private dockerds in network namespaces');
    swarm = await startSwarm(TEST_IMAGE);
    say(`test Swarm ready: manager ${swarm.manager.host}, worker ${swarm.worker.host}`);
  }

  // 4. The tests, with the engine and binary in their environment.
  const env = {
    ...process.env,
    ...swarm?.env,
    DOCKER_HOST: host,
    MCP_DOCKER_TEST_IMAGE: TEST_IMAGE,
    MCP_DOCKER_BIN: binary.bin,
    MCP_DOCKER_TEST_RUN: RUN_ID,
    MCP_DOCKER_TEST_ENGINE: PODMAN_ONLY ? 'podman' : 'docker',
    ...registries.env,
  };
  const counts = countsOf(PODMAN_ONLY ? 'Podman' : 'Docker', await runTests(args, env));
  if (PODMAN_ONLY || !wantsPodmanPass(args)) return counts;
  return add(counts, await podmanPass(env));
}

const add = (a: Counts, b: Counts): Counts => ({
  passed: a.passed + b.passed,
  failed: a.failed + b.failed,
  skipped: a.skipped + b.skipped,
});

/**
 * The full run's second pass: PODMAN_SUBSET against a private Podman service. Without podman it fails
 * under CI=true and counts one skipped test elsewhere, saying so; it never passes by not running.
 */
async function podmanPass(env: NodeJS.ProcessEnv): Promise<Counts> {
  if (!findPodman()) {
    if (process.env.CI === 'true') {
      say('FAILED: podman is not installed, and CI runs the Podman subset (apt-get install podman)');
      return failure();
    }
    say('SKIPPED the Podman subset: podman is not installed (apt-get install podman); counted as 1 skipped');
    return { passed: 0, failed: 0, skipped: 1 };
  }
  const started = Date.now();
  try {
    podman = await startPodman();
    say(`Podman pass: ${PODMAN_SUBSET.length} suites against the private Podman service at ${podman.host}`);
    await ensureTestImage(podman.host, TEST_IMAGE);
  } catch (error) {
    // The Docker pass's counts stand; this pass counts one failure with its reason.
    say(`FAILED: the Podman pass could not start: ${(error as Error).message}`);
    return failure();
  }
  const counts = countsOf(
    'Podman pass',
    await runTests(PODMAN_SUBSET, { ...env, DOCKER_HOST: podman.host, MCP_DOCKER_TEST_ENGINE: 'podman' }),
  );
  say(
    `Podman pass: ${counts.passed} passed, ${counts.failed} failed in ${Math.round((Date.now() - started) / 1000)} s`,
  );
  return counts;
}

/**
 * The run's counts from bun test's summary; a run that crashed or exited non-zero without a failure counts one.
 * Keeps the recap of what failed, printed again just above the summary line.
 */
function countsOf(pass: string, { code, output }: { code: number; output: string }): Counts {
  const recap = failureRecap(output);
  if (recap.length > 0) failures.push(`${pass}:`, ...recap.map((line) => `  ${line}`));
  const counts = parseSummary(output);
  if (!counts) {
    say(`bun test exited ${code} without a summary: counted as one failure`);
    return failure();
  }
  if (code !== 0 && counts.failed === 0) {
    say(`bun test exited ${code} although no test failed (an error outside a test?): counted as one failure`);
    return { ...counts, failed: 1 };
  }
  return counts;
}

/** Removes labelled containers and stops the engine if this run started it. Safe to call twice. */
function teardown(): Promise<void> {
  tearingDown ??= (async () => {
    testRun?.kill('SIGTERM');
    try {
      if (host && (await ping(host))) {
        const removed = await removeLabelled(host, TEST_LABEL, RUN_ID, STALE_SECONDS);
        if (removed > 0) say(`removed ${removed} container(s) labelled ${TEST_LABEL}`);
      }
    } catch (error) {
      say(`cleanup of labelled containers failed: ${(error as Error).message}`);
    }
    await registries?.stop().catch((error) => say(`stopping the test registries failed: ${error.message}`));
    if (swarm) {
      say('stopping the test Swarm');
      await stopSwarm(swarm).catch((error) => say(`stopping the test Swarm failed: ${error.message}`));
    }
    if (podman) {
      say('stopping the private Podman service');
      await stopPodman(podman).catch((error) => say(`stopping Podman failed: ${error.message}`));
    }
    if (privateEngine) {
      say('stopping the private engine');
      await stopPrivateEngine(privateEngine);
    }
  })();
  return tearingDown;
}

function finish(counts: Counts): never {
  if (testedBinary) say(`end-to-end binary: ${testedBinary}`);
  if (failures.length > 0) {
    say('failed tests (each printed in full above, where it ran):');
    for (const line of failures) console.error(line);
  }
  const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
  console.log(`${counts.passed} passed, ${counts.failed} failed${skipped}`);
  process.exit(counts.failed > 0 ? 1 : 0);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    say(`${signal}: tearing down`);
    void teardown().finally(() => finish(failure()));
  });
}

let counts: Counts;
try {
  counts = await main(process.argv.slice(2));
} catch (error) {
  const reason =
    error instanceof EngineError || error instanceof RegistryError
      ? error.message
      : ((error as Error).stack ?? String(error));
  say(`FAILED: ${reason}`);
  counts = failure();
} finally {
  await teardown();
}
finish(counts);
