/**
 * The server processes this test process spawned (the compiled binary, as `startServer` runs it) and
 * their memory figures from /proc: for tests that measure or must end a server whose client cannot.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVER_BIN } from './client.ts';

const realBinary = (): string => {
  try {
    return realpathSync(resolve(SERVER_BIN));
  } catch {
    return resolve(SERVER_BIN);
  }
};

/** Pids of live children of this process that run the server binary. */
export function serverPids(): number[] {
  const binary = realBinary();
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (realpathSync(`/proc/${entry}/exe`) === binary) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** A field of /proc/<pid>/status in KiB (VmHWM: peak RSS; VmRSS: now), undefined once the process is gone. */
export function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process is still there (and not a zombie). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGKILLs one server this test started, by its pid (for a server frozen past its SIGTERM). */
export function killServer(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
