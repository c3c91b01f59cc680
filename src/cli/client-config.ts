/**
 * `mcp-docker config <client> [flags…]`: prints the snippet that registers this binary with an MCP
 * client, with the absolute path of the running binary and the flags given here carried over
 * (`mcp-docker config claude-desktop --read-only`), and the engine's settings from the environment as the
 * snippet's env. The snippet goes to stdout, where to put it to stderr.
 * `--npx` gives the form that needs no install, `npx -y mcp-docker …` (the npm launcher package); it is
 * also the default when this binary runs from an npm install (its path would go stale in npx's cache).
 */
import { resolve } from 'node:path';
import { checkDockerHost } from '../config/engines.ts';
import { fieldOf } from '../config/fields.ts';
import type { LoadedConfig as Loaded } from '../config/layers.ts';
import type { ConfigKey } from '../config/schema.ts';

export interface Launch {
  command: string;
  args: string[];
  /** Environment the client sets for the server: where the engine is, when the shell said so (engineEnv). */
  env?: Record<string, string>;
}

interface Client {
  where: string;
  snippet(launch: Launch): string;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const withEnv = (env?: Record<string, string>) => (env && Object.keys(env).length > 0 ? { env } : {});
const mcpServers = ({ command, args, env }: Launch) =>
  json({ mcpServers: { docker: { command, ...(args.length > 0 && { args }), ...withEnv(env) } } });

/** Single-quotes a word for POSIX shells when it needs it. */
export const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
const tomlString = (s: string) => JSON.stringify(s);

export const CLIENTS: Record<string, Client> = {
  'claude-desktop': {
    where:
      'Merge into claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\, Linux: ~/.config/Claude/), then restart Claude Desktop.',
    snippet: mcpServers,
  },
  'claude-code': {
    where: 'Run this command (add --scope user to make it available in every project).',
    snippet: ({ command, args, env }) =>
      `claude mcp add docker ${Object.entries(env ?? {})
        .map(([k, v]) => `-e ${shellQuote(`${k}=${v}`)} `)
        .join('')}-- ${[command, ...args].map(shellQuote).join(' ')}\n`,
  },
  cursor: {
    where: 'Merge into ~/.cursor/mcp.json (every project) or .cursor/mcp.json (this project).',
    snippet: mcpServers,
  },
  vscode: {
    where: 'Merge into .vscode/mcp.json in your workspace (or run "MCP: Open User Configuration").',
    snippet: ({ command, args, env }) =>
      json({ servers: { docker: { type: 'stdio', command, args, ...withEnv(env) } } }),
  },
  windsurf: {
    where: 'Merge into ~/.codeium/windsurf/mcp_config.json.',
    snippet: mcpServers,
  },
  'gemini-cli': {
    where: 'Merge into ~/.gemini/settings.json (or .gemini/settings.json in a project).',
    snippet: mcpServers,
  },
  codex: {
    where: 'Add to ~/.codex/config.toml.',
    snippet: ({ command, args, env }) =>
      `[mcp_servers.docker]\ncommand = ${tomlString(command)}\nargs = [${args.map(tomlString).join(', ')}]\n${
        env && Object.keys(env).length > 0
          ? `env = { ${Object.entries(env)
              .map(([k, v]) => `${tomlString(k)} = ${tomlString(v)}`)
              .join(', ')} }\n`
          : ''
      }`,
  },
};

/** The npm package whose launcher runs this binary (packaging/npm.ts). */
export const NPM_PACKAGE = 'mcp-docker';

export async function run(argv: string[], loaded: Loaded): Promise<number> {
  const known = Object.keys(CLIENTS).join(', ');
  const npx = argv.includes('--npx') || fromNpmInstall();
  const [name, ...extra] = argv.filter((a) => a !== '--npx');
  const client = name ? CLIENTS[name] : undefined;
  if (!name || !client || extra.length > 0) {
    const what = !name ? 'name a client' : !client ? `unknown client '${name}'` : `unexpected '${extra[0]}'`;
    process.stderr.write(
      `mcp-docker config: ${what}. Clients: ${known}.\nUsage: mcp-docker config <client> [--npx] [server flags, e.g. --read-only]\n`,
    );
    return 2;
  }
  const env = engineEnv(loaded);
  const launch = launchCommand(loaded, npx ? npxProgram() : runningProgram());
  process.stdout.write(client.snippet({ ...launch, env }));
  process.stderr.write(`${client.where}\n`);
  if (!npx) process.stderr.write(`Or without installing (Node.js needed): mcp-docker config ${name} --npx\n`);
  if (Object.keys(env).length > 0)
    process.stderr.write(
      `Carried over from your environment, so the client finds the same engine: ${Object.keys(env).join(', ')}.\n`,
    );
  // Made without an engine; an engine address the server could not use is said here, not refused.
  const { dockerHost, engines } = loaded.config;
  if (dockerHost && !engines)
    try {
      checkDockerHost(dockerHost, `setting 'dockerHost' (from ${loaded.sources.dockerHost})`);
    } catch (e) {
      process.stderr.write(`Warning: the server will not start with this: ${(e as Error).message}\n`);
    }
  const fromEnv = Object.entries(loaded.sources).filter(
    ([key, from]) => from.startsWith('env ') && !ENGINE_KEYS.includes(key as ConfigKey),
  );
  if (fromEnv.length > 0)
    process.stderr.write(
      `Not carried over (set in your environment, the client will not have it): ${fromEnv.map(([, from]) => from.slice(4)).join(', ')}. Pass them as flags here to include them.\n`,
    );
  return 0;
}

/** Settings that say where the engine is and how to reach it. */
const ENGINE_KEYS: readonly ConfigKey[] = [
  'dockerHost',
  'dockerContext',
  'dockerConfigDir',
  'dockerCertPath',
  'dockerTlsVerify',
];

/**
 * The engine's settings that came from the environment, as the variables they came from: a client
 * started from a desktop has none of the shell's (Claude Desktop passes PATH and HOME), so without them
 * the server would look for the engine elsewhere than doctor found it.
 */
export function engineEnv(loaded: Pick<Loaded, 'config' | 'sources'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ENGINE_KEYS) {
    const from = loaded.sources[key];
    const value = loaded.config[key];
    if (!from?.startsWith('env ') || value === undefined) continue;
    out[from.slice(4)] =
      typeof value === 'boolean'
        ? value
          ? '1'
          : '0'
        : PATH_KEYS.has(key)
          ? resolve(String(value))
          : String(value);
  }
  return out;
}

/** How a client starts this server: the running binary (or bun + the entry script from source), plus the flags given. */
export function launchCommand(loaded: Pick<Loaded, 'args'>, self = runningProgram()): Launch {
  return { command: self.command, args: [...self.args, ...flagArgs(loaded.args.values)] };
}

/** `npx -y mcp-docker`: npm installs the launcher and this platform's binary on first use. */
export const npxProgram = (): Launch => ({ command: 'npx', args: ['-y', NPM_PACKAGE] });

/** This binary was installed by npm (the `@mcp-docker/<target>` package under node_modules). */
const fromNpmInstall = (execPath = process.execPath) =>
  /[\\/]node_modules[\\/]@mcp-docker[\\/]/.test(execPath);

function runningProgram(): Launch {
  // A compiled binary's modules live in Bun's embedded file system; from source, argv[1] is main.ts.
  const script = process.argv[1];
  const embedded = (p: string | undefined) => !!p && (p.includes('$bunfs') || p.includes('~BUN'));
  const compiled = embedded(import.meta.path) || embedded(script);
  return compiled || !script
    ? { command: process.execPath, args: [] }
    : { command: process.execPath, args: [script] };
}

/** Settings naming files: made absolute, since a client starts the server from a directory of its own. */
const PATH_KEYS = new Set([
  'config',
  'tlsCertFile',
  'tlsKeyFile',
  'authFile',
  'sshAuthorizedKeysFile',
  'oauthJwksFile',
  'auditLogFile',
  'dockerConfigDir',
  'dockerCertPath',
]);

/** The flag-layer settings back as argv: `--read-only`, `--no-allow-moderate`, `--timeout=30`, `--denied-tools=a,b`. */
export function flagArgs(values: Loaded['args']['values']): string[] {
  return Object.entries(values).flatMap(([key, { value }]) => {
    const flag = fieldOf(key as ConfigKey).flag;
    // --engine accumulates: one flag per engine, as given.
    if (key === 'engines')
      return Object.entries(value as Record<string, { url?: string }>).map(
        ([name, e]) => `${flag}=${name}=${e.url}`,
      );
    if (value === true) return flag;
    if (value === false) return `--no-${flag.slice(2)}`;
    if (Array.isArray(value))
      return `${flag}=${value.some((v) => String(v).includes(',')) ? JSON.stringify(value) : value.join(',')}`;
    return `${flag}=${PATH_KEYS.has(key) ? resolve(String(value)) : String(value)}`;
  });
}
