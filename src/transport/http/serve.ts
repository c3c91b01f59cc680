/**
 * `--transport http`: turns the loaded config and the server dependencies into a running HTTP server,
 * with per-credential profiles, and wires SIGINT/SIGTERM to a graceful shutdown.
 */
import type { Config } from '../../config.ts';
import type { Log } from '../../log.ts';
import { buildServer, type ServerDeps } from '../../server.ts';
import { StartupError, startHttp } from '../http.ts';

export async function serve(config: Config, deps: ServerDeps, log: Log): Promise<void> {
  const { profile } = deps.env;
  // The one seam for per-credential profiles: today every HTTP caller gets the server-wide profile.
  const profileFor = (_request: Request) => profile;
  const serverFor = (request: Request) => {
    const p = profileFor(request);
    return buildServer(p === profile ? deps : { ...deps, env: { ...deps.env, profile: p } });
  };
  let http: ReturnType<typeof startHttp>;
  try {
    http = startHttp({ ...config, serverFor, log });
  } catch (e) {
    if (!(e instanceof StartupError)) throw e;
    process.stderr.write(`mcp-docker: ${e.message}\n`);
    process.exit(1);
  }
  const stop = (signal: string) => {
    log.info(`${signal}: shutting down`);
    void http.shutdown().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
