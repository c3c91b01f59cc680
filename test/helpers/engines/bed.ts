/**
 * The many-engines test bed: the shared dev engine (unix, as DOCKER_HOST gives), a private dockerd on
 * tcp://127.0.0.1 with TLS, and an ssh:// engine through a local sshd whose sessions reach the dev
 * engine, and with `podman: true` a private Podman service (scripts/podman.ts, the test image imported
 * into it). One bed per test file (beforeAll → startBed, afterAll → bed.dispose()), under a fresh temp
 * directory so a crashed run's leftovers never collide with the next.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestImage, unmountUnder } from '../../../scripts/engine.ts';
import { type PrivatePodman, startPodman, stopPodman } from '../../../scripts/podman.ts';
import type { EngineOptions } from '../../../src/core/engine.ts';
import { TEST_IMAGE } from '../engine.ts';
import { startTlsEngine, type TlsEngine } from './dockerd.ts';
import { alive, processesUnder, waitGone } from './proc.ts';
import { type Sshd, startSshd } from './sshd.ts';

export { startTlsEngine, type TlsEngine } from './dockerd.ts';
export { type Sshd, sshExec, startSshd } from './sshd.ts';

/** One engine as the config file's `engines` map writes it (DECISIONS #11). */
export interface EngineEntry extends EngineOptions {
  url: string;
}

export interface Bed {
  dir: string;
  /** The shared dev engine's URL (DOCKER_HOST). */
  unixUrl: string;
  tls: TlsEngine;
  sshd: Sshd;
  /** Set when started with `podman: true`. */
  podman?: PrivatePodman;
  /** Entries for the live engines: default (unix), tls, ssh, and podman when started. */
  entries: { default: EngineEntry; tls: EngineEntry; ssh: EngineEntry; podman?: EngineEntry };
  /** Writes `{ engines }` as a JSON config file under the bed's directory; returns its path. */
  configFile(name: string, engines: Record<string, EngineEntry>, extra?: Record<string, unknown>): string;
  /** A unix socket path nothing listens on: what a stopped engine leaves. */
  goneUrl: string;
  dispose(): Promise<void>;
}

/**
 * A crashed run's bed: its directory names the test process that made it; once that process is gone,
 * what still runs from the directory (its dockerd, containerd, shims, sshd) is killed by pid and the
 * directory goes. Stale bridges are swept when a new one is made (proc.ts).
 */
async function sweepStaleBeds(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    const owner = Number(/^mcpt-bed-(\d+)-/.exec(name)?.[1]);
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

export async function startBed(opts: { podman?: boolean } = {}): Promise<Bed> {
  const unixUrl = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!unixUrl.startsWith('unix://'))
    throw new Error(`the engines test bed wants a unix DOCKER_HOST, got ${unixUrl}`);
  await sweepStaleBeds();
  const dir = mkdtempSync(join(tmpdir(), `mcpt-bed-${process.pid}-`));
  const [tls, sshd, podman] = await Promise.allSettled([
    startTlsEngine(join(dir, 'tls')),
    startSshd(join(dir, 'sshd'), unixUrl),
    opts.podman
      ? startPodman().then(async (p) => {
          try {
            await ensureTestImage(p.host, TEST_IMAGE);
          } catch (error) {
            await stopPodman(p);
            throw error;
          }
          return p;
        })
      : Promise.resolve(undefined),
  ]);
  const failed = [tls, sshd, podman].find((r) => r.status === 'rejected');
  if (failed) {
    if (tls.status === 'fulfilled') await tls.value.dispose();
    if (sshd.status === 'fulfilled') await sshd.value.dispose();
    if (podman.status === 'fulfilled' && podman.value) await stopPodman(podman.value);
    rmSync(dir, { recursive: true, force: true });
    throw (failed as PromiseRejectedResult).reason;
  }
  if (tls.status === 'rejected' || sshd.status === 'rejected' || podman.status === 'rejected')
    throw new Error('unreachable');
  const pod = podman.value;
  const t = tls.value;
  const s = sshd.value;
  return {
    dir,
    unixUrl,
    tls: t,
    sshd: s,
    ...(pod && { podman: pod }),
    entries: {
      default: { url: unixUrl, description: 'the dev engine' },
      tls: {
        url: t.url,
        tlsDir: t.tls.clientDir,
        tlsVerify: true,
        description: 'private dockerd over TCP+TLS',
      },
      ssh: {
        url: s.url,
        identityFile: s.identityFile,
        knownHostsFile: s.knownHostsFile,
        description: 'the dev engine through sshd',
      },
      ...(pod && { podman: { url: pod.host, description: 'a private Podman service' } }),
    },
    configFile(name, engines, extra = {}) {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify({ ...extra, engines }, null, 2));
      return file;
    },
    goneUrl: `unix://${join(dir, 'stopped.sock')}`,
    async dispose() {
      await Promise.allSettled([t.dispose(), s.dispose(), pod ? stopPodman(pod) : undefined]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
