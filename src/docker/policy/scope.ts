/**
 * The policy a call runs under. The pipeline runs each tool call inside `withPolicy(settings, host)`;
 * the engine-boundary guard and the host-file function read it with `currentPolicy()`, so a request
 * made anywhere inside the call (dockerode, our own requests, streams) is checked against the same
 * settings. A request outside any call gets the defaults set at start-up (`setPolicyDefaults`), and
 * before that the strictest settings: nothing is ever unguarded.
 *
 * A call under the server's own settings (the defaults: every call the server makes today) needs no
 * scope of its own, since what it would hold is the defaults: it runs without one, and without
 * AsyncLocalStorage, which then never loads (~0.4 MiB of a session's peak RSS and a frame per call,
 * bench/changes.md). The one difference: its warnings are told once per check (one request, one
 * call's arguments) rather than once per call. A call under other settings (unit tests; a policy per
 * caller, if one comes) gets its own scope, in AsyncLocalStorage, as before.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { EngineFacts } from '../../core/engine.ts';
import { nodeOs } from '../../core/node-builtins.ts';
import { type HostNetwork, readHostNetworks, withoutEngineBridges } from './addresses.ts';
import {
  checkHostPath,
  type PathPolicy,
  type PathResolver,
  resolvedHostPath,
  sensitivePaths,
} from './paths.ts';
import { nodePathResolver } from './resolver.ts';
import { PRIVILEGED_SETTING, type RuleContext } from './rules.ts';

export interface PolicySettings {
  allowPrivileged: boolean;
  mountAllowlist: string[];
  mountBlocklist: string[];
}

/** The server's host, as far as the policy needs it. */
export interface PolicyHost {
  home: string;
  tmpDir?: string;
  platform?: string;
  xdgRuntimeDir?: string;
  /** Its interface and route networks, bridges included (default: read from the kernel when a network names addresses). */
  networks?: () => readonly HostNetwork[];
}

export interface PolicyScope {
  settings: PolicySettings;
  host: PolicyHost;
  fs: PathResolver;
  /** Messages already logged in this call: each is logged once. */
  logged: Set<string>;
}

type Warn = (message: string) => void;
let warn: Warn = (m) => void process.stderr.write(`WARN mcp-docker policy: ${m}\n`);
let defaults: Omit<PolicyScope, 'logged'> = {
  settings: { allowPrivileged: false, mountAllowlist: [], mountBlocklist: [] },
  // Read when first used: setPolicyDefaults replaces it before any call.
  get host() {
    return { home: nodeOs().homedir() };
  },
  fs: nodePathResolver,
};

/** The scopes of calls under other settings than the defaults; made for the first such call. */
let storage: AsyncLocalStorage<PolicyScope> | undefined;

/** The settings and host for requests made outside a tool call, and where warnings go. */
export function setPolicyDefaults(settings: PolicySettings, host: PolicyHost, log?: Warn): void {
  defaults = { settings, host, fs: defaults.fs };
  if (log) warn = log;
}

/** Runs `fn` (a tool call) under these settings; `fs` is replaced only by unit tests. */
export function withPolicy<T>(
  settings: PolicySettings,
  host: PolicyHost,
  fn: () => T,
  fs: PathResolver = nodePathResolver,
): T {
  const own = settings === defaults.settings && host === defaults.host && fs === defaults.fs;
  // Once any call has a scope, every call gets one: a default call inside another's scope (none today)
  // must not see that scope's settings.
  if (own && storage === undefined) return fn();
  storage ??= new (require('node:async_hooks') as typeof import('node:async_hooks')).AsyncLocalStorage();
  return storage.run({ settings, host, fs, logged: new Set() }, fn);
}

export function currentPolicy(): PolicyScope {
  return storage?.getStore() ?? { ...defaults, logged: new Set() };
}

function warnOnce(scope: PolicyScope, key: string, message: string): void {
  if (scope.logged.has(key)) return;
  scope.logged.add(key);
  warn(message);
}

/**
 * The host-path rule for this scope. `shares`: the path is on this server's filesystem as the
 * engine sees it (always true for a host file the server itself opens). `onNodes`: the path is a
 * Swarm service's, on whichever node runs its task, so it is judged as on an engine that does not
 * share this filesystem (allowlist only, as written), whatever this one's facts say, and as it
 * resolves here too when this engine shares this filesystem; this engine's own paths stay refused.
 */
export function pathPolicyOf(
  scope: PolicyScope,
  facts: Partial<EngineFacts> & { sharesFilesystem: boolean },
  onNodes = false,
): PathPolicy {
  const { settings, host } = scope;
  const win = host.platform === 'win32' || host.platform === 'darwin';
  let sensitive: string[] | undefined;
  return {
    allowlist: settings.mountAllowlist,
    blocklist: settings.mountBlocklist,
    home: host.home,
    tmpDir: host.tmpDir ?? nodeOs().tmpdir(),
    // Listed when a path is first checked: other engines' paths are read only then.
    get sensitive() {
      sensitive ??= sensitivePaths({ ...facts, xdgRuntimeDir: host.xdgRuntimeDir });
      return sensitive;
    },
    shares: facts.sharesFilesystem && host.platform !== 'win32',
    onNodes,
    foldCase: win,
    fs: scope.fs,
    onAdmit: (m) => warnOnce(scope, m, m),
  };
}

/**
 * The rules' context for this scope: escapes lifted by the privileged setting are logged once per call.
 * `paths` may be a function: it is called once, when an argument first names a host path (most calls
 * name none, and building the rule reads the engine's facts).
 */
export function ruleContextOf(scope: PolicyScope, paths: PathPolicy | (() => PathPolicy)): RuleContext {
  let rule = typeof paths === 'function' ? undefined : paths;
  const make = paths as () => PathPolicy;
  let nets: readonly HostNetwork[] | undefined;
  return {
    allowPrivileged: scope.settings.allowPrivileged,
    lifted: (m) => warnOnce(scope, 'lifted', `${PRIVILEGED_SETTING} lifts the policy for this call: ${m}`),
    hostPath: (raw, arg) => {
      rule ??= make();
      return checkHostPath(raw, arg, rule);
    },
    resolve: (raw) => {
      rule ??= make();
      return resolvedHostPath(raw, rule);
    },
    hostNetworks: (ownBridges) => {
      rule ??= make();
      // A local socket's engine makes its bridges on this host; Docker Desktop's are in its VM.
      if (!rule.shares || (scope.host.platform ?? process.platform) !== 'linux') return undefined;
      nets ??= (scope.host.networks ?? readHostNetworks)();
      return withoutEngineBridges(nets, ownBridges);
    },
  };
}
