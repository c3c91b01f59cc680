/**
 * The servers measured side by side, and how each reaches the bench's engine. Competitors install
 * from the npm registry at bench time, pinned by bench/competitors/package-lock.json, into a cache
 * directory outside the project (`npm ci --ignore-scripts`); nothing enters our dependencies.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Call {
  name: string;
  args: Record<string, unknown>;
}

export interface ServerSpec {
  id: string;
  /** How it runs, for the report. */
  runtime: string;
  argv: string[];
  env: Record<string, string>;
  /** Running containers (every server can list those; not all can list stopped ones). */
  list: Call;
  /** Only this run's containers, when the server can filter. */
  listLabelled?: (label: string) => Call;
  inspect: (id: string) => Call;
  /** The last 100 lines, when the server can ask for a tail. */
  tail100?: (id: string) => Call;
  /** What the reader should know about how it was run. */
  note?: string;
  /** Extra start-up cost of the way it is launched here, measured and reported separately. */
  wrapper?: string;
}

const BENCH = import.meta.dir;

/** Installs the pinned competitors once per lockfile; returns their node_modules, or why not. */
export function installCompetitors(): { dir: string } | { error: string } {
  const lock = readFileSync(join(BENCH, 'competitors/package-lock.json'));
  const hash = createHash('sha256').update(lock).digest('hex').slice(0, 12);
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const dir = join(cache, 'mcp-docker-bench', `competitors-${hash}`);
  if (existsSync(join(dir, '.installed'))) return { dir };
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(BENCH, 'competitors/package.json'), join(dir, 'package.json'));
  copyFileSync(join(BENCH, 'competitors/package-lock.json'), join(dir, 'package-lock.json'));
  const npm = Bun.spawnSync(['npm', 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', dir], {
    stdout: 'ignore',
    stderr: 'pipe',
  });
  if (npm.exitCode !== 0) return { error: `npm ci failed: ${npm.stderr.toString().trim().slice(-400)}` };
  writeFileSync(join(dir, '.installed'), `${new Date().toISOString()}\n`);
  return { dir };
}

const which = (cmd: string) => Bun.which(cmd) ?? undefined;

export function ourServer(bin: string, env: Record<string, string>): ServerSpec {
  return {
    id: 'mcp-docker',
    runtime: 'Bun, compiled (bytecode, laid out by a recorded session)',
    argv: [bin],
    env,
    list: { name: 'docker_list_containers', args: {} },
    listLabelled: (label) => ({
      name: 'docker_list_containers',
      args: { all: true, filters: { label: [label] } },
    }),
    inspect: (id) => ({ name: 'docker_inspect_container', args: { container_id: id } }),
    tail100: (id) => ({ name: 'docker_container_logs', args: { container_id: id, tail: 100 } }),
  };
}

/**
 * docker-mcp (Node, dockerode) only talks to /var/run/docker.sock. When the bench's engine is
 * elsewhere, it runs in a private mount namespace where /run holds a link to the bench's socket
 * (root and util-linux `unshare` needed): nothing outside that process sees the link.
 */
export function dockerMcp(dir: string, socketPath: string, env: Record<string, string>): ServerSpec | string {
  const node = which('node');
  if (!node) return 'node is not installed';
  const entry = join(dir, 'node_modules/docker-mcp/dist/index.js');
  if (!existsSync(entry)) return `not installed (${entry} missing)`;
  const base: Omit<ServerSpec, 'argv' | 'note' | 'wrapper'> = {
    id: 'docker-mcp',
    runtime: `Node ${nodeVersion(node)}, dockerode`,
    env: { ...env, DOCKER_MCP_LOCAL: 'true' },
    list: { name: 'docker_container_list', args: {} },
    inspect: (id) => ({ name: 'docker_container_inspect', args: { containerId: id } }),
    tail100: (id) => ({ name: 'docker_container_logs', args: { containerId: id, tail: 100 } }),
  };
  if (socketPath === '/var/run/docker.sock' || socketPath === '/run/docker.sock')
    return { ...base, argv: [node, entry] };
  const unshare = which('unshare');
  if (!unshare || process.getuid?.() !== 0)
    return `it only uses /var/run/docker.sock and the engine is at ${socketPath}; run as root with unshare to bridge it`;
  const script = `mount -t tmpfs tmpfs /run && ln -s '${socketPath}' /run/docker.sock && exec "$@"`;
  return {
    ...base,
    argv: [unshare, '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', node, entry],
    wrapper: 'unshare + tmpfs mount + link, to reach the bench engine as /var/run/docker.sock',
    note: 'run in a private mount namespace so its fixed /var/run/docker.sock reaches the bench engine. Its list filters are sent as plain strings, which the engine refuses (HTTP 500), so its result size is of every running container',
  };
}

/**
 * podman-mcp-server (Go, via an npm wrapper in Node). Its API mode needs the libpod API, which a
 * Docker engine does not serve (`/libpod/_ping` is 404, and it exits), so it runs in CLI mode with
 * `podman` resolving to the Docker CLI, whose `container list/inspect/logs` take the same arguments.
 */
export function podmanMcp(dir: string, dockerHost: string, env: Record<string, string>): ServerSpec | string {
  const node = which('node');
  if (!node) return 'node is not installed';
  const docker = which('docker');
  if (!docker)
    return 'CLI mode needs a `podman` command; the Docker CLI stands in for it here and is not installed';
  const entry = join(dir, 'node_modules/podman-mcp-server/bin/index.js');
  if (!existsSync(entry)) return `not installed (${entry} missing)`;
  const shim = join(dir, 'shim');
  mkdirSync(shim, { recursive: true });
  if (!existsSync(join(shim, 'podman'))) symlinkSync(docker, join(shim, 'podman'));
  return {
    id: 'podman-mcp-server',
    runtime: `Go, launched by its npm wrapper (Node ${nodeVersion(node)})`,
    argv: [node, entry, '--podman-impl', 'cli'],
    env: { ...env, DOCKER_HOST: dockerHost, PATH: `${shim}:${env.PATH ?? ''}` },
    list: { name: 'container_list', args: {} },
    inspect: (id) => ({ name: 'container_inspect', args: { name: id } }),
    note: "CLI mode with `podman` → Docker CLI: its API mode needs libpod endpoints a Docker engine lacks (it exits: 'ping response was 404'). Each call spawns a CLI process. No tail parameter on container_logs, so no log figure.",
  };
}

function nodeVersion(node: string): string {
  return Bun.spawnSync([node, '--version']).stdout.toString().trim();
}
