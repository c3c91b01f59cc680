/**
 * A private dockerd that fault tests may stop, kill and restart (never the shared engine). It runs
 * with its own socket, data-root, exec-root, pidfile and containerd, `--iptables=false` so it rewrites
 * no firewall rules, and gets the test image from the shared engine by save | load. Not `--bridge=none`:
 * a dockerd started that way deletes the host's docker0, which the engine under test still uses.
 * A missing prerequisite (not root, no dockerd) throws with the reason: fault tests fail, not skip.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { unmountUnder } from '../../scripts/engine.ts';
import { TEST_IMAGE } from './engine.ts';

export interface FaultEngine {
  dir: string;
  socketPath: string;
  host: string;
  start(): Promise<void>;
  /** SIGTERM and wait for the daemon to exit. */
  stop(): Promise<void>;
  /** SIGKILL the daemon, as a crash would. */
  kill(): Promise<void>;
  /** Runs the docker CLI against this engine (blocks: not for traffic through an in-process proxy). */
  docker(...args: string[]): string;
  /** The same without blocking the event loop, for commands whose traffic crosses a proxy of ours. */
  dockerAsync(...args: string[]): Promise<string>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Open file descriptors of a process (Linux): a leak shows as a count that keeps growing. */
export const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `dir` (the daemon's containerd and shims). */
function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(dir)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

async function waitGone(pids: number[], ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

export function faultEngine(dir: string): FaultEngine {
  if (process.getuid?.() !== 0) throw new Error('fault tests need root to run a private dockerd');
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find(existsSync);
  if (!dockerd) throw new Error('fault tests need dockerd (apt-get install docker.io)');
  mkdirSync(dir, { recursive: true });
  const socketPath = join(dir, 'docker.sock');
  const host = `unix://${socketPath}`;
  let child: ChildProcess | undefined;

  const docker = (...args: string[]) =>
    execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  const dockerAsync = (...args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('docker', ['-H', host, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
        err ? reject(new Error(`docker ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
      ),
    );

  const ping = () => {
    try {
      docker('version', '--format', '{{.Server.APIVersion}}');
      return true;
    } catch {
      return false;
    }
  };

  const engine: FaultEngine = {
    dir,
    socketPath,
    host,
    docker,
    dockerAsync,
    async start() {
      const log = openSync(join(dir, 'dockerd.log'), 'a');
      const args = ['--host', host, '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec')];
      args.push('--pidfile', join(dir, 'dockerd.pid'), '--iptables=false');
      args.push('--containerd-namespace', 'h8fault', '--containerd-plugins-namespace', 'h8fault-p');
      child = spawn(dockerd, args, { detached: true, stdio: ['ignore', log, log] });
      const end = Date.now() + 30_000;
      while (!ping()) {
        if (Date.now() > end || child.exitCode !== null) {
          const tail = readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
          throw new Error(`private dockerd did not answer within 30 s:\n${tail}`);
        }
        await sleep(200);
      }
      if (!docker('images', '-q', TEST_IMAGE).trim()) {
        const shared = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
        execFileSync(
          'sh',
          ['-c', `docker -H '${shared}' save '${TEST_IMAGE}' | docker -H '${host}' load -q`],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
      }
    },
    async stop() {
      const pid = child?.pid;
      if (!alive(pid)) return;
      process.kill(pid as number, 'SIGTERM');
      if (!(await waitGone([pid as number], 20_000))) process.kill(pid as number, 'SIGKILL');
      await waitGone([pid as number], 5_000);
      await waitGone(processesUnder(dir), 5_000);
    },
    async kill() {
      // Only the daemon, as a crash would: its containerd lives on and the next start reattaches to it.
      const pid = child?.pid;
      if (!alive(pid)) return;
      process.kill(pid as number, 'SIGKILL');
      await waitGone([pid as number], 5_000);
      // Its containerd dies with it (parent-death signal) but may linger as a zombie nobody reaps; the
      // next daemon would take the stale pidfile for a live containerd and wait for it forever.
      await waitGone(
        processesUnder(dir).filter((p) => !/shim/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'))),
        5_000,
      );
      rmSync(join(dir, 'exec', 'containerd', 'containerd.pid'), { force: true });
    },
  };
  return engine;
}

/** Stops the engine, kills anything it left, unmounts its directory. For afterAll. */
export async function disposeFaultEngine(engine: FaultEngine | undefined): Promise<void> {
  if (!engine) return;
  await engine.stop().catch(() => {});
  const left = processesUnder(engine.dir);
  for (const p of left) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitGone(left, 5_000);
  unmountUnder(engine.dir);
}
