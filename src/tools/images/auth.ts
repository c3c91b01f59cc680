/**
 * Registry credentials, found the way the Docker CLI finds them: an explicit `auth` argument wins; else
 * `<docker config dir>/config.json` (--docker-config, DOCKER_CONFIG, default ~/.docker) — a credential helper (`credHelpers` for that registry, else `credsStore`) run as
 * `docker-credential-<name> get`, falling back to the `auths` entry (base64 `auth`, or username/password,
 * or identitytoken). Credentials only ever go into the engine's X-Registry-* headers, never into a result.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { SHAPE_IN_EXAMPLE } from '../../core/schema-marks.ts';

/** Far above any real login or token (registry tokens run to a few KB); the engine takes them in one header. */
const MAX_CREDENTIAL = 65_536;

/**
 * Deliberately open to unknown keys: a validation error on the whole object would quote it, password
 * included, in the error text. `registryAuth` rejects a login that is neither user+password nor a token.
 */
export const AuthArg = Type.Optional(
  Type.Object(
    {
      username: Type.Optional(Type.String({ maxLength: MAX_CREDENTIAL })),
      password: Type.Optional(Type.String({ maxLength: MAX_CREDENTIAL })),
      identitytoken: Type.Optional(Type.String({ maxLength: MAX_CREDENTIAL })),
    },
    {
      ...SHAPE_IN_EXAMPLE,
      // A misspelt key ('user') would otherwise push or pull anonymously without a word.
      additionalProperties: false,
      description: '{"username","password"} or {"identitytoken"}; default: docker config',
    },
  ),
);

export interface ExplicitAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** What the engine takes in X-Registry-Auth (and, keyed by registry, in a build's X-Registry-Config). */
export interface EngineAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

// ---- image references -------------------------------------------------------------------------------

export const DOCKER_HUB = 'docker.io';
/** The address the CLI uses, and credential helpers and config.json know, for Docker Hub. */
const HUB_SERVER = 'https://index.docker.io/v1/';

export interface ImageReference {
  /** Name without tag or digest, as written (`127.0.0.1:5000/app`, `busybox`). */
  repository: string;
  tag?: string;
  digest?: string;
  /** Registry host (`127.0.0.1:5000`), or docker.io. */
  registry: string;
}

/** Splits `[registry/]path[:tag][@digest]` the way the engine does (a first part with '.' or ':' is a host). */
export function parseReference(image: string): ImageReference {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  let name = at >= 0 ? image.slice(0, at) : image;
  let tag: string | undefined;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const registry = /[.:]/.test(first) || first === 'localhost' ? first : DOCKER_HUB;
  return { repository: name, registry, ...(tag && { tag }), ...(digest && { digest }) };
}

/** Hostname a config.json key stands for: `https://index.docker.io/v1/` → `index.docker.io`. */
const hostnameOf = (key: string) => key.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? key;

const serverAddress = (registry: string) => (registry === DOCKER_HUB ? HUB_SERVER : registry);
const lookupHost = (registry: string) => (registry === DOCKER_HUB ? 'index.docker.io' : registry);

// ---- config.json and helpers ------------------------------------------------------------------------

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

const HELPER_TIMEOUT_MS = 10_000;
const CONFIG_HINT = 'Fix the Docker config.json, or pass auth explicitly.';

async function readDockerConfig(configDir: string): Promise<DockerConfigFile> {
  const path = join(configDir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {}; // no config: anonymous, as the CLI
  }
  try {
    const doc = JSON.parse(text) as unknown;
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as DockerConfigFile) : {};
  } catch {
    throw new ToolError('registry_auth', `the Docker config file ${path} is not valid JSON`, {
      hint: CONFIG_HINT,
    });
  }
}

/** `docker-credential-<helper> get` with the server address on stdin; undefined when it has nothing. */
function runHelper(helper: string, server: string, signal: AbortSignal): Promise<EngineAuth | undefined> {
  const bin = `docker-credential-${helper}`;
  const fail = (why: string, hint = `Check ${bin}, remove it from the Docker config.json, or pass auth.`) =>
    new ToolError('registry_auth', `credential helper ${bin} ${why}`, { hint });
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['get'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: AbortSignal.any([signal, AbortSignal.timeout(HELPER_TIMEOUT_MS)]),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      if (out.length < 65_536) out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < 4096) err += c.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (signal.aborted) reject(signal.reason);
      else if (e.code === 'ENOENT')
        reject(
          fail(
            'is not installed (named in the Docker config.json)',
            `Install ${bin} on the server's PATH, remove credsStore/credHelpers from the Docker config.json, or pass auth.`,
          ),
        );
      else if (e.name === 'AbortError') reject(fail(`did not answer within ${HELPER_TIMEOUT_MS / 1000} s`));
      else reject(fail(`could not run: ${e.message}`));
    });
    child.on('close', (code) => {
      if (code !== 0) {
        // The helpers' protocol: "credentials not found" means none stored, not a failure.
        if (/credentials not found/i.test(out + err)) return resolve(undefined);
        return reject(fail(`failed: ${(err || out).trim().split('\n')[0]?.slice(0, 200) || `exit ${code}`}`));
      }
      try {
        const c = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!c.Secret) return resolve(undefined);
        resolve(
          c.Username === '<token>'
            ? { identitytoken: c.Secret, serveraddress: server }
            : { username: c.Username, password: c.Secret, serveraddress: server },
        );
      } catch {
        reject(fail('answered something that is not JSON'));
      }
    });
    child.stdin.on('error', () => {}); // a helper that exits without reading stdin
    child.stdin.end(server);
  });
}

function fromAuthsEntry(
  entry: NonNullable<DockerConfigFile['auths']>[string],
  server: string,
): EngineAuth | undefined {
  if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: server };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon <= 0)
      throw new ToolError(
        'registry_auth',
        `the auths entry for ${server} in the Docker config.json is malformed`,
        {
          hint: CONFIG_HINT,
        },
      );
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1), serveraddress: server };
  }
  if (entry.username && entry.password)
    return { username: entry.username, password: entry.password, serveraddress: server };
  return undefined;
}

/** Credentials for one registry from the Docker config (helper first, then `auths`), or undefined. */
async function fromDockerConfig(
  registry: string,
  signal: AbortSignal,
  configDir: string,
): Promise<EngineAuth | undefined> {
  const config = await readDockerConfig(configDir);
  const host = lookupHost(registry);
  const server = serverAddress(registry);
  const byHost = <T>(map: Record<string, T> | undefined) =>
    Object.entries(map ?? {}).find(([key]) => hostnameOf(key) === host)?.[1];
  const helper = byHost(config.credHelpers) ?? config.credsStore;
  if (helper) {
    const found = await runHelper(helper, server, signal);
    if (found) return found;
  }
  const entry = byHost(config.auths);
  return entry ? fromAuthsEntry(entry, server) : undefined;
}

/** The credentials to send for `registry`: the explicit argument, else the Docker config, else none. */
export async function registryAuth(
  registry: string,
  explicit: ExplicitAuth | undefined,
  signal: AbortSignal,
  configDir: string,
): Promise<EngineAuth | undefined> {
  if (explicit) {
    const server = serverAddress(registry);
    if (explicit.identitytoken) return { identitytoken: explicit.identitytoken, serveraddress: server };
    if (explicit.username && explicit.password)
      return { username: explicit.username, password: explicit.password, serveraddress: server };
    throw new ToolError(
      'invalid_argument',
      "invalid argument 'auth': give username and password, or identitytoken",
      {
        hint: 'Pass {"username": "...", "password": "..."} or {"identitytoken": "..."}, or omit auth to use the Docker config.',
      },
    );
  }
  return fromDockerConfig(registry, signal, configDir);
}

/**
 * Credentials for a build's base-image registries, keyed by server address (X-Registry-Config). Like
 * `docker build`, a registry whose credentials cannot be read is left out rather than failing the build:
 * a base image that is already local needs none.
 */
export async function buildRegistryConfig(
  registries: string[],
  signal: AbortSignal,
  configDir: string,
): Promise<Record<string, EngineAuth>> {
  const out: Record<string, EngineAuth> = {};
  for (const registry of new Set(registries)) {
    const auth = await fromDockerConfig(registry, signal, configDir).catch((e) => {
      if (signal.aborted) throw e;
      return undefined;
    });
    if (auth) out[auth.serveraddress] = auth;
  }
  return out;
}
