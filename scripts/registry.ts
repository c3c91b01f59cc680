/**
 * Two loopback registries for the image tests, run by `scripts/test.ts`: 127.0.0.1:5000 without auth and
 * 127.0.0.1:5001 with htpasswd basic auth (fixed test credentials). Debian's `docker-registry` serves them
 * over plain HTTP, which the engine accepts because 127.0.0.0/8 is an insecure registry by default.
 * Storage lives in a temp dir removed at stop.
 *
 * A registry already answering on a port (started by hand, or by a concurrent run) is used as it is and
 * never stopped. `bun scripts/registry.ts` starts both and keeps them up until Ctrl-C, for working on the
 * image tests while other runs come and go.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PLAIN_ADDRESS = '127.0.0.1:5000';
export const AUTH_ADDRESS = '127.0.0.1:5001';
/** Test-only credentials of the auth registry (it stores nothing but test images). */
export const AUTH_USER = 'mcpt';
export const AUTH_PASSWORD = 'mcpt-registry-pw-7Q2x';

const START_WAIT_MS = 15_000;

export class RegistryError extends Error {}

export interface TestRegistries {
  /** What the tests read: addresses and the auth registry's credentials. */
  env: Record<string, string>;
  /** Stops the registries this call started (none it found) and removes their storage. */
  stop(): Promise<void>;
  /** One line per registry: started or found. */
  notes: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

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

interface Started {
  child: ChildProcess;
  dir: string;
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
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exit: string | undefined;
  child.on('error', (e) => {
    exit = e.message;
  });
  child.on('exit', (code, sig) => {
    exit = `exited ${code ?? sig}`;
  });
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline && exit === undefined) {
    const status = await probe(address);
    if (status === (withAuth ? 401 : 200)) return { child, dir };
    await sleep(100);
  }
  child.kill('SIGKILL');
  const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-10).join('\n');
  rmSync(dir, { recursive: true, force: true });
  throw new RegistryError(
    `the test registry at ${address} did not start (${exit ?? `no answer within ${START_WAIT_MS / 1000} s`}); ` +
      `is docker-registry installed (see .ci/run)?${tail ? `\n${tail}` : ''}`,
  );
}

async function stopOne(s: Started): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) {
    const exited = new Promise((resolve) => s.child.once('exit', resolve));
    s.child.kill('SIGTERM');
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(s.dir, { recursive: true, force: true });
}

/** Finds or starts both registries. Any failure throws RegistryError: the run must fail, not skip. */
export async function startRegistries(): Promise<TestRegistries> {
  const started: Started[] = [];
  const notes: string[] = [];
  try {
    for (const [address, withAuth] of [
      [PLAIN_ADDRESS, false],
      [AUTH_ADDRESS, true],
    ] as const) {
      const kind = withAuth ? 'auth registry' : 'registry';
      if (await existing(address, withAuth)) notes.push(`using the ${kind} already at ${address}`);
      else {
        started.push(await start(address, withAuth));
        notes.push(`started the ${kind} at ${address}`);
      }
    }
  } catch (error) {
    await Promise.all(started.map(stopOne));
    throw error;
  }
  return {
    env: {
      MCP_DOCKER_TEST_REGISTRY: PLAIN_ADDRESS,
      MCP_DOCKER_TEST_AUTH_REGISTRY: AUTH_ADDRESS,
      MCP_DOCKER_TEST_AUTH_USER: AUTH_USER,
      MCP_DOCKER_TEST_AUTH_PASSWORD: AUTH_PASSWORD,
    },
    stop: async () => {
      await Promise.all(started.map(stopOne));
    },
    notes,
  };
}

if (import.meta.main) {
  try {
    const registries = await startRegistries();
    for (const note of registries.notes) console.error(`[registry] ${note}`);
    for (const [k, v] of Object.entries(registries.env)) console.log(`${k}=${v}`);
    console.error('[registry] up; Ctrl-C stops the ones started here');
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.on(signal, () => void registries.stop().finally(() => process.exit(0)));
    setInterval(() => {}, 1 << 30);
  } catch (error) {
    console.error(`[registry] ${(error as Error).message}`);
    process.exit(1);
  }
}
