/**
 * A private single-node swarm for the stack, secret and config tests and the stack benchmark: a
 * dockerd of its own (socket, data-root, exec-root, pidfile, containerd namespace) in a network
 * namespace of its own (`unshare --net`, only `lo` up), so its bridges, docker_gwbridge and overlay
 * networks never touch the host's or another engine's, and the swarm listens on that namespace's
 * 127.0.0.1 only. The test image is imported into it (no registry). Stopped by pid; everything lives
 * under one fresh temp directory, named after the test process; a crashed run's directory (its owner
 * gone) is swept by the next start: what still runs from it is killed by pid, then it is removed.
 * A missing prerequisite throws with the reason: tests fail, not skip.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestImage, unmountUnder } from '../../scripts/engine.ts';
import { TEST_IMAGE } from './engine.ts';
import { alive, processesUnder, sleep, stopPid, waitGone } from './engines/proc.ts';

export interface SwarmEngine {
  dir: string;
  /** unix://…/docker.sock */
  url: string;
  pid: number;
  /** The docker CLI against this engine (stdout; throws with stderr). */
  docker(args: string[], cwd?: string): string;
  dockerAsync(args: string[], cwd?: string): Promise<string>;
  dispose(): Promise<void>;
}

async function sweepStale(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    const owner = Number(/^mcpt-swarm-(\d+)-/.exec(name)?.[1]);
    if (!owner || alive(owner)) continue;
    const dir = join(tmpdir(), name);
    const left = processesUnder(`${dir}/`);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await waitGone(left, 5_000);
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startSwarmEngine(): Promise<SwarmEngine> {
  if (process.getuid?.() !== 0)
    throw new Error('a private swarm needs root (to run dockerd in its own netns)');
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find(existsSync);
  if (!dockerd) throw new Error('a private swarm needs dockerd (apt-get install docker.io)');
  await sweepStale();
  const dir = mkdtempSync(join(tmpdir(), `mcpt-swarm-${process.pid}-`));
  const url = `unix://${join(dir, 'd.sock')}`;
  const ns = `mcpt-swarm-${process.pid}-${Date.now().toString(36)}`;
  const args = [
    '--host',
    url,
    '--data-root',
    join(dir, 'root'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'dockerd.pid'),
    '--iptables=false',
    '--ip6tables=false',
    '--containerd-namespace',
    ns,
    '--containerd-plugins-namespace',
    `${ns}-p`,
  ];
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  // unshare execs sh, which execs dockerd: the child's pid is the daemon's.
  const child: ChildProcess = spawn(
    'unshare',
    ['--net', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', dockerd, ...args],
    { detached: true, stdio: ['ignore', log, log] },
  );
  const docker = (a: string[], cwd?: string) =>
    execFileSync('docker', ['-H', url, ...a], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const dockerAsync = (a: string[], cwd?: string) =>
    new Promise<string>((resolve, reject) =>
      execFile('docker', ['-H', url, ...a], { cwd, encoding: 'utf8' }, (err, out, stderr) =>
        err ? reject(new Error(`docker ${a.join(' ')}: ${stderr || err.message}`)) : resolve(out),
      ),
    );
  const engine: SwarmEngine = {
    dir,
    url,
    pid: child.pid ?? 0,
    docker,
    dockerAsync,
    async dispose() {
      try {
        docker(['swarm', 'leave', '--force']);
      } catch {
        // not in a swarm, or already stopping
      }
      await stopPid(child.pid, dir);
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const end = Date.now() + 30_000;
    for (;;) {
      try {
        docker(['version', '--format', '{{.Server.APIVersion}}']);
        break;
      } catch {
        if (Date.now() > end || child.exitCode !== null) {
          const tail = readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
          throw new Error(`private swarm dockerd did not answer within 30 s:\n${tail}`);
        }
        await sleep(200);
      }
    }
    docker(['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377']);
    await ensureTestImage(url, TEST_IMAGE);
  } catch (e) {
    await engine.dispose();
    throw e;
  }
  return engine;
}
