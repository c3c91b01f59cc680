/**
 * The policy on what the engine receives and on what it holds: a container-create body, an update,
 * and a container as it is now (GET /containers/{id}/json), whoever created it. Joining another
 * container's namespaces or volumes is checked against that container as it is now; bind sources are
 * checked as they resolve now. Uses the rules in rules.ts; the lookups are the engine's, injected.
 */
import { reword, ToolError } from '../../core/errors.ts';
import { CONTAINER_REF_PATTERN, NAME_PATTERN } from '../names.ts';
import { ambiguousContainer, containerRef, type ListedId, mayBeIdPrefix } from '../resolve.ts';
import { field, isObj, list } from './keys.ts';
import {
  bindSource,
  bindVolumeName,
  checkCapAdd,
  checkDevices,
  checkDriverOpts,
  checkJoinedNetwork,
  checkMountDriver,
  checkNamespaceMode,
  checkPrivileged,
  checkRuntimeAndCgroup,
  checkSecurityOpt,
  type NamespaceKind,
  type NetworkFacts,
  type RuleContext,
  refuseEscape,
} from './rules.ts';

/** What the guard can ask the engine (GETs that bypass the guard); undefined when it does not exist. */
export interface EngineLookup {
  container(ref: string): Promise<ContainerInfo | undefined>;
  volume(name: string): Promise<{ Driver?: string; Options?: Record<string, unknown> | null } | undefined>;
  /** A network by name or ID, to tell the host network under another name (its ID). */
  network?(ref: string): Promise<NetworkFacts | undefined>;
  /** The containers whose ID starts with `prefix` (GET /containers/json, `id` filter): the ambiguity rule. */
  idsStarting(prefix: string): Promise<ListedId[] | undefined>;
}

/** Network modes that name no network to look up ('host' and `container:` are judged as modes). */
const NOT_A_NETWORK = /^(?:|default|bridge|none|host|container:.*)$/i;

/** A named network the container joins: not the host network by its ID, nor one on a host interface. */
async function checkNamedNetwork(ref: unknown, arg: string, w: Walk): Promise<void> {
  if (typeof ref !== 'string' || NOT_A_NETWORK.test(ref.trim()) || !w.lookup.network) return;
  checkJoinedNetwork(ref, await w.lookup.network(ref), arg, w.ctx);
}

/** The parts of GET /containers/{id}/json the policy reads. */
export interface ContainerInfo {
  Id?: string;
  Name?: string;
  /** Its image's ID. */
  Image?: string;
  HostConfig?: Record<string, unknown>;
  Mounts?: { Type?: string; Source?: string; Name?: string; Driver?: string; RW?: boolean }[];
}

const MODES: [string, NamespaceKind][] = [
  ['NetworkMode', 'network'],
  ['PidMode', 'pid'],
  ['IpcMode', 'ipc'],
  ['UTSMode', 'uts'],
  ['UsernsMode', 'userns'],
  ['CgroupnsMode', 'cgroupns'],
];
const DEVICE_KEYS = ['Devices', 'DeviceCgroupRules', 'DeviceRequests'];
const CONTAINER_REF = new RegExp(CONTAINER_REF_PATTERN);
const VOLUME_NAME = new RegExp(NAME_PATTERN);

/** How deep `container:` and VolumesFrom chains are followed. */
const MAX_DEPTH = 4;

interface Walk {
  ctx: RuleContext;
  lookup: EngineLookup;
  depth: number;
  /** Containers already checked in this walk (by ID): a cycle ends. */
  seen: Set<string>;
  /** The body is what the engine is asked to create (false: a container as it is now). */
  request: boolean;
}

/** A POST /containers/create body. */
export async function checkCreateBody(body: unknown, ctx: RuleContext, lookup: EngineLookup): Promise<void> {
  if (!isObj(body)) return;
  // A network named at create is joined as well as NetworkMode: 'host' there is the host's namespace too.
  const networking = field(body, 'NetworkingConfig', 'the create body');
  const endpoints = field(networking, 'EndpointsConfig', 'NetworkingConfig');
  const w: Walk = { ctx, lookup, depth: 0, seen: new Set(), request: true };
  if (isObj(endpoints))
    for (const net of Object.keys(endpoints)) {
      const arg = `NetworkingConfig.EndpointsConfig.${net}`;
      checkNamespaceMode('network', net, arg, ctx);
      await checkNamedNetwork(net, arg, w);
      await checkLinks(field(endpoints[net], 'Links', arg), `${arg}.Links`, w);
    }
  await checkHostConfig(field(body, 'HostConfig', 'the create body'), 'HostConfig', w);
}

/** A POST /containers/{id}/update body: resources, of which devices reach the host. */
export function checkUpdateBody(body: unknown, ctx: RuleContext): void {
  for (const k of DEVICE_KEYS) checkDevices(field(body, k, 'the update body'), k, ctx);
}

/** A container as it is now: refused when it breaks the policy, whoever created it. */
export async function checkContainerNow(
  info: ContainerInfo,
  ctx: RuleContext,
  lookup: EngineLookup,
  walk?: Walk,
): Promise<void> {
  const w: Walk = walk ?? { ctx, lookup, depth: 0, seen: new Set(), request: false };
  const id = info.Id ?? info.Name ?? '';
  if (w.seen.has(id)) return;
  w.seen.add(id);
  const label = `container '${(info.Name ?? id.slice(0, 12)).replace(/^\//, '')}'`;
  await checkHostConfig(info.HostConfig, `${label} HostConfig`, { ...w, request: false });
  for (const [i, m] of list(info.Mounts).entries()) {
    if (!isObj(m)) continue;
    const arg = `${label} Mounts[${i}]`;
    if (m.Type === 'bind' && typeof m.Source === 'string') ctx.hostPath(m.Source, `${arg}.Source`);
    if (m.Type === 'volume' && typeof m.Name === 'string' && (!m.Driver || m.Driver === 'local'))
      await checkNamedVolume(m.Name, arg, w);
  }
}

async function checkHostConfig(hc: unknown, at: string, w: Walk): Promise<void> {
  if (!isObj(hc)) return;
  const { ctx } = w;
  const f = (key: string) => field(hc, key, at);
  checkPrivileged(f('Privileged'), `${at}.Privileged`, ctx);
  checkCapAdd(list(f('CapAdd')), `${at}.CapAdd`, ctx);
  const caps = f('Capabilities');
  if (caps != null) checkCapAdd(list(caps), `${at}.Capabilities`, ctx);
  // Namespaces before security_opt: the engine adds label=disable by itself for a host PID or IPC
  // namespace, and the refusal should name what the caller (or the container's creator) asked for.
  for (const [key, kind] of MODES) {
    // cgroup v1 engines report 'host' for every container: a create may not ask for it, a container may have it.
    if (kind === 'cgroupns' && !w.request) continue;
    const joined = checkNamespaceMode(kind, f(key), `${at}.${key}`, ctx);
    if (joined) await checkJoined(joined, `${at}.${key}`, w);
  }
  await checkNamedNetwork(f('NetworkMode'), `${at}.NetworkMode`, w);
  checkSecurityOpt(list(f('SecurityOpt')), `${at}.SecurityOpt`, ctx);
  // Asked for at create only: as a container is now, both are the engine's own (Podman names its runtime 'oci').
  if (w.request) checkRuntimeAndCgroup({ runtime: f('Runtime'), cgroupParent: f('CgroupParent') }, at, ctx);
  for (const k of DEVICE_KEYS) checkDevices(f(k), `${at}.${k}`, ctx);
  // An empty list unmasks /proc and /sys paths (what systempaths=unconfined sends).
  for (const k of ['MaskedPaths', 'ReadonlyPaths']) {
    const paths = f(k);
    if (Array.isArray(paths) && (w.request || paths.length === 0))
      refuseEscape(ctx, `${at}.${k}: unmasking system paths is refused: it exposes host kernel interfaces`);
  }
  if (w.request) await checkLinks(f('Links'), `${at}.Links`, w);
  for (const [i, entry] of list(f('VolumesFrom')).entries())
    if (typeof entry === 'string')
      await checkJoined(entry.replace(/:(?:ro|rw)$/, ''), `${at}.VolumesFrom[${i}]`, w);
  for (const [i, entry] of list(f('Binds')).entries()) {
    const src = bindSource(entry);
    if (src !== undefined) ctx.hostPath(src, `${at}.Binds[${i}]`);
    else if (w.request) {
      const name = bindVolumeName(entry);
      if (name) await checkNamedVolume(name, `${at}.Binds[${i}]`, w);
    }
  }
  for (const [i, m] of list(f('Mounts')).entries()) await checkMount(m, `${at}.Mounts[${i}]`, w);
}

/** One HostConfig.Mounts entry: a bind's source, a local volume's options, or a type that is refused. */
async function checkMount(m: unknown, arg: string, w: Walk): Promise<void> {
  if (!isObj(m)) return;
  const { ctx } = w;
  const rawType = field(m, 'Type', arg);
  const type = typeof rawType === 'string' ? rawType.toLowerCase() : 'volume';
  const source = field(m, 'Source', arg);
  if ((type === 'bind' || type === 'npipe') && typeof source === 'string')
    ctx.hostPath(source, `${arg}.Source`);
  else if (type === 'volume') {
    checkMountDriver(m, arg, ctx);
    if (w.request && typeof source === 'string' && source) await checkNamedVolume(source, arg, w);
  } else if (type !== 'tmpfs' && type !== 'image' && type !== 'cluster')
    refuseEscape(ctx, `${arg}.Type: mount type '${type}' is refused`);
}

/** `container:NAME` or VolumesFrom: allowed only if that container passes the policy as it is now. */
async function checkJoined(ref: string, arg: string, w: Walk): Promise<void> {
  // The lookup puts it into a request path, where '../' would find another container.
  if (!CONTAINER_REF.test(ref))
    throw new ToolError('invalid_argument', `${arg}: '${ref}' is not a container name or ID`, {
      hint: 'Name the container: letters, digits and _ . - (first a letter or digit).',
    });
  if (w.depth >= MAX_DEPTH)
    refuseEscape(w.ctx, `${arg}: '${ref}' joins containers ${MAX_DEPTH} deep; refused`);
  // '/name' is a name to the engine (what the ambiguity refusal offers); a lookup path takes it bare.
  const info = await w.lookup.container(containerRef(ref));
  if (!info) return; // the engine refuses a missing one itself
  if (w.request) await checkUnambiguous(ref, info, arg, w);
  try {
    await checkContainerNow(info, w.ctx, w.lookup, { ...w, depth: w.depth + 1 });
  } catch (e) {
    if (!(e instanceof ToolError)) throw e;
    throw reword(e, (m) => `${arg}: joining '${ref}' is refused: ${m}`);
  }
}

/**
 * A reference in a request the engine resolves itself, name first: refused, as a tool's reference is,
 * when it names one container and starts another's ID (a container named after a short ID we showed).
 */
async function checkUnambiguous(ref: string, info: ContainerInfo, arg: string, w: Walk): Promise<void> {
  if (!mayBeIdPrefix(ref) || !info.Id || info.Id.startsWith(ref)) return;
  const refused = ambiguousContainer(ref, { Id: info.Id }, await w.lookup.idsStarting(ref), arg);
  if (refused) throw refused;
}

/** HostConfig.Links and an endpoint's Links (`name:alias`): each linked container, unambiguous. */
async function checkLinks(links: unknown, at: string, w: Walk): Promise<void> {
  for (const [i, entry] of list(links).entries()) {
    if (typeof entry !== 'string') continue;
    const ref = entry.split(':')[0] ?? '';
    if (!mayBeIdPrefix(ref)) continue;
    const info = await w.lookup.container(ref);
    if (info) await checkUnambiguous(ref, info, `${at}[${i}]`, w);
  }
}

/** A named volume of the local driver: its options as they are now (a bind volume's device). */
async function checkNamedVolume(name: string, arg: string, w: Walk): Promise<void> {
  if (!VOLUME_NAME.test(name))
    throw new ToolError('invalid_argument', `${arg}: '${name}' is not a volume name`, {
      hint: 'Name the volume: letters, digits and _ . - (first a letter or digit).',
    });
  const v = await w.lookup.volume(name);
  if (!v || (v.Driver && v.Driver !== 'local')) return;
  checkDriverOpts(v.Options ?? undefined, `${arg} (volume '${name}' options)`, w.ctx);
}
