#!/usr/bin/env bun
/** CLI entry: flags and config, then the transport. Exit 2 on bad usage, with the fix in the message. */
import { ConfigError, dockerConfigDir, helpText, loadConfig } from './config.ts';
import { Engine } from './docker/engine.ts';
import { createLogger } from './log.ts';
import { serverFacts } from './pipeline/run.ts';
import { buildServer } from './server.ts';
import { catalogue } from './tools/index.ts';
import { startStdio } from './transport/stdio.ts';
import { VERSION } from './version.ts';

function main(argv: string[]): void {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`mcp-docker: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const { config, host, args } = loaded;
  if (args.help) {
    process.stdout.write(helpText(VERSION));
    return;
  }
  if (args.version) {
    process.stdout.write(`mcp-docker ${VERSION}\n`);
    return;
  }
  if (args.positionals.length > 0) {
    process.stderr.write(
      `mcp-docker: unknown command '${args.positionals[0]}'. Run 'mcp-docker --help' for usage.\n`,
    );
    process.exit(2);
  }

  const log = createLogger(config.logLevel);
  const engine = new Engine({
    dockerHost: config.dockerHost,
    dockerContext: config.dockerContext,
    dockerConfigDir: dockerConfigDir(config, host),
    tlsVerify: config.dockerTlsVerify,
    certPath: config.dockerCertPath,
    home: host.home,
    platform: host.platform,
    xdgRuntimeDir: host.xdgRuntimeDir,
    uid: host.uid,
  });
  const profile = {
    allowModerate: config.allowModerate,
    allowDestructive: config.allowDestructive,
    readOnly: config.readOnly,
    allowedTools: config.allowedTools,
    deniedTools: config.deniedTools,
  };
  const env = {
    profile,
    policy: {
      allowPrivileged: config.allowPrivileged,
      mountAllowlist: config.volumeMountAllowlist,
      mountBlocklist: config.volumeMountBlocklist,
    },
    host,
    limits: {
      maxResponseBytes: config.maxResponseBytes,
      maxExecOutputBytes: config.maxExecOutputBytes,
      maxLogLines: config.maxLogLines,
      maxListResults: config.maxListResults,
    },
    defaultTimeoutMs: config.timeoutSeconds * 1000,
    engine,
    server: serverFacts(VERSION, profile),
    logFilter: config.logFilter,
    dockerConfigDir: dockerConfigDir(config, host),
  };
  if (config.allowDestructive && !config.readOnly) log.warn('destructive operations are enabled');
  const content = { allowedPrompts: config.allowedPrompts, allowedResources: config.allowedResources };
  const deps = { catalogue, env, version: VERSION, ...content };
  if (config.transport === 'stdio') {
    startStdio((conn) => buildServer(deps, conn), log);
    return;
  }
  // The one seam for per-credential profiles: today every HTTP caller gets the server-wide profile.
  const profileFor = (_request: Request) => profile;
  const serverFor = (request: Request) => {
    const p = profileFor(request);
    return buildServer(p === profile ? deps : { ...deps, env: { ...env, profile: p } });
  };
  void serveHttp({ ...config, serverFor, log });
}

/** Loaded only when asked for: stdio start-up never pays for the HTTP stack. */
async function serveHttp(options: Parameters<typeof import('./transport/http.ts').startHttp>[0]) {
  const { startHttp, StartupError } = await import('./transport/http.ts');
  let http: Awaited<ReturnType<typeof startHttp>>;
  try {
    http = startHttp(options);
  } catch (e) {
    if (!(e instanceof StartupError)) throw e;
    process.stderr.write(`mcp-docker: ${e.message}\n`);
    process.exit(1);
  }
  const stop = (signal: string) => {
    options.log.info(`${signal}: shutting down`);
    void http.shutdown().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2));
