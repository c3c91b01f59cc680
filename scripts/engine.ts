/**
 * Dev tooling for `scripts/test.ts`: find a Docker engine, or start and stop a private one, and build the
 * test image. Talks to the engine API directly (Bun's fetch over a unix socket), so no docker CLI is needed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Engine address in DOCKER_HOST form: `unix:///path/docker.sock` or `tcp://127.0.0.1:2375`. */
export type DockerHost = string;

export class EngineError extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request to the engine API. Only unix:// and plain tcp:// (http) hosts are supported. */
export function api(
  host: DockerHost,
  method: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const timeout = AbortSignal.timeout(60_000);
  if (host.startsWith('unix://')) {
    return fetch(`http://engine${path}`, {
      ...init,
      method,
      unix: host.slice('unix://'.length),
      signal: timeout,
    });
  }
  if (host.startsWith('tcp://')) {
    return fetch(`http://${host.slice('tcp://'.length)}${path}`, { ...init, method, signal: timeout });
  }
  throw new EngineError(`unsupported DOCKER_HOST ${host}: use unix:// or tcp://`);
}

export async function ping(host: DockerHost, timeoutMs = 2_000): Promise<boolean> {
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    const res = host.startsWith('unix://')
      ? await fetch('http://engine/_ping', { unix: host.slice('unix://'.length), signal })
      : await fetch(`http://${host.replace(/^tcp:\/\//, '')}/_ping`, { signal });
    return res.ok && (await res.text()) === 'OK';
  } catch {
    return false;
  }
}

/** An engine that already answers: DOCKER_HOST first, then the default socket. */
export async function findRunningEngine(envHost: string | undefined): Promise<DockerHost | undefined> {
  if (envHost) {
    if (await ping(envHost)) return envHost;
    console.error(`[test] DOCKER_HOST=${envHost} does not answer /_ping; looking elsewhere`);
  }
  const fallback = 'unix:///var/run/docker.sock';
  if (existsSync('/var/run/docker.sock') && (await ping(fallback))) return fallback;
  return undefined;
}

/**
 * Where a private engine lives. Unix socket paths are capped at ~107 bytes and dockerd puts sockets up to
 * ~30 bytes deep under its exec-root, so a long repo path moves the engine to a short temp dir.
 */
export function engineDir(repoRoot: string): string {
  const inRepo = join(repoRoot, '.test-engine');
  if (inRepo.length <= 60) return inRepo;
  const hash = createHash('sha256').update(repoRoot).digest('hex').slice(0, 8);
  const base = tmpdir().length <= 40 ? tmpdir() : '/tmp';
  return join(base, `mcpd-${hash}`);
}

export interface PrivateEngine {
  host: DockerHost;
  dir: string;
  child: ChildProcess;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > end) return false;
    await sleep(100);
  }
  return true;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function logTail(log: string, lines = 30): string {
  try {
    return readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function findDockerd(): string | undefined {
  return (
    Bun.which('dockerd') ??
    ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((candidate) => existsSync(candidate))
  );
}

/** Lazily unmounts everything still mounted under `dir` (netns files, overlay layers), deepest first. */
export function unmountUnder(dir: string): void {
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((field) =>
      field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    )
    .filter((mountPoint) => mountPoint.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mountPoints) spawnSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
}

const ENGINE_PROCESS = /^(dockerd|containerd|containerd-shim.*|docker-proxy)$/;

/** The engine processes (dockerd, its containerd, shims, proxies) whose command line names `dir`. */
function engineProcesses(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid || pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const exe = (argv[0] ?? '').split('/').pop() ?? '';
      if (ENGINE_PROCESS.test(exe) && argv.some((arg) => arg.includes(`${dir}/`))) found.push(pid);
    } catch {
      // raced with its exit
    }
  }
  return found;
}

/** SIGKILLs what a daemon that did not shut down cleanly left running in `dir`. */
function killLeftovers(dir: string): void {
  for (const pid of engineProcesses(dir)) killQuietly(pid, 'SIGKILL');
}

/** Starts `dockerd` in `dir` and waits for /_ping. Throws EngineError with the reason and the log's tail. */
export async function startPrivateEngine(dir: string, waitMs = 30_000): Promise<PrivateEngine> {
  if (process.getuid?.() !== 0) throw new EngineError('no engine answers and a private dockerd needs root');
  const dockerd = findDockerd();
  if (!dockerd)
    throw new EngineError('no engine answers and no dockerd binary found (apt-get install docker.io)');
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'dockerd.pid');
  const log = join(dir, 'dockerd.log');
  const stalePid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
  if (stalePid && engineProcesses(dir).includes(stalePid)) {
    console.error(`[test] stopping dockerd ${stalePid} left running in ${dir} by an earlier run`);
    killQuietly(stalePid, 'SIGTERM');
    if (!(await waitGone(stalePid, 20_000))) killQuietly(stalePid, 'SIGKILL');
  }
  killLeftovers(dir);
  unmountUnder(dir);
  const host = `unix://${join(dir, 'docker.sock')}`;
  const logFd = openSync(log, 'w');
  // --iptables=false: never rewrite the host's DOCKER chains (another engine may own them) and never NAT
  // test containers outwards. Publishing on 127.0.0.1 still works through docker-proxy.
  const args = ['--host', host, '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec')];
  args.push('--pidfile', pidFile, '--iptables=false', '--containerd-namespace', 'mcpt');
  args.push('--containerd-plugins-namespace', 'mcpt-plugins');
  const child = spawn(dockerd, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `dockerd exited (${signal ?? `code ${code}`})`;
  });
  child.on('error', (error) => {
    exited = `dockerd could not be spawned: ${error.message}`;
  });
  const engine = { host, dir, child };
  const end = Date.now() + waitMs;
  while (!exited && Date.now() < end) {
    if (await ping(host, 1_000)) return engine;
    await sleep(250);
  }
  const reason = exited ?? `dockerd did not answer /_ping within ${waitMs / 1000}s`;
  await stopPrivateEngine(engine);
  throw new EngineError(`${reason}\n--- last lines of ${log} ---\n${logTail(log)}`);
}

/** SIGTERM, wait up to `graceMs` for the process to exit, then SIGKILL; finally unmount what it left. */
export async function stopPrivateEngine(engine: PrivateEngine, graceMs = 20_000): Promise<void> {
  const { pid } = engine.child;
  if (pid && isAlive(pid)) {
    killQuietly(pid, 'SIGTERM');
    if (!(await waitGone(pid, graceMs))) {
      console.error(`[test] dockerd ${pid} still running after ${graceMs / 1000}s: SIGKILL`);
      killQuietly(pid, 'SIGKILL');
      await waitGone(pid, 5_000);
      killLeftovers(engine.dir);
    }
  }
  // Let Node reap it, so no <defunct> dockerd outlives this process even briefly.
  const { child } = engine;
  if (child.exitCode === null && child.signalCode === null) {
    await Promise.race([new Promise((reaped) => child.once('exit', reaped)), sleep(2_000)]);
  }
  unmountUnder(engine.dir);
}

/**
 * Force-removes the containers carrying `label=value`, and those carrying `label` with any value that
 * are older than `staleSeconds` (a crashed run's leftovers). Returns how many went.
 */
export async function removeLabelled(
  host: DockerHost,
  label: string,
  value: string,
  staleSeconds: number,
): Promise<number> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const res = await api(host, 'GET', `/containers/json?all=1&filters=${filters}`);
  if (!res.ok) throw new EngineError(`listing ${label} containers: HTTP ${res.status} ${await res.text()}`);
  const cutoff = Date.now() / 1000 - staleSeconds;
  const containers = (
    (await res.json()) as { Id: string; Created: number; Labels: Record<string, string> }[]
  ).filter((c) => c.Labels[label] === value || c.Created < cutoff);
  for (const { Id } of containers) {
    const del = await api(host, 'DELETE', `/containers/${Id}?force=1&v=1`);
    if (!del.ok && del.status !== 404)
      console.error(`[test] could not remove ${Id.slice(0, 12)}: ${del.status}`);
  }
  return containers.length;
}

function splitImage(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/')
    ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) }
    : { repo: ref, tag: 'latest' };
}

/**
 * Makes sure `image` exists: a rootfs of the static busybox with its applet links and a root user,
 * imported with `CMD ["/bin/sh"]`. No registry is involved.
 */
export async function ensureTestImage(
  host: DockerHost,
  image: string,
  busybox = '/bin/busybox',
): Promise<'present' | 'built'> {
  if ((await api(host, 'GET', `/images/${image}/json`)).ok) return 'present';
  if (!existsSync(busybox)) throw new EngineError(`${busybox} missing: apt-get install busybox-static`);
  const work = mkdtempSync(join(tmpdir(), 'mcpt-image-'));
  try {
    const root = join(work, 'rootfs');
    for (const sub of ['bin', 'etc', 'root', 'tmp']) mkdirSync(join(root, sub), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    copyFileSync(busybox, join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    if (applets.length === 0)
      throw new EngineError(`${busybox} --list printed nothing: is it busybox-static?`);
    for (const applet of applets) if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
    const tarball = join(work, 'rootfs.tar');
    const tar = spawnSync('tar', [
      '-C',
      root,
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-cf',
      tarball,
      '.',
    ]);
    if (tar.status !== 0) throw new EngineError(`tar failed: ${tar.stderr}`);
    const { repo, tag } = splitImage(image);
    const query = new URLSearchParams({ fromSrc: '-', repo, tag, changes: 'CMD ["/bin/sh"]' });
    const res = await api(host, 'POST', `/images/create?${query}`, {
      body: Bun.file(tarball),
      headers: { 'content-type': 'application/x-tar' },
    });
    const body = await res.text();
    if (!res.ok || body.includes('"errorDetail"'))
      throw new EngineError(`importing ${image}: ${body.slice(0, 500)}`);
    if (!(await api(host, 'GET', `/images/${image}/json`)).ok)
      throw new EngineError(`${image} missing after import`);
    return 'built';
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
