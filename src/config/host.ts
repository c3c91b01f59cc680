/**
 * Facts about the host the server runs on (not settings): used by engine discovery and path policy.
 * Node's builtins are required only where needed: loading node:fs, node:os and node:path at start-up
 * is ~2 ms of a stdio server's CPU before its first answer (bench/changes.md).
 */
import { nodeOs } from '../core/node-builtins.ts';

export interface HostEnv {
  home: string;
  platform: NodeJS.Platform;
  xdgRuntimeDir?: string;
  uid?: number;
  /** The SSH agent's socket (SSH_AUTH_SOCK), for ssh:// engines. */
  sshAuthSock?: string;
  /** The login name, the user of an ssh:// engine whose URL names none. */
  user?: string;
  /**
   * The server's environment, for Compose interpolation over stdio only (the pipeline withholds it
   * from remote callers). Never logged: nothing prints HostEnv.
   */
  environ?: Readonly<Record<string, string | undefined>>;
}

export function readHostEnv(env: Record<string, string | undefined> = process.env): HostEnv {
  return {
    home: env.HOME || env.USERPROFILE || nodeOs().homedir(),
    platform: process.platform,
    xdgRuntimeDir: env.XDG_RUNTIME_DIR || undefined,
    uid: typeof process.getuid === 'function' ? process.getuid() : undefined,
    sshAuthSock: env.SSH_AUTH_SOCK || undefined,
    user: env.USER || env.LOGNAME || env.USERNAME || undefined,
    environ: env,
  };
}

/**
 * path.join(dir, name) for one plain file name, without node:path: the separator of `platform`, and
 * `dir`'s trailing separators dropped.
 */
export function inDir(dir: string, name: string, platform: NodeJS.Platform = process.platform): string {
  const sep = platform === 'win32' ? '\\' : '/';
  const base = dir.replace(platform === 'win32' ? /[\\/]+$/ : /\/+$/, '');
  return `${base}${sep}${name}`;
}
