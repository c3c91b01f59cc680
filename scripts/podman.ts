/**
 * Dev tooling for `scripts/test.ts`: a private Podman service (`podman system service`) in its own
 * directory, for running integration suites against Podman's Docker-compatible API. Own --root and
 * --runroot, the vfs storage driver, and a containers.conf whose ulimits a sandbox accepts; stopped by
 * its pid, its containers removed and its directory deleted.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, EngineError, ping, unmountUnder } from './engine.ts';

export interface PrivatePodman {
  host: string;
  dir: string;
  child: ChildProcess;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The podman binary on PATH, or undefined. */
export const findPodman = (): string | undefined => Bun.which('podman') ?? undefined;

// Podman's default rlimits (nofile 1048576) are refused in some sandboxes; these work everywhere.
const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
`;

// The loopback test registries speak plain HTTP (Docker trusts 127.0.0.0/8 by default; Podman must be told).
const REGISTRIES_CONF = `[[registry]]
location = "127.0.0.1:5000"
insecure = true

[[registry]]
location = "127.0.0.1:5001"
insecure = true
`;

/** The podman flags that keep every piece of state in `dir`. */
const storageArgs = (dir: string) => [
  '--root',
  join(dir, 'root'),
  '--runroot',
  join(dir, 'run'),
  '--storage-driver',
  'vfs',
];

/** Starts `podman system service` in a new temp dir and waits for /_ping. */
export async function startPodman(waitMs = 30_000): Promise<PrivatePodman> {
  const podman = findPodman();
  if (!podman) throw new EngineError('podman not found (apt-get install podman)');
  const base = tmpdir().length <= 40 ? tmpdir() : '/tmp';
  const dir = mkdtempSync(join(base, 'mcpp-'));
  writeFileSync(join(dir, 'containers.conf'), CONTAINERS_CONF);
  writeFileSync(join(dir, 'registries.conf'), REGISTRIES_CONF);
  const host = `unix://${join(dir, 'podman.sock')}`;
  const log = join(dir, 'podman.log');
  const logFd = openSync(log, 'w');
  const child = spawn(podman, [...storageArgs(dir), 'system', 'service', '--time=0', host], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      CONTAINERS_CONF: join(dir, 'containers.conf'),
      CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    },
  });
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `podman exited (${signal ?? `code ${code}`})`;
  });
  child.on('error', (error) => {
    exited = `podman could not be spawned: ${error.message}`;
  });
  const engine = { host, dir, child };
  const end = Date.now() + waitMs;
  while (!exited && Date.now() < end) {
    if (await ping(host, 1_000)) return engine;
    await sleep(200);
  }
  const tail = (() => {
    try {
      return readFileSync(log, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
    } catch {
      return '(no log)';
    }
  })();
  await stopPodman(engine);
  throw new EngineError(`${exited ?? `podman did not answer /_ping within ${waitMs / 1000}s`}\n${tail}`);
}

/** Removes its containers (their conmon processes outlive the service), stops the service by pid, deletes its dir. */
export async function stopPodman(engine: PrivatePodman): Promise<void> {
  try {
    const res = await api(engine.host, 'GET', '/containers/json?all=1');
    if (res.ok)
      for (const { Id } of (await res.json()) as { Id: string }[])
        await api(engine.host, 'DELETE', `/containers/${Id}?force=1&v=1`);
  } catch {
    // the service is already gone: podman rm below still finds them
  }
  const { child } = engine;
  if (child.pid && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const exited = new Promise((done) => child.once('exit', done));
    if ((await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) === false) {
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(2_000)]);
    }
  }
  const podman = findPodman();
  if (podman)
    spawnSync(podman, [...storageArgs(engine.dir), 'rm', '--all', '--force'], {
      stdio: 'ignore',
      env: { ...process.env, CONTAINERS_CONF: join(engine.dir, 'containers.conf') },
      timeout: 30_000,
    });
  // Exec sessions leave a conmon behind for --exit-delay (300 s) after they end: this run's go now.
  for (const pid of conmonsOf(engine.dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  unmountUnder(engine.dir);
  rmSync(engine.dir, { recursive: true, force: true });
}

/** The conmon processes whose command line names `dir` (only this service's). */
function conmonsOf(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if ((argv[0] ?? '').endsWith('conmon') && argv.some((a) => a.startsWith(`${dir}/`))) found.push(pid);
    } catch {
      // raced with its exit
    }
  }
  return found;
}
