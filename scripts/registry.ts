/**
 * Two loopback registries for the image tests, run by `scripts/test.ts`: 127.0.0.1:5000 without auth and
 * 127.0.0.1:5001 with htpasswd basic auth (fixed test credentials). Debian's `docker-registry` serves them
 * over plain HTTP, which the engine accepts because 127.0.0.0/8 is an insecure registry by default.
 *
 * The ports are fixed, so runs that overlap share the registries: each run takes a lease (a file named by
 * its pid, under a lock) and the last one out stops the registries the runs started. A registry that was
 * already answering and that no run started (e.g. yours) is used as it is and never stopped.
 * `bun scripts/registry.ts` holds a lease until Ctrl-C, to keep them up while working on the tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PLAIN_ADDRESS = '127.0.0.1:5000';
export const AUTH_ADDRESS = '127.0.0.1:5001';
/** Test-only credentials of the auth registry (it stores nothing but test images). */
export const AUTH_USER = 'mcpt';
export const AUTH_PASSWORD = 'mcpt-registry-pw-7Q2x';

const START_WAIT_MS = 15_000;
const STATE_DIR = join(tmpdir(), 'mcp-docker-test-registries');
const LOCK = join(STATE_DIR, 'lock');
const LEASES = join(STATE_DIR, 'leases');
const STATE = join(STATE_DIR, 'started.json');

export class RegistryError extends Error {}

export interface TestRegistries {
  /** What the tests read: addresses and the auth registry's credentials. */
  env: Record<string, string>;
  /** Drops this run's lease; the last lease holder stops the registries runs started. */
  stop(): Promise<void>;
  /** One line per registry: started or found. */
  notes: string[];
}

/** Registries started by some run, stopped when the last lease goes. */
interface Started {
  pid: number;
  address: string;
  dir: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Runs `fn` holding the lock directory; a lock older than 2 min is a crashed holder's and is broken. */
async function locked<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(LEASES, { recursive: true });
  const deadline = Date.now() + 150_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new RegistryError(`could not take ${LOCK} within 150 s`);
      else await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

const readStarted = (): Started[] => {
  try {
    return JSON.parse(readFileSync(STATE, 'utf8')) as Started[];
  } catch {
    return [];
  }
};

const partition = <T>(items: T[], keep: (item: T) => boolean): [T[], T[]] => [
  items.filter(keep),
  items.filter((item) => !keep(item)),
];

/** HTTP status of GET /v2/ at an address, or undefined when nothing listens there. */
async function probe(address: string, authorization?: string): Promise<number | undefined> {
  try {
    const res = await fetch(`http://${address}/v2/`, {
      signal: AbortSignal.timeout(2_000),
      headers: authorization ? { authorization } : {},
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

/** Is what answers at `address` the registry we want? Throws when something else holds the port. */
async function existing(address: string, withAuth: boolean): Promise<boolean> {
  const status = await probe(address);
  if (status === undefined) return false;
  if (!withAuth) {
    if (status === 200) return true;
    throw new RegistryError(
      `${address} answers /v2/ with HTTP ${status}, not an open registry: free the port or stop what listens there`,
    );
  }
  if (status !== 401)
    throw new RegistryError(
      `${address} answers /v2/ with HTTP ${status}; the auth test registry must answer 401 without credentials`,
    );
  if ((await probe(address, basic(AUTH_USER, AUTH_PASSWORD))) !== 200)
    throw new RegistryError(
      `the registry at ${address} refuses the test credentials (${AUTH_USER}); stop it so the runner starts its own`,
    );
  return true;
}

function configYaml(dir: string, address: string, htpasswd?: string): string {
  const auth = htpasswd ? `auth:\n  htpasswd:\n    realm: mcp-docker-tests\n    path: ${htpasswd}\n` : '';
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${address}`,
    auth,
  ].join('\n');
}

/** Starts a registry detached from this run (the last lease holder stops it), once it answers /v2/. */
async function start(address: string, withAuth: boolean): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpt-registry-'));
  let htpasswd: string | undefined;
  if (withAuth) {
    const made = spawnSync('htpasswd', ['-Bbn', AUTH_USER, AUTH_PASSWORD], { encoding: 'utf8' });
    if (made.status !== 0 || !made.stdout)
      throw new RegistryError(
        `htpasswd failed (${made.error?.message ?? made.stderr.trim()}): install apache2-utils (see .ci/run)`,
      );
    htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, made.stdout);
  }
  const config = join(dir, 'config.yml');
  writeFileSync(config, configYaml(dir, address, htpasswd));
  const log = join(dir, 'registry.log');
  const fd = openSync(log, 'a');
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  child.unref();
  let exit: string | undefined;
  child.on('error', (e) => {
    exit = e.message;
  });
  child.on('exit', (code, sig) => {
    exit = `exited ${code ?? sig}`;
  });
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline && exit === undefined) {
    // Answering and still alive: a registry that failed to bind would have exited.
    if ((await probe(address)) === (withAuth ? 401 : 200) && exit === undefined && child.pid)
      return { pid: child.pid, address, dir };
    await sleep(100);
  }
  child.kill('SIGKILL');
  const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-10).join('\n') : '';
  rmSync(dir, { recursive: true, force: true });
  throw new RegistryError(
    `the test registry at ${address} did not start (${exit ?? `no answer within ${START_WAIT_MS / 1000} s`}); ` +
      `is docker-registry installed (see .ci/run)?${tail ? `\n${tail}` : ''}`,
  );
}

async function stopOne(s: Started): Promise<void> {
  // Only a process that is still our registry (pids get reused).
  const cmd = (() => {
    try {
      return readFileSync(`/proc/${s.pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  })();
  if (alive(s.pid) && cmd.includes(s.dir)) {
    process.kill(s.pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(s.pid); i++) await sleep(100);
    if (alive(s.pid)) process.kill(s.pid, 'SIGKILL');
  }
  rmSync(s.dir, { recursive: true, force: true });
}

/** Finds or starts both registries and takes a lease on them. Failure throws: the run must fail, not skip. */
export async function startRegistries(leaseHolder = process.pid): Promise<TestRegistries> {
  const notes: string[] = [];
  await locked(async () => {
    const [started, gone] = partition(readStarted(), (s) => alive(s.pid));
    for (const s of gone) rmSync(s.dir, { recursive: true, force: true });
    const fresh: Started[] = [];
    try {
      for (const [address, withAuth] of [
        [PLAIN_ADDRESS, false],
        [AUTH_ADDRESS, true],
      ] as const) {
        const kind = withAuth ? 'auth registry' : 'registry';
        if (await existing(address, withAuth)) notes.push(`using the ${kind} already at ${address}`);
        else {
          fresh.push(await start(address, withAuth));
          notes.push(`started the ${kind} at ${address}`);
        }
      }
    } catch (error) {
      await Promise.all(fresh.map(stopOne));
      throw error;
    }
    writeFileSync(STATE, JSON.stringify([...started, ...fresh]));
    writeFileSync(join(LEASES, String(leaseHolder)), '');
  });
  return {
    env: {
      MCP_DOCKER_TEST_REGISTRY: PLAIN_ADDRESS,
      MCP_DOCKER_TEST_AUTH_REGISTRY: AUTH_ADDRESS,
      MCP_DOCKER_TEST_AUTH_USER: AUTH_USER,
      MCP_DOCKER_TEST_AUTH_PASSWORD: AUTH_PASSWORD,
    },
    stop: () =>
      locked(async () => {
        rmSync(join(LEASES, String(leaseHolder)), { force: true });
        // Leases of runs that died without teardown do not keep the registries up.
        const holders = readdirSync(LEASES).filter((name) => alive(Number(name)));
        for (const name of readdirSync(LEASES))
          if (!holders.includes(name)) rmSync(join(LEASES, name), { force: true });
        if (holders.length > 0) return;
        await Promise.all(readStarted().map(stopOne));
        rmSync(STATE, { force: true });
      }),
    notes,
  };
}

if (import.meta.main) {
  try {
    const registries = await startRegistries();
    for (const note of registries.notes) console.error(`[registry] ${note}`);
    for (const [k, v] of Object.entries(registries.env)) console.log(`${k}=${v}`);
    console.error('[registry] up; Ctrl-C releases them (stopped if no other run uses them)');
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.on(signal, () => void registries.stop().finally(() => process.exit(0)));
    setInterval(() => {}, 1 << 30);
  } catch (error) {
    console.error(`[registry] ${(error as Error).message}`);
    process.exit(1);
  }
}
