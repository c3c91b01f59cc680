/**
 * Several engines: `--engine NAME=URL` (repeatable, it accumulates), `MCP_DOCKER_ENGINES`
 * (`a=unix:///x.sock,b=ssh://u@h` or a JSON object) and the config file's `engines` map with
 * per-engine camelCase keys. Flags or env, when given, are the whole set (the file's entries of the
 * same names add their other settings); with none of them the file's map is the set. Checked here at
 * start-up for what needs no engine: names, URL schemes, keys and their types, duplicates, TLS files.
 */
import type { EngineOptions } from '../core/engine.ts';
import { nodeFs, nodePath } from '../core/node-builtins.ts';
import { ConfigError } from './meta.ts';

/** One engine's settings as the flag, env or file give them (the file's keys). */
export interface EngineEntry extends EngineOptions {
  url?: string;
}

/** A configured engine: its name, its URL, and where its settings came from (for doctor). */
export interface EngineConfig extends EngineEntry {
  name: string;
  url: string;
  source: string;
}

export const ENGINE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const STRING_KEYS = ['url', 'tlsDir', 'identityFile', 'knownHostsFile', 'description'] as const;
const BOOLEAN_KEYS = ['tlsVerify', 'readOnly', 'allowDestructive', 'sharesFilesystem'] as const;
const KEYS: readonly string[] = [...STRING_KEYS, ...BOOLEAN_KEYS];
const SCHEMES = 'unix://, tcp://, ssh://user@host[:port], npipe:// or context:NAME';

export type EngineMap = Record<string, EngineEntry>;

function checkName(name: string, where: string): void {
  if (!ENGINE_NAME.test(name))
    throw new ConfigError(
      `${where}: invalid engine name '${name}'. Names are lower-case letters, digits, '_', '.' and '-', starting with a letter or digit, at most 63 characters (e.g. prod-eu).`,
    );
}

/** `NAME=URL`, as `--engine` and the env's comma form take it. */
function nameAndUrl(item: string, where: string): [string, string] {
  const eq = item.indexOf('=');
  if (eq <= 0 || eq === item.length - 1)
    throw new ConfigError(
      `${where}: expected NAME=URL, e.g. prod=ssh://deploy@prod.example.com, got '${item}'`,
    );
  const name = item.slice(0, eq).trim();
  checkName(name, where);
  return [name, item.slice(eq + 1).trim()];
}

/** The value of one `--engine` flag, as a map of one entry. */
export function parseEngineFlag(raw: string, where: string): EngineMap {
  const [name, url] = nameAndUrl(raw, where);
  checkUrl(url, `${where} (engine '${name}')`);
  return { [name]: { url } };
}

/** Adds one `--engine` to those before it: a name given twice is refused. */
export function addEngines(into: EngineMap, more: EngineMap, where: string): EngineMap {
  for (const name of Object.keys(more)) {
    if (name in into)
      throw new ConfigError(
        `${where}: engine '${name}' is given twice. Give each engine one --engine NAME=URL.`,
      );
  }
  return { ...into, ...more };
}

/** MCP_DOCKER_ENGINES: `a=unix:///x.sock,b=ssh://u@h`, or a JSON object of names to URLs or settings. */
export function parseEnginesEnv(raw: string, where: string): EngineMap {
  const v = raw.trim();
  if (v.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(v);
    } catch (e) {
      throw new ConfigError(`${where}: not valid JSON (${(e as Error).message})`);
    }
    const seen = new Set<string>();
    for (const name of topLevelKeys(v)) {
      if (seen.has(name))
        throw new ConfigError(`${where}: engine '${name}' is given twice. Give each engine one entry.`);
      seen.add(name);
    }
    return parseEnginesObject(doc, where, true);
  }
  let out: EngineMap = {};
  for (const item of v.split(',').map((s) => s.trim())) {
    if (!item) continue;
    const [name, url] = nameAndUrl(item, where);
    checkUrl(url, `${where} (engine '${name}')`);
    out = addEngines(out, { [name]: { url } }, where);
  }
  return out;
}

/**
 * The keys of a JSON object's own members, in order and repeats included (JSON.parse keeps only the
 * last of a repeated key). `text` is valid JSON holding an object.
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      // A string at the object's own level followed by ':' is one of its keys.
      if (depth === 1 && /^\s*:/.test(text.slice(j + 1, j + 64)))
        keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      i = j;
    }
  }
  return keys;
}

/** The config file's `engines` map (or the env's JSON form): names to a URL string or a settings object. */
export function parseEnginesObject(doc: unknown, where: string, needUrl: boolean): EngineMap {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ConfigError(
      `${where}: expected an object of engine names to settings, e.g. {"prod": {"url": "ssh://deploy@prod"}}`,
    );
  const out: EngineMap = {};
  for (const [name, value] of Object.entries(doc)) {
    checkName(name, where);
    const at = `${where}, engine '${name}'`;
    const entry: EngineEntry = typeof value === 'string' ? { url: value } : entryOf(value, at);
    if (entry.url !== undefined) checkUrl(entry.url, at);
    else if (needUrl)
      throw new ConfigError(`${at}: 'url' is missing, e.g. "url": "unix:///var/run/docker.sock"`);
    out[name] = entry;
  }
  return out;
}

function entryOf(value: unknown, at: string): EngineEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`${at}: expected a URL string or an object with ${KEYS.join(', ')}`);
  const entry: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!KEYS.includes(key)) throw new ConfigError(`${at}: unknown key '${key}'. Known: ${KEYS.join(', ')}`);
    const wantsBoolean = (BOOLEAN_KEYS as readonly string[]).includes(key);
    if (wantsBoolean ? typeof v !== 'boolean' : typeof v !== 'string' || v === '')
      throw new ConfigError(
        `${at}: '${key}' must be ${wantsBoolean ? 'true or false' : 'a non-empty string'}, got ${JSON.stringify(v)}`,
      );
    entry[key] = v;
  }
  return entry as EngineEntry;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** Refuses an address the server cannot use, naming the fix. */
export function checkUrl(url: string, at: string): void {
  if (url.startsWith('context:')) {
    if (url.length === 'context:'.length)
      throw new ConfigError(`${at}: 'context:' needs a Docker context name, e.g. context:colima`);
    return;
  }
  const scheme = schemeOf(url);
  if (scheme === 'unix') {
    checkUnixUrl(url, at);
    return;
  }
  if (scheme === 'npipe') return;
  if (scheme === 'tcp' || scheme === 'ssh') {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError(`${at}: '${url}' is not a valid URL`);
    }
    // The URL as messages show it: a password in it is never repeated.
    const shown = u.password ? url.replace(`:${u.password}@`, ':***@') : url;
    if (scheme === 'ssh' && u.password)
      throw new ConfigError(
        `${at}: '${shown}' holds a password, which is never used: SSH logs in with a key. Remove ':PASSWORD' from the URL and set 'identityFile' for this engine (config file) or load the key into your ssh-agent (SSH_AUTH_SOCK).`,
      );
    if (scheme === 'tcp' && (u.username || u.password))
      throw new ConfigError(
        `${at}: '${shown}' holds a user${u.password ? ' and password' : ''}, which the engine's TCP API never uses: it authenticates clients by TLS certificate. Remove 'USER${u.password ? ':PASSWORD' : ''}@' from the URL, and set 'tlsDir' (ca.pem, cert.pem, key.pem) for this engine.`,
      );
    if (!u.hostname) throw new ConfigError(`${at}: '${shown}' names no host`);
    if (u.pathname && u.pathname !== '/')
      throw new ConfigError(
        `${at}: '${shown}' has a path; give only ${scheme}://${scheme === 'ssh' ? 'user@' : ''}host[:port]`,
      );
    return;
  }
  throw new ConfigError(`${at}: unsupported engine URL '${url}'. Use ${SCHEMES}.`);
}

/** An engine URL's scheme in lower case (`unix`, `tcp`…), or undefined when it has none. */
const schemeOf = (url: string): string | undefined =>
  /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();

/** A unix:// URL names its socket by an absolute path (the engine does not resolve a relative one). */
function checkUnixUrl(url: string, at: string): void {
  if (!url.slice('unix://'.length).startsWith('/'))
    throw new ConfigError(
      `${at}: a unix:// URL needs an absolute socket path, e.g. unix:///var/run/docker.sock`,
    );
}

/**
 * The default engine's address (DOCKER_HOST, --docker-host, dockerHost) takes what the docker CLI takes,
 * less fd:// (a daemon's listening socket, which no client dials), plus http(s):// as Docker's SDKs read.
 */
const HOST_SCHEMES =
  'unix:///path, tcp://host:port, ssh://user@host, npipe:////./pipe/NAME, http:// or https://';

/** Refuses a default engine address no call could use, so a typo stops start-up instead of every call. */
export function checkDockerHost(url: string, at: string): void {
  const scheme = schemeOf(url);
  if (scheme === undefined) {
    // A bare HOST:PORT arrives here as tcp:// already (resolveConfig reads it as the docker CLI does).
    throw new ConfigError(`${at}: '${url}' is not an engine URL (no scheme). Use ${HOST_SCHEMES}.`);
  }
  if (scheme === 'fd')
    throw new ConfigError(
      `${at}: '${url}' is a daemon's listening address (systemd socket activation); a client cannot connect to it. Use ${HOST_SCHEMES}.`,
    );
  if (scheme === 'unix') {
    checkUnixUrl(url, at);
    return;
  }
  if (scheme === 'npipe') return;
  if (!['tcp', 'ssh', 'http', 'https'].includes(scheme))
    throw new ConfigError(`${at}: unsupported scheme '${scheme}://' in '${url}'. Use ${HOST_SCHEMES}.`);
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new ConfigError(`${at}: '${url}' is not a valid URL`);
  }
  if (!host) throw new ConfigError(`${at}: '${url}' names no host`);
}

/** Whether a tcp:// URL's host is loopback (plain TCP is refused elsewhere). */
export const isLoopbackUrl = (url: string): boolean => {
  try {
    return LOOPBACK.test(new URL(url).hostname);
  } catch {
    return false;
  }
};

/**
 * The configured engines, in order: flags (or else env) are the whole set, each merged with the
 * file's entry of the same name; with neither, the file's map. Undefined when none is configured.
 */
export function mergeEngines(layers: {
  flags?: { value: EngineMap; source: string };
  env?: { value: EngineMap; source: string };
  file?: { value: EngineMap; source: string };
}): EngineConfig[] | undefined {
  const given = layers.flags ?? layers.env;
  const file = layers.file;
  const out: EngineConfig[] = [];
  if (given) {
    for (const [name, entry] of Object.entries(given.value)) {
      const fromFile = file?.value[name];
      const merged = { ...fromFile, ...stripUndefined(entry) };
      out.push({
        ...merged,
        name,
        url: merged.url as string,
        source: fromFile ? `${given.source}; other settings from ${file?.source}` : given.source,
      });
    }
  } else if (file) {
    for (const [name, entry] of Object.entries(file.value)) {
      if (entry.url === undefined)
        throw new ConfigError(
          `${file.source}, engine '${name}': 'url' is missing, e.g. "url": "ssh://deploy@host"`,
        );
      out.push({ ...entry, name, url: entry.url, source: file.source });
    }
  }
  if (out.length === 0) return undefined;
  for (const e of out) checkTls(e);
  return out;
}

const stripUndefined = (e: EngineEntry): EngineEntry =>
  Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as EngineEntry;

/** TLS and SSH settings that cannot work are refused at start-up, naming the file. */
function checkTls(e: EngineConfig): void {
  const at = `engine '${e.name}' (${e.source})`;
  // A Docker context may lead to ssh://: its engine can take the SSH files.
  if (!e.url.startsWith('ssh://') && !e.url.startsWith('context:'))
    for (const key of ['identityFile', 'knownHostsFile'] as const)
      if (e[key])
        throw new ConfigError(
          `${at}: '${key}' applies to ssh:// engines only, but the URL is '${e.url}'. Remove '${key}' from this engine, or give it an ssh://user@host URL.`,
        );
  if (e.url.startsWith('tcp://') && !e.tlsDir && !isLoopbackUrl(e.url))
    throw new ConfigError(
      `${at}: plain tcp:// to '${e.url}' is refused: the engine would be driven, and registry credentials sent, unencrypted and unauthenticated. Set 'tlsDir' (ca.pem, cert.pem, key.pem) for this engine, or use ssh://user@host.`,
    );
  if (!e.tlsDir) {
    if (e.tlsVerify)
      throw new ConfigError(
        `${at}: 'tlsVerify' needs 'tlsDir' (the directory holding ca.pem, cert.pem, key.pem)`,
      );
    return;
  }
  if (!e.url.startsWith('tcp://'))
    throw new ConfigError(`${at}: 'tlsDir' applies to tcp:// engines only, but the URL is '${e.url}'`);
  const verify = e.tlsVerify ?? true;
  const need = verify ? ['ca.pem', 'cert.pem', 'key.pem'] : ['cert.pem', 'key.pem'];
  const { existsSync } = nodeFs();
  const { join } = nodePath();
  const missing = need.filter((f) => !existsSync(join(e.tlsDir as string, f)));
  if (missing.length > 0)
    throw new ConfigError(
      `${at}: ${missing.map((f) => join(e.tlsDir as string, f)).join(', ')} not found. 'tlsDir' must hold ${need.join(', ')}${verify ? '' : ' (ca.pem too unless tlsVerify is false)'}, as DOCKER_CERT_PATH does.`,
    );
}
