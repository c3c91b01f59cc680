/**
 * The policy on a Swarm service spec (POST /services/create, /services/{id}/update, and the previous
 * spec a rollback brings back): its tasks are containers, so the container rules apply to its
 * ContainerSpec — capabilities, privileges (seccomp, AppArmor, SELinux), mounts (host paths, local
 * volume options, named volumes as this engine holds them) — and its networks are judged as a
 * container's joined network is (not the host's, not one on a host interface: macvlan, ipvlan).
 * An allowlist: a ContainerSpec or Privileges key this file does not know is refused (the engine
 * matches keys without regard to case, so neither does this file). Host paths are the nodes' own, on
 * whichever node runs a task: the caller passes a rule context that judges them as on an engine that
 * does not share this filesystem (lexical, allowlist only, this engine's own paths still refused).
 * Published ports are allowed: Swarm publishes on every node, as a container publish without an
 * address would; the tools say so.
 */
import { field, isObj, list } from './keys.ts';
import {
  checkCapAdd,
  checkDriverOpts,
  checkJoinedNetwork,
  checkMountDriver,
  type NetworkFacts,
  type RuleContext,
  refuseEscape,
} from './rules.ts';

/** Every ContainerSpec key of the Engine API (1.41–1.47) and what the policy does with it. */
const CONTAINER_SPEC_KEYS = new Set(
  [
    'Image',
    'Labels',
    'Command',
    'Args',
    'Hostname',
    'Env',
    'Dir',
    'User',
    'Groups',
    'Privileges',
    'TTY',
    'OpenStdin',
    'ReadOnly',
    'Mounts',
    'StopSignal',
    'StopGracePeriod',
    'HealthCheck',
    'Hosts',
    'DNSConfig',
    'Secrets',
    'Configs',
    'Isolation',
    'Init',
    'Sysctls',
    'CapabilityAdd',
    'CapabilityDrop',
    'Ulimits',
    'OomScoreAdj',
  ].map((k) => k.toLowerCase()),
);
const PRIVILEGE_KEYS = new Set([
  'credentialspec',
  'selinuxcontext',
  'seccomp',
  'apparmor',
  'nonewprivileges',
]);
const SAFE_MOUNT_TYPES = new Set(['volume', 'tmpfs', 'cluster', 'image']);

/** What the service check may ask this engine: a named volume or a network as they are now. */
export interface ServiceLookup {
  volume(name: string): Promise<{ Driver?: string; Options?: Record<string, unknown> | null } | undefined>;
  network(ref: string): Promise<NetworkFacts | undefined>;
}

/** A ServiceSpec: refused, naming the field, when one of its tasks would break the container policy. */
export async function checkServiceSpec(
  body: unknown,
  ctx: RuleContext,
  lookup: ServiceLookup,
): Promise<void> {
  if (!isObj(body)) return;
  const task = field(body, 'TaskTemplate', 'the service spec');
  const at = 'TaskTemplate.ContainerSpec';
  const spec = field(task, 'ContainerSpec', 'TaskTemplate');
  if (isObj(spec)) {
    for (const k of Object.keys(spec))
      if (!CONTAINER_SPEC_KEYS.has(k.toLowerCase()))
        refuseEscape(ctx, `${at}.${k}: an unknown container setting is refused: the policy cannot check it`);
    checkCapAdd(list(field(spec, 'CapabilityAdd', at)), `${at}.CapabilityAdd`, ctx);
    checkPrivileges(field(spec, 'Privileges', at), `${at}.Privileges`, ctx);
    for (const [i, m] of list(field(spec, 'Mounts', at)).entries())
      await checkMount(m, `${at}.Mounts[${i}]`, ctx, lookup);
  }
  // Networks: the task's, and the deprecated service-level list the engine still honours.
  const nets = [
    ...list(field(task, 'Networks', 'TaskTemplate')).map(
      (n, i) => [n, `TaskTemplate.Networks[${i}]`] as const,
    ),
    ...list(field(body, 'Networks', 'the service spec')).map((n, i) => [n, `Networks[${i}]`] as const),
  ];
  for (const [n, arg] of nets) await checkNetwork(field(n, 'Target', arg), arg, ctx, lookup);
}

function checkPrivileges(priv: unknown, at: string, ctx: RuleContext): void {
  if (!isObj(priv)) return;
  for (const k of Object.keys(priv))
    if (!PRIVILEGE_KEYS.has(k.toLowerCase()))
      refuseEscape(ctx, `${at}.${k}: an unknown privilege setting is refused: the policy cannot check it`);
  for (const k of ['Seccomp', 'AppArmor']) {
    const mode = field(field(priv, k, at), 'Mode', `${at}.${k}`);
    if (mode !== undefined && mode !== null && mode !== '' && mode !== 'default')
      refuseEscape(ctx, `${at}.${k}: mode '${String(mode)}' is refused: it loosens confinement`);
  }
  const se = field(priv, 'SELinuxContext', at);
  if (field(se, 'Disable', `${at}.SELinuxContext`) === true)
    refuseEscape(ctx, `${at}.SELinuxContext: disabling SELinux labels is refused`);
  for (const k of ['User', 'Role', 'Type']) {
    const v = field(se, k, `${at}.SELinuxContext`);
    if (typeof v === 'string' && v)
      refuseEscape(
        ctx,
        `${at}.SELinuxContext.${k}: setting an SELinux ${k.toLowerCase()} is refused: only the level may be set`,
      );
  }
}

async function checkMount(m: unknown, arg: string, ctx: RuleContext, lookup: ServiceLookup): Promise<void> {
  if (!isObj(m)) return;
  const rawType = field(m, 'Type', arg);
  const type = typeof rawType === 'string' && rawType ? rawType.toLowerCase() : 'volume';
  const source = field(m, 'Source', arg);
  if (type === 'bind' || type === 'npipe') {
    if (typeof source === 'string') ctx.hostPath(source, `${arg}.Source`);
    return;
  }
  if (!SAFE_MOUNT_TYPES.has(type)) return refuseEscape(ctx, `${arg}.Type: mount type '${type}' is refused`);
  if (type !== 'volume') return;
  checkMountDriver(m, arg, ctx);
  if (typeof source === 'string' && source) {
    const v = await lookup.volume(source);
    if (v && (!v.Driver || v.Driver === 'local'))
      checkDriverOpts(v.Options ?? undefined, `${arg} (volume '${source}' options)`, ctx);
  }
}

async function checkNetwork(
  target: unknown,
  arg: string,
  ctx: RuleContext,
  lookup: ServiceLookup,
): Promise<void> {
  if (typeof target !== 'string' || !target) return;
  if (target.toLowerCase() === 'host')
    return refuseEscape(ctx, `${arg}: the host network is refused: it shares the nodes' network namespace`);
  // By name or ID, as the engine holds it: the host network, or one on a host interface (macvlan, ipvlan).
  checkJoinedNetwork(target, await lookup.network(target), arg, ctx);
}
