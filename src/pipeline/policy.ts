/**
 * The argument-level policy: the early, friendly refusal that names the tool's own argument
 * (`cap_add[0]`, `volumes[1]`, `driver_opts`, `path`). It is generic — it looks at well-known argument
 * names wherever they appear, never at tool names — and applies the same rules (src/docker/policy/)
 * the engine-boundary guard applies to the request the engine receives, which stays the one that
 * holds: anything this check does not recognise is still checked there.
 */
import type { EngineFacts } from '../core/engine.ts';
import { nodePath } from '../core/node-builtins.ts';
import { looksLikeHostPath } from '../docker/policy/paths.ts';
import {
  bindSource,
  checkCapAdd,
  checkDevices,
  checkDriverOpts,
  checkNamespaceMode,
  checkNetworkCreate,
  checkPrivileged,
  checkSecurityOpt,
  type NamespaceKind,
  type RuleContext,
} from '../docker/policy/rules.ts';
import { currentPolicy, pathPolicyOf, ruleContextOf } from '../docker/policy/scope.ts';

export type { PolicySettings } from '../docker/policy/scope.ts';

// A Map, not an object: an argument named `constructor` must not find Object.prototype's.
const MODES = new Map<string, NamespaceKind>([
  ['networkmode', 'network'],
  ['pidmode', 'pid'],
  ['ipcmode', 'ipc'],
  ['utsmode', 'uts'],
  ['usernsmode', 'userns'],
  ['cgroupnsmode', 'cgroupns'],
]);
// Values of these are user data (label keys, env names, build args), not argument names.
const FREE_FORM = new Set(['labels', 'env', 'environment', 'buildargs', 'annotations', 'sysctls']);
const MAX_DEPTH = 8;
/** A network's address arguments, beside its subnet. */
const ADDRESS_ARGS = new Set(['subnet', 'iprange', 'gateway']);

/**
 * Checks a call's arguments under the call's policy (run it inside withPolicy). `hostPathArgs` names
 * the arguments that are files or directories on the server's own host (a build context, a tar to
 * save or load): they pass the host-path rule, on this server's filesystem. `reads`: the call is at
 * the safe tier, so it makes the engine change nothing and none of its arguments can widen what a
 * container reaches; only its host paths are checked (the engine-boundary guard still sees every
 * request it makes).
 */
export function checkArgumentPolicy(
  args: Record<string, unknown>,
  facts: Partial<EngineFacts> & { sharesFilesystem: boolean },
  hostPathArgs: readonly string[] = [],
  reads = false,
): void {
  if (reads && hostPathArgs.length === 0) return;
  const scope = currentPolicy();
  // The host-path rules are built only when an argument names a host path.
  if (!reads)
    walk(
      args,
      '',
      ruleContextOf(scope, () => pathPolicyOf(scope, facts)),
      0,
    );
  if (hostPathArgs.length === 0) return;
  const own = ruleContextOf(scope, () => pathPolicyOf(scope, { ...facts, sharesFilesystem: true }));
  for (const name of hostPathArgs) {
    const v = args[name];
    if (typeof v === 'string' && v.trim()) own.hostPath(v, name);
    // A list (Compose `files`) may hold paths relative to another argument: its absolute entries are checked here.
    else if (Array.isArray(v))
      for (const [i, p] of v.entries())
        if (typeof p === 'string' && nodePath().isAbsolute(p)) own.hostPath(p, `${name}[${i}]`);
  }
}

// Matches snake_case, camelCase and the engine's PascalCase spellings of the same argument.
const nameKey = (k: string) => k.toLowerCase().replace(/[_-]/g, '');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const field = (o: Record<string, unknown>, name: string) =>
  Object.entries(o).find(([k]) => nameKey(k) === name)?.[1];
const at = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

function walk(value: unknown, path: string, ctx: RuleContext, depth: number): void {
  if (!isObject(value) || depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) walk(item, at(path, i), ctx, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === undefined) continue;
    const name = nameKey(key);
    const arg = at(path, key);
    checkArgument(name, arg, v, value, ctx);
    if (!FREE_FORM.has(name) && name !== 'driveropts' && name !== 'options') walk(v, arg, ctx, depth + 1);
  }
}

function checkArgument(
  name: string,
  arg: string,
  v: unknown,
  parent: Record<string, unknown>,
  ctx: RuleContext,
): void {
  const mode = MODES.get(name);
  if (name === 'privileged') checkPrivileged(v, arg, ctx);
  else if (mode) checkNamespaceMode(mode, v, arg, ctx);
  else if (name === 'capadd') checkCapAdd(listOf(v), arg, ctx);
  // create/run's Compose-style networks: a list of names, or a map keyed by them.
  else if (name === 'networks' && (Array.isArray(v) || isObject(v)))
    for (const net of Array.isArray(v) ? v : Object.keys(v))
      checkNamespaceMode('network', net, at(arg, String(net)), ctx);
  else if (name === 'securityopt') checkSecurityOpt(listOf(v), arg, ctx);
  else if (name === 'devices' || name === 'devicecgrouprules' || name === 'devicerequests')
    checkDevices(v, arg, ctx);
  else if (name === 'driveropts') {
    const driver = field(parent, 'driver');
    if (driver === undefined || driver === '' || driver === 'local') checkDriverOpts(v, arg, ctx);
  }
  // A top-level `driver` with `options` is a network to create (nested ones are a container's
  // logging or device requests; a volume's options are `driver_opts`, checked above).
  else if (name === 'options' && arg === 'options' && isObject(v) && !Array.isArray(v))
    checkNetworkCreate(
      { driver: field(parent, 'driver'), options: v },
      { driver: 'driver', options: arg },
      ctx,
    );
  else if (name === 'driver' && arg === 'driver' && field(parent, 'driveropts') === undefined)
    checkNetworkCreate({ driver: v, options: undefined }, { driver: arg, options: 'options' }, ctx);
  // A top-level subnet is a network to create's, with its range and gateway beside it.
  else if (name === 'subnet' && arg === 'subnet')
    checkNetworkCreate(
      {
        driver: field(parent, 'driver'),
        options: undefined,
        addresses: Object.keys(parent)
          .filter((k) => ADDRESS_ARGS.has(nameKey(k)))
          .map((k) => ({ at: k, value: parent[k] })),
      },
      { driver: 'driver', options: 'options' },
      ctx,
    );
  else if (name === 'volumes' || name === 'binds') {
    if (Array.isArray(v) || typeof v === 'string')
      for (const [i, entry] of listOf(v).entries()) {
        const src = bindSource(entry);
        if (src !== undefined) ctx.hostPath(src, Array.isArray(v) ? at(arg, i) : arg);
      }
    // docker-py style: { "<src>": { bind, mode } } or { "<src>": "/dst" }; the key is the host side.
    else if (isObject(v))
      for (const src of Object.keys(v)) if (looksLikeHostPath(src)) ctx.hostPath(src, `${arg}['${src}']`);
  } else if (name === 'mounts') {
    for (const [i, entry] of listOf(v).entries()) {
      if (!isObject(entry)) continue;
      const type = field(entry, 'type');
      const source = field(entry, 'source') ?? field(entry, 'src');
      const bind = typeof type === 'string' && ['bind', 'npipe'].includes(type.trim().toLowerCase());
      if (bind && typeof source === 'string') ctx.hostPath(source, at(at(arg, i), 'source'));
    }
  }
}
