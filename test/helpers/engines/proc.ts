/** Process and bridge bookkeeping for the private engines of the test bed: by pid, never by name. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `dir` (a daemon's containerd and shims, an sshd's children). */
export function processesUnder(dir: string): number[] {
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

export async function waitGone(pids: number[], ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, then SIGKILL after `graceMs`; then SIGKILL whatever still names `dir`. */
export async function stopPid(pid: number | undefined, dir: string, graceMs = 20_000): Promise<void> {
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    if (!(await waitGone([pid], graceMs))) process.kill(pid, 'SIGKILL');
    await waitGone([pid], 5_000);
  }
  const left = processesUnder(dir);
  await waitGone(left, 3_000);
  for (const p of processesUnder(dir)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitGone(left, 5_000);
}

const BRIDGE_PREFIX = 'mcpe';
const OWNER = /mcpt-owner-(\d+)/;

/**
 * A bridge of our own for one private engine, with an address in 10.232.N.0/24 that no interface uses.
 * Its alias names the test process that made it, so a later run deletes it once that process is gone.
 */
export function addBridge(): { name: string; cidr: string } {
  sweepStaleBridges();
  const used = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' });
  const name = `${BRIDGE_PREFIX}${Math.random().toString(16).slice(2, 10)}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    const n = 1 + Math.floor(Math.random() * 250);
    const cidr = `10.232.${n}.1/24`;
    if (used.includes(` 10.232.${n}.`)) continue;
    execFileSync('ip', ['link', 'add', name, 'type', 'bridge']);
    execFileSync('ip', ['link', 'set', name, 'alias', `mcpt-owner-${process.pid}`]);
    execFileSync('ip', ['addr', 'add', cidr, 'dev', name]);
    execFileSync('ip', ['link', 'set', name, 'up']);
    return { name, cidr };
  }
  throw new Error('no free 10.232.N.0/24 for a test bridge');
}

export function deleteBridge(name: string): void {
  spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
}

/** Deletes test bridges whose owning test process has exited (a crashed run's). */
export function sweepStaleBridges(): void {
  const r = spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' });
  for (const line of (r.stdout ?? '').split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (!name?.startsWith(BRIDGE_PREFIX)) continue;
    const owner = Number(OWNER.exec(line)?.[1]);
    if (!owner || !alive(owner)) deleteBridge(name);
  }
}
