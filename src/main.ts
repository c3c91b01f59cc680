#!/usr/bin/env bun
/** CLI entry: flags and config, then the transport. Exit 2 on bad usage, with the fix in the message. */
import { helpText } from './config/help.ts';
import { type LoadedConfig, loadConfig } from './config/layers.ts';
import { ConfigError } from './config/meta.ts';
import { splitCommandArgv } from './config/parse.ts';
import { runtimeOf } from './config/runtime.ts';
import type { Toolset } from './core/toolsets.ts';
import { configuredEngines, EngineSettingsError } from './docker/engines.ts';
import { PRIVILEGED_SETTING } from './docker/policy/rules.ts';
import { setPolicyDefaults } from './docker/policy/scope.ts';
import { createLogger, type Log } from './log.ts';
import { serverFacts } from './pipeline/run.ts';
import type { ServerDeps } from './tool-calls.ts';
import { startStdio } from './transport/stdio.ts';
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

function main(argv: string[]): void {
  // A subcommand's own flags (`doctor --json`, `hash-token --stdin`) are not server options.
  const split = argv[0] !== undefined && argv[0] in commands ? splitCommandArgv(argv.slice(1)) : undefined;
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(split ? split.config : argv);
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
  if (split) {
    const load = commands[argv[0] as string] as () => Promise<Command>;
    void load().then(async (m) => process.exit(await m.run(split.command, loaded)));
    return;
  }
  const command = args.positionals[0];
  if (command !== undefined) {
    const load = commands[command];
    if (!load) {
      process.stderr.write(
        `mcp-docker: unknown command '${command}'. Commands: ${Object.keys(commands).join(', ')}; run 'mcp-docker --help' for usage.\n`,
      );
      process.exit(2);
    }
    // Server options before the command name (`mcp-docker --read-only config claude-code`).
    void load().then(async (m) => process.exit(await m.run(args.positionals.slice(1), loaded)));
    return;
  }

  const log = lazyLog(config.logLevel);
  const rt = runtimeOf(config, host);
  let engines: ReturnType<typeof configuredEngines>;
  try {
    // Fixed here, at start-up: no tool argument can point the server at another address.
    engines = configuredEngines(rt.engines, rt.engineSettings);
  } catch (e) {
    if (e instanceof EngineSettingsError) {
      process.stderr.write(`mcp-docker: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const env = {
    ...rt.pipeline,
    engines,
    server: serverFacts(VERSION, rt.pipeline.profile),
  };
  if (config.allowDestructive && !config.readOnly) log.warn('destructive operations are enabled');
  // The policy outside tool calls, and where its warnings go (a lifted refusal, an admitted sensitive path).
  setPolicyDefaults(rt.pipeline.policy, host, (m) => log.warn(m));
  if (config.allowPrivileged) log.warn(`${PRIVILEGED_SETTING} is on: the container policy is lifted`);
  // Loaded on first use: initialize is answered without evaluating the tool modules.
  const catalogue = async () => (await import('./tools/index.ts')).catalogue;
  // Its data, computed at build time: tools/list does not load the tool modules either.
  const prelisted = async () => (await import('./catalogue-listing.ts')).STATIC_CATALOGUE;
  // A call loads only its tool's toolset, or only the part of it that holds the tool (tools/parts.ts).
  const toolset = async (name: Toolset, part?: string) => {
    const { PART_LOADERS, TOOLSET_LOADERS } = await import('./tools/by-toolset.ts');
    return ((part && PART_LOADERS[part]) || TOOLSET_LOADERS[name])();
  };
  const deps = { catalogue, prelisted, toolset, env, version: VERSION, ...rt.content };
  if (config.transport === 'stdio') {
    if (config.auditLogFile)
      void startAuditedStdio(config.auditLogFile, deps, log, config.shutdownGraceSeconds);
    else startStdio(deps, log, config.shutdownGraceSeconds);
    return;
  }
  void serveHttp(config, deps, log);
}

/** Stdio with SECURITY_AUDIT_LOG_FILE: a tool_call line per call, client "stdio"; the audit code loads only then. */
async function startAuditedStdio(path: string, deps: ServerDeps, log: Log, grace: number): Promise<void> {
  const { auditCalls, openAudit } = await import('./transport/http/audit.ts');
  let observe: ReturnType<typeof auditCalls>;
  try {
    observe = auditCalls(openAudit(path, log), { clientId: 'stdio' });
  } catch (e) {
    process.stderr.write(`mcp-docker: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const audited = { ...deps, env: { ...deps.env, observe } };
  startStdio(audited, log, grace);
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
