/** Facts about the host the server runs on (not settings): used by engine discovery and path policy. */
import { homedir } from 'node:os';

export interface HostEnv {
  home: string;
  platform: NodeJS.Platform;
  xdgRuntimeDir?: string;
  uid?: number;
  /**
   * The server's environment, for Compose interpolation over stdio only (the pipeline withholds it
   * from remote callers). Never logged: nothing prints HostEnv.
   */
  environ?: Readonly<Record<string, string | undefined>>;
}

export function readHostEnv(env: Record<string, string | undefined> = process.env): HostEnv {
  return {
    home: env.HOME || env.USERPROFILE || homedir(),
    platform: process.platform,
    xdgRuntimeDir: env.XDG_RUNTIME_DIR || undefined,
    uid: typeof process.getuid === 'function' ? process.getuid() : undefined,
    environ: env,
  };
}
