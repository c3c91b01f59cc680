/**
 * Where the engine might be, in the order the Docker CLI users expect: DOCKER_HOST, then the Docker
 * context (DOCKER_CONTEXT wins over config.json's currentContext), then well-known sockets.
 * Pure apart from the injected file reader, so the order is unit-tested without an engine.
 */
import { nodePath } from '../core/node-builtins.ts';

const join = (...parts: string[]): string => nodePath().join(...parts);

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  verify: boolean;
}

export interface Candidate {
  /** unix:///path, tcp://host:port, npipe:////./pipe/name, ssh://user@host */
  url: string;
  /** How it was found, e.g. 'DOCKER_HOST', "context 'colima'", 'Docker Desktop socket'. */
  source: string;
  tls?: TlsFiles;
  /** An explicit choice (DOCKER_HOST, a context): if it fails, we do not fall back to guesses. */
  exclusive: boolean;
  /** ssh:// only: the engine's own key and known_hosts files. */
  ssh?: { identityFile?: string; knownHostsFile?: string };
}

export interface DiscoveryInput {
  dockerHost?: string;
  /** Where dockerHost came from ('flag --docker-host', 'env DOCKER_HOST', a file's key); default DOCKER_HOST. */
  dockerHostSource?: string;
  dockerContext?: string;
  dockerConfigDir: string;
  tlsVerify: boolean;
  certPath?: string;
  home: string;
  platform: NodeJS.Platform;
  xdgRuntimeDir?: string;
  uid?: number;
  /** The SSH agent's socket, for ssh:// engines. */
  sshAuthSock?: string;
  /** The login name: an ssh:// URL without a user connects as it. */
  user?: string;
  /** A configured engine's endpoint (--engine, MCP_DOCKER_ENGINES, the file's engines): the only one tried. */
  endpoint?: Candidate;
}

export interface FileReader {
  readText(path: string): string | undefined;
  exists(path: string): boolean;
}

export class DiscoveryError extends Error {}

export function discoverCandidates(input: DiscoveryInput, fs: FileReader): Candidate[] {
  if (input.endpoint) return [input.endpoint];
  if (input.dockerHost) {
    const source = input.dockerHostSource ?? 'DOCKER_HOST';
    return [{ url: input.dockerHost, source, tls: envTls(input, fs), exclusive: true }];
  }
  const context = input.dockerContext ?? currentContext(input.dockerConfigDir, fs);
  if (context && context !== 'default') {
    return [contextCandidate(context, input, fs)];
  }
  return knownSockets(input).map(([url, source]) => ({ url, source, exclusive: false }));
}

function envTls(input: DiscoveryInput, fs: FileReader): TlsFiles | undefined {
  if (!input.dockerHost?.startsWith('tcp://') && !input.dockerHost?.startsWith('https://')) return undefined;
  const dir = input.certPath ?? (input.tlsVerify ? input.dockerConfigDir : undefined);
  if (!dir && !input.tlsVerify) return undefined;
  const file = (name: string) => {
    const p = join(dir ?? input.dockerConfigDir, name);
    return fs.exists(p) ? p : undefined;
  };
  return { ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem'), verify: input.tlsVerify };
}

function currentContext(configDir: string, fs: FileReader): string | undefined {
  const text = fs.readText(join(configDir, 'config.json'));
  if (!text) return undefined;
  try {
    const doc = JSON.parse(text) as { currentContext?: unknown };
    return typeof doc.currentContext === 'string' ? doc.currentContext : undefined;
  } catch {
    return undefined; // A broken CLI config must not stop discovery; the sockets still get tried.
  }
}

/** Context metadata lives under contexts/meta/<sha256(name)>/meta.json, TLS files under contexts/tls/. */
export function contextCandidate(name: string, input: DiscoveryInput, fs: FileReader): Candidate {
  // Bun's hasher: importing node:crypto would load Node's crypto module into every session.
  const id = new Bun.CryptoHasher('sha256').update(name).digest('hex');
  const metaPath = join(input.dockerConfigDir, 'contexts', 'meta', id, 'meta.json');
  const text = fs.readText(metaPath);
  if (!text) {
    throw new DiscoveryError(
      `Docker context '${name}' was selected but its metadata is missing. Run 'docker context ls' to see the contexts, or set DOCKER_CONTEXT=default.`,
    );
  }
  let host: string | undefined;
  let skipVerify = false;
  try {
    const meta = JSON.parse(text) as { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
    host = meta.Endpoints?.docker?.Host;
    skipVerify = meta.Endpoints?.docker?.SkipTLSVerify ?? false;
  } catch {
    // fall through to the error below
  }
  if (!host) throw new DiscoveryError(`Docker context '${name}' has no docker endpoint in its metadata.`);
  const tlsDir = join(input.dockerConfigDir, 'contexts', 'tls', id, 'docker');
  const tlsFile = (f: string) => (fs.exists(join(tlsDir, f)) ? join(tlsDir, f) : undefined);
  const tls = fs.exists(tlsDir)
    ? { ca: tlsFile('ca.pem'), cert: tlsFile('cert.pem'), key: tlsFile('key.pem'), verify: !skipVerify }
    : undefined;
  return { url: host, source: `Docker context '${name}'`, tls, exclusive: true };
}

function knownSockets(input: DiscoveryInput): [string, string][] {
  if (input.platform === 'win32') {
    return [
      ['npipe:////./pipe/docker_engine', 'Docker for Windows pipe'],
      ['npipe:////./pipe/dockerDesktopLinuxEngine', 'Docker Desktop pipe'],
      ['npipe:////./pipe/podman-machine-default', 'Podman machine pipe'],
    ];
  }
  const h = input.home;
  const runtime = input.xdgRuntimeDir ?? (input.uid !== undefined ? `/run/user/${input.uid}` : undefined);
  const list: [string, string | undefined][] = [
    ['/var/run/docker.sock', 'system socket'],
    [runtime && join(runtime, 'docker.sock'), 'rootless Docker socket'],
    [join(h, '.docker/run/docker.sock'), 'Docker Desktop socket'],
    [join(h, '.docker/desktop/docker.sock'), 'Docker Desktop socket'],
    [join(h, '.colima/default/docker.sock'), 'Colima socket'],
    [join(h, '.colima/docker.sock'), 'Colima socket'],
    [join(h, '.orbstack/run/docker.sock'), 'OrbStack socket'],
    [join(h, '.rd/docker.sock'), 'Rancher Desktop socket'],
    [runtime && join(runtime, 'podman/podman.sock'), 'Podman socket'],
    ['/run/podman/podman.sock', 'Podman system socket'],
    [join(h, '.local/share/containers/podman/machine/podman.sock'), 'Podman machine socket'],
    [join(h, '.local/share/containers/podman/machine/qemu/podman.sock'), 'Podman machine socket'],
  ].map(([path, source]) => [path, source] as [string, string | undefined]);
  const seen = new Set<string>();
  const out: [string, string][] = [];
  for (const [path, source] of list) {
    if (!path || seen.has(path)) continue;
    seen.add(path);
    out.push([`unix://${path}`, source as string]);
  }
  return out;
}
