/**
 * A private dockerd on tcp://127.0.0.1:PORT with TLS (certificates made by the test with openssl), for
 * the many-engines test bed. Everything is its own: data-root, exec-root, pidfile, containerd
 * namespace, and a bridge made for it (`--bridge NAME`, deleted on stop), so it never shares docker0
 * with the engine under test; `--iptables=false` so it rewrites no firewall rules. It gets the test
 * image from the shared engine by save | load. Stopped by pid; everything lives under one fresh temp
 * directory, so a crashed run's leftovers never collide with the next.
 * A missing prerequisite (not root, no dockerd, no openssl) throws with the reason: tests fail, not skip.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { unmountUnder } from '../../../scripts/engine.ts';
import { TEST_IMAGE } from '../engine.ts';
import { freePort } from '../http-binary.ts';
import { addBridge, alive, deleteBridge, sleep, stopPid } from './proc.ts';
import { makeTls, type TlsFiles } from './tls.ts';

export interface TlsEngine {
  dir: string;
  /** tcp://127.0.0.1:PORT */
  url: string;
  port: number;
  tls: TlsFiles;
  bridge: string;
  dataRoot: string;
  pid(): number | undefined;
  /** The docker CLI against this engine, with its client certificate. */
  docker(...args: string[]): string;
  dockerAsync(...args: string[]): Promise<string>;
  start(): Promise<void>;
  /** SIGTERM and wait; the bridge and directory stay for a restart. */
  stop(): Promise<void>;
  /** stop(), then the bridge, mounts and directory go. For afterAll. */
  dispose(): Promise<void>;
}

export async function startTlsEngine(dir: string): Promise<TlsEngine> {
  if (process.getuid?.() !== 0) throw new Error('the engines test bed needs root to run a private dockerd');
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find(existsSync);
  if (!dockerd) throw new Error('the engines test bed needs dockerd (apt-get install docker.io)');
  mkdirSync(dir, { recursive: true });
  const tls = makeTls(join(dir, 'tls'));
  const port = await freePort();
  const url = `tcp://127.0.0.1:${port}`;
  const { name: bridge } = addBridge();
  const dataRoot = join(dir, 'root');
  const namespace = `mcpt-${bridge}`;
  let child: ChildProcess | undefined;
  const cli = [
    '--tlsverify',
    '--tlscacert',
    join(tls.clientDir, 'ca.pem'),
    '--tlscert',
    join(tls.clientDir, 'cert.pem'),
    '--tlskey',
    join(tls.clientDir, 'key.pem'),
    '-H',
    url,
  ];
  const docker = (...args: string[]) =>
    execFileSync('docker', [...cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const dockerAsync = (...args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('docker', [...cli, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
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

  const engine: TlsEngine = {
    dir,
    url,
    port,
    tls,
    bridge,
    dataRoot,
    pid: () => child?.pid,
    docker,
    dockerAsync,
    async start() {
      const log = openSync(join(dir, 'dockerd.log'), 'a');
      const args = ['--host', url, '--tlsverify', '--tlscacert', tls.server.ca];
      args.push('--tlscert', tls.server.cert, '--tlskey', tls.server.key);
      args.push(
        '--data-root',
        dataRoot,
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        join(dir, 'dockerd.pid'),
      );
      args.push('--containerd-namespace', namespace, '--containerd-plugins-namespace', `${namespace}-p`);
      args.push('--bridge', bridge, '--iptables=false', '--ip6tables=false');
      child = spawn(dockerd, args, { detached: true, stdio: ['ignore', log, log] });
      const end = Date.now() + 30_000;
      while (!ping()) {
        if (Date.now() > end || child.exitCode !== null) {
          const tail = readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
          throw new Error(`private TLS dockerd did not answer within 30 s:\n${tail}`);
        }
        await sleep(200);
      }
      if (!docker('images', '-q', TEST_IMAGE).trim()) {
        const shared = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
        execFileSync('sh', ['-c', `docker -H "$SHARED" save "$IMAGE" | docker "$@" load -q`, 'sh', ...cli], {
          env: { ...process.env, SHARED: shared, IMAGE: TEST_IMAGE },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      }
    },
    async stop() {
      await stopPid(child?.pid, dir);
    },
    async dispose() {
      if (alive(child?.pid)) {
        // Its containers go with it: nothing of the test bed outlives the run.
        try {
          const ids = docker('ps', '-aq').trim().split('\n').filter(Boolean);
          if (ids.length > 0) docker('rm', '-f', ...ids);
        } catch {
          // the daemon is stopping anyway
        }
      }
      await engine.stop().catch(() => {});
      unmountUnder(dir);
      deleteBridge(bridge);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await engine.start();
  } catch (error) {
    await engine.dispose();
    throw error;
  }
  return engine;
}
