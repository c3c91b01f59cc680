/**
 * Where an engine keeps things on its host, beyond what the Engine API says. The API reports the
 * data root (/info's DockerRootDir) but not the exec root or the containerd socket; for a local
 * engine those come from the command line of the dockerd serving its socket (/proc/<pid>/cmdline),
 * else from that daemon's daemon.json, else dockerd's defaults. Pure apart from the injected
 * readers, so the parsing is unit-tested without an engine.
 */
import { nodeFs } from '../core/node-builtins.ts';
import type { FileReader } from './discovery.ts';

/** Per-engine settings that replace a discovered fact. */
export interface FactOverrides {
  /** This engine's own answer, whatever its URL (the engine's `sharesFilesystem` key). */
  sharesFilesystem?: boolean;
  /** The server-wide answer for engines on a local socket or pipe (--shares-filesystem): below the engine's own. */
  localSharesFilesystem?: boolean;
  dataRoot?: string;
  execRoot?: string;
  containerdSocket?: string;
}

export const DEFAULT_EXEC_ROOT = '/var/run/docker';
export const DEFAULT_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';
export const DEFAULT_DAEMON_JSON = '/etc/docker/daemon.json';
/** Where dockerd listens when neither -H nor daemon.json's "hosts" says. */
const DEFAULT_HOST = 'unix:///var/run/docker.sock';
/** The sockets systemd hands a dockerd started with `-H fd://` (docker.socket). */
const SYSTEMD_SOCKETS = ['/run/docker.sock', '/var/run/docker.sock'];

/** True when the engine is on this server's host: a local socket or pipe (a tcp:// or ssh:// one is not). */
export const sharesFilesystem = (url: string): boolean =>
  url.startsWith('unix://') || url.startsWith('npipe://');

/**
 * Files found in every container of a runtime: Docker's, Podman's and CRI-O's, and the service account
 * Kubernetes mounts into every pod (containerd leaves no file of its own).
 */
export const CONTAINER_MARKERS = ['/.dockerenv', '/run/.containerenv', '/var/run/secrets/kubernetes.io'];

/** Whether host paths mean the same to an engine as to this server, and why (doctor says both). */
export interface FilesystemVerdict {
  shares: boolean;
  why: string;
}

/**
 * Whether an engine on a local socket sees this server's filesystem. On a host, it does. In a
 * container (a marker file of its runtime exists) the socket is usually the host's, mounted in, and
 * the engine resolves host paths on the host, where this server cannot look; unless the daemon serving
 * the socket is one this server can see running in its own mount namespace (Docker in the same
 * container, as CI and docker-in-docker dev containers run it).
 */
export function localFilesystem(
  socketPath: string | undefined,
  fs: FileReader,
  processes: ProcessReader = procReader,
): FilesystemVerdict {
  const marker = CONTAINER_MARKERS.find((m) => fs.exists(m));
  if (!marker) return { shares: true, why: 'a local engine, and this server does not run in a container' };
  const inContainer = `this server runs in a container (${marker})`;
  const daemon = socketPath ? servingProcess(socketPath, fs, processes) : undefined;
  const ours = processes.mountNamespace('self');
  if (daemon && ours !== undefined && processes.mountNamespace(daemon.pid) === ours)
    return {
      shares: true,
      why: `${inContainer}, and the daemon serving ${socketPath} (pid ${daemon.pid}) runs in its mount namespace`,
    };
  return {
    shares: false,
    why: `${inContainer}, and the daemon serving ${socketPath ?? 'the socket'} is not one it can see in its own mount namespace: host paths are resolved on the engine's host`,
  };
}

/** What a dockerd command line or daemon.json says about where the daemon lives. */
export interface DaemonSettings {
  hosts: string[];
  execRoot?: string;
  containerd?: string;
  dataRoot?: string;
  configFile?: string;
}

const FLAGS: Record<string, keyof Omit<DaemonSettings, 'hosts'> | 'hosts'> = {
  '--host': 'hosts',
  '-H': 'hosts',
  '--exec-root': 'execRoot',
  '--containerd': 'containerd',
  '--data-root': 'dataRoot',
  '--graph': 'dataRoot',
  '-g': 'dataRoot',
  '--config-file': 'configFile',
};

/**
 * The settings in a dockerd command line (`argv` without the program name). Accepts the spellings
 * dockerd's flag parser does: `--flag value`, `--flag=value`, `-H value`, `-H=value` and `-Hvalue`.
 */
export function parseDockerdArgs(argv: readonly string[]): DaemonSettings {
  const out: DaemonSettings = { hosts: [] };
  const set = (key: (typeof FLAGS)[string], value: string) => {
    if (key === 'hosts') out.hosts.push(value);
    else out[key] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAGS[name];
    if (key) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value !== undefined) set(key, value);
      continue;
    }
    // Short flags glued to their value: -Hunix:///x, -g/var/lib/docker.
    const short = /^-(H|g)(.+)$/.exec(arg);
    if (short) set(FLAGS[`-${short[1]}`] as (typeof FLAGS)[string], short[2] as string);
  }
  return out;
}

/** The same settings from a daemon.json text; undefined when it is not a JSON object. */
export function parseDaemonJson(text: string): Partial<DaemonSettings> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const d = doc as Record<string, unknown>;
  const str = (k: string) => (typeof d[k] === 'string' && d[k] ? (d[k] as string) : undefined);
  const hosts = Array.isArray(d.hosts)
    ? d.hosts.filter((h): h is string => typeof h === 'string')
    : undefined;
  return {
    ...(hosts && { hosts }),
    ...(str('exec-root') && { execRoot: str('exec-root') }),
    ...(str('containerd') && { containerd: str('containerd') }),
    ...((str('data-root') ?? str('graph')) && { dataRoot: str('data-root') ?? str('graph') }),
  };
}

/** /var/run is /run on every current Linux; compare socket paths with that folded. */
const canonical = (path: string) => path.replace(/\/+$/, '').replace(/^\/var\/run\//, '/run/');

/** Whether a daemon listening on `hosts` serves the unix socket at `socketPath`. */
export function servesSocket(hosts: readonly string[], socketPath: string): boolean {
  const want = canonical(socketPath);
  return hosts.some((h) => {
    if (h === 'fd://' || h.startsWith('fd://')) return SYSTEMD_SOCKETS.map(canonical).includes(want);
    const path = h.startsWith('unix://') ? h.slice('unix://'.length) : h.startsWith('/') ? h : undefined;
    return path !== undefined && canonical(path) === want;
  });
}

/** A process this server can see: its id and command line (argv, program first). */
export interface VisibleProcess {
  pid: string;
  argv: string[];
}

/** The processes this server can see, and their mount namespaces. */
export interface ProcessReader {
  processes(): VisibleProcess[];
  /** `/proc/<pid>/ns/mnt` ('self': this process); undefined where it cannot be read (another user's). */
  mountNamespace(pid: string): string | undefined;
}

/** Linux /proc; elsewhere (and when /proc is hidden) no processes, so the defaults apply. */
export const procReader: ProcessReader = {
  processes() {
    let entries: string[];
    try {
      entries = nodeFs().readdirSync('/proc');
    } catch {
      return [];
    }
    const out: VisibleProcess[] = [];
    for (const pid of entries) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const argv = nodeFs().readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (argv.at(-1) === '') argv.pop();
        out.push({ pid, argv });
      } catch {
        // exited meanwhile, or not ours to read
      }
    }
    return out;
  },
  mountNamespace(pid) {
    try {
      return nodeFs().readlinkSync(`/proc/${pid}/ns/mnt`);
    } catch {
      return undefined;
    }
  },
};

const programOf = (argv: readonly string[]) => (argv[0] ?? '').split('/').pop();
const isDockerd = (argv: readonly string[]) => programOf(argv) === 'dockerd';

/**
 * Where `podman system service` listens: the URIs after `service` (default: the rootful socket).
 * Podman serves the Docker API too.
 */
export function podmanServiceHosts(argv: readonly string[]): string[] | undefined {
  if (programOf(argv) !== 'podman') return undefined;
  const at = argv.indexOf('system');
  if (at < 0 || argv[at + 1] !== 'service') return undefined;
  const uris = argv.slice(at + 2).filter((a) => !a.startsWith('-') && a.includes('://'));
  return uris.length > 0 ? uris : ['unix:///run/podman/podman.sock'];
}

/** Where a dockerd listens: its -H flags, else its daemon.json's "hosts", else the default socket. */
function dockerdHosts(
  flags: DaemonSettings,
  fs: FileReader,
): { hosts: string[]; file: Partial<DaemonSettings> } {
  const text = fs.readText(flags.configFile ?? DEFAULT_DAEMON_JSON);
  const file = (text === undefined ? undefined : parseDaemonJson(text)) ?? {};
  return { hosts: flags.hosts.length ? flags.hosts : (file.hosts ?? [DEFAULT_HOST]), file };
}

/** The visible dockerd or Podman service listening on the unix socket at `socketPath`. */
function servingProcess(
  socketPath: string,
  fs: FileReader,
  processes: ProcessReader,
): VisibleProcess | undefined {
  return processes.processes().find((p) => {
    const hosts = isDockerd(p.argv)
      ? dockerdHosts(parseDockerdArgs(p.argv.slice(1)), fs).hosts
      : podmanServiceHosts(p.argv);
    return hosts !== undefined && servesSocket(hosts, socketPath);
  });
}

export interface LocalPaths {
  execRoot: string;
  containerdSocket: string;
}

/**
 * The exec root and containerd socket of the local engine at `socketPath`: from the command line of
 * the dockerd serving that socket, else its daemon.json (--config-file, default /etc/docker/daemon.json),
 * else the defaults. Without --containerd, dockerd runs its own containerd under the exec root unless
 * the system one was running; whichever socket exists is the one in use.
 */
export function localDaemonPaths(
  socketPath: string | undefined,
  fs: FileReader,
  processes: ProcessReader = procReader,
): LocalPaths {
  let settings: Partial<DaemonSettings> = {};
  if (socketPath) {
    const daemon = processes
      .processes()
      .map((p) => p.argv)
      .filter(isDockerd)
      .map((argv) => {
        const flags = parseDockerdArgs(argv.slice(1));
        const { hosts, file } = dockerdHosts(flags, fs);
        return {
          hosts,
          execRoot: flags.execRoot ?? file.execRoot,
          containerd: flags.containerd ?? file.containerd,
        };
      })
      .find((d) => servesSocket(d.hosts, socketPath));
    if (daemon) settings = daemon;
    else {
      // No visible dockerd serves it (another PID namespace, hidepid): the system daemon.json, if it fits.
      const text = fs.readText(DEFAULT_DAEMON_JSON);
      const file = text === undefined ? undefined : parseDaemonJson(text);
      if (file && servesSocket(file.hosts ?? [DEFAULT_HOST], socketPath)) settings = file;
    }
  }
  const execRoot = settings.execRoot ?? DEFAULT_EXEC_ROOT;
  const supervised = `${execRoot.replace(/\/+$/, '')}/containerd/containerd.sock`;
  const containerdSocket =
    settings.containerd?.replace(/^unix:\/\//, '') ??
    (socketPath && fs.exists(supervised) ? supervised : DEFAULT_CONTAINERD_SOCKET);
  return { execRoot, containerdSocket };
}
