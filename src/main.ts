#!/usr/bin/env bun
/** CLI entry: flags and config, then the transport. Exit 2 on bad usage, with the fix in the message. */
import { namesAnything, unknownNames } from './cli/names.ts';
import { fieldOf } from './config/fields.ts';
import { helpText } from './config/help.ts';
import { type LoadedConfig, loadConfig } from './config/layers.ts';
import { ConfigError } from './config/meta.ts';
import { firstPositional, splitCommandArgv } from './config/parse.ts';
import { type Runtime, runtimeOf } from './config/runtime.ts';
import type { Config } from './config/schema.ts';
import { startListing } from './default-listing.ts';
import { createLogger, type Log } from './log.ts';
import type { ServerDeps } from './tool-calls.ts';
import { startStdio, stdioOf } from './transport/stdio.ts';
import { VERSION } from './version.ts';

/** Subcommands, each loaded only when run. `run` gets the arguments after the name and returns the exit code. */
export interface Command {
  run(argv: string[], loaded: LoadedConfig): Promise<number>;
}
const commands: Record<string, () => Promise<Command>> = {
  doctor: () => import('./cli/doctor.ts'),
  config: () => import('./cli/client-config.ts'),
  'hash-token': () => import('./cli/hash-token.ts'),
};
/** Commands that reach no engine: a DOCKER_HOST they would not use does not stop them. */
const ENGINELESS = new Set(['hash-token', 'config']);

/**
 * docker-modem reads a tcp:// engine's address with Node's url.parse(), whose deprecation notice
 * (DEP0169) is no user's to act on: it would print on every start against such an engine. Only that
 * notice is dropped; every other warning is printed as before.
 */
function quietDependencyDeprecation(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  const isDep0169 = (a: unknown) =>
    a === 'DEP0169' || (typeof a === 'object' && a !== null && (a as { code?: unknown }).code === 'DEP0169');
  process.emitWarning = ((...args: unknown[]) => {
    if (!args.some(isDep0169)) emit(...args);
  }) as typeof process.emitWarning;
}

function main(argv: string[]): void {
  quietDependencyDeprecation();
  // A subcommand's own flags (`doctor --json`, `hash-token --stdin`) are not server options, wherever
  // the command's name stands among them (`mcp-docker --read-only doctor --json`).
  const at = firstPositional(argv);
  const name = argv[at];
  const split = name !== undefined && name in commands ? splitCommandArgv(argv.slice(at + 1)) : undefined;
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(split ? [...argv.slice(0, at), ...split.config] : argv, process.env, {
      engine: !(name !== undefined && ENGINELESS.has(name)),
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`mcp-docker: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const { config, args } = loaded;
  if (args.help) {
    process.stdout.write(helpText(VERSION));
    return;
  }
  if (args.version) {
    process.stdout.write(`mcp-docker ${VERSION}\n`);
    return;
  }
  if (split) {
    const load = commands[name as string] as () => Promise<Command>;
    void load().then(async (m) => process.exit(await m.run(split.command, loaded)));
    return;
  }
  const command = args.positionals[0];
  if (command !== undefined) {
    process.stderr.write(
      `mcp-docker: unknown command '${command}'. Commands: ${Object.keys(commands).join(', ')}; run 'mcp-docker --help' for usage.\n`,
    );
    process.exit(2);
  }

  // A tool, prompt or resource list naming nothing known stops start-up; the catalogue is read only then.
  if (namesAnything(config))
    void unknownNames(config, loaded.sources).then((problems) => {
      if (problems.length > 0) {
        process.stderr.write(problems.map((p) => `mcp-docker: ${p}\n`).join(''));
        process.exit(2);
      }
      start(loaded);
    });
  else start(loaded);
}

/** The server, once its settings are known to be usable. */
function start({ config, host, sources }: LoadedConfig): void {
  const log = lazyLog(config.logLevel);
  const rt = runtimeOf(config, host, sources);
  if (config.allowDestructive && !config.readOnly) log.warn('destructive operations are enabled');
  if (config.allowPrivileged)
    log.warn(`${fieldOf('allowPrivileged').env[0]} is on: the container policy is lifted`);
  // One engine, found on first use: stdio answers initialize and tools/list with the code that runs
  // calls (the pipeline, the engine layer) still unloaded, and loads it for the first call.
  if (config.transport === 'stdio' && !config.auditLogFile && rt.engines.length === 0) {
    // The dispatcher asks for the deps once (StdioDispatcher.loaded).
    const deps = () => import('./server-deps.ts').then((m) => m.serverDeps(rt, VERSION, log));
    const listing = () => startListing(rt.pipeline.profile, rt.content.outputSchemas);
    startStdio({ version: VERSION, listing, deps }, log, config.shutdownGraceSeconds);
    return;
  }
  void serveWith(config, rt, log);
}

/**
 * Everything else: HTTP, audited stdio, configured engines (checked here, at start-up, exit 2 when one
 * cannot be set up).
 */
async function serveWith(config: Config, rt: Runtime, log: Log): Promise<void> {
  const { serverDeps, EngineSettingsError } = await import('./server-deps.ts');
  let deps: ServerDeps;
  try {
    deps = serverDeps(rt, VERSION, log);
  } catch (e) {
    if (e instanceof EngineSettingsError) {
      process.stderr.write(`mcp-docker: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (config.transport === 'stdio') {
    if (config.auditLogFile)
      await startAuditedStdio(config.auditLogFile, deps, log, config.shutdownGraceSeconds);
    else startStdio(stdioOf(deps), log, config.shutdownGraceSeconds);
    return;
  }
  await serveHttp(config, deps, log);
}

/** Stdio with SECURITY_AUDIT_LOG_FILE: a tool_call line per call, client "stdio"; the audit code loads only then. */
async function startAuditedStdio(path: string, deps: ServerDeps, log: Log, grace: number): Promise<void> {
  const { auditCalls, openAudit } = await import('./transport/http/audit.ts');
  let observe: ReturnType<typeof auditCalls>;
  try {
    observe = auditCalls(openAudit(path, log), { clientId: 'stdio' });
  } catch (e) {
    // An audit file that cannot be opened is a setting to fix: exit 2, as for every bad setting.
    process.stderr.write(`mcp-docker: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const audited = { ...deps, env: { ...deps.env, observe } };
  startStdio(stdioOf(audited), log, grace);
}

/** tslog's Logger costs ~5 ms to construct; a server that never logs never builds one. */
function lazyLog(level: string): Log {
  let log: Log | undefined;
  const real = () => {
    log ??= createLogger(level);
    return log;
  };
  return new Proxy({} as Log, {
    get: (_target, key) => {
      const value = Reflect.get(real(), key);
      return typeof value === 'function' ? value.bind(real()) : value;
    },
  });
}

/** Loaded only when asked for: stdio start-up never pays for the HTTP stack. */
async function serveHttp(...args: Parameters<typeof import('./transport/http/serve.ts').serve>) {
  const { serve } = await import('./transport/http/serve.ts');
  await serve(...args);
}

main(process.argv.slice(2));
