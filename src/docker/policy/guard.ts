/**
 * The policy at the engine boundary: one engine's guard (request.ts's EngineGuard) checks the request
 * the engine will receive, whatever tool or argument made it — container create and update, exec,
 * volume create, a network connect, build (its network mode, remote context and Dockerfile: build.ts) — and, at the moment of use (start, restart, unpause, exec, attach with stdin,
 * copying files to or from it, a restart policy given by update), the target container as it is now. Reads the call's policy (scope.ts) and the engine's
 * facts (its data root, exec root, sockets). On an engine that does not share this server's filesystem,
 * the bind sources and bind-volume devices it judges below an allowlist entry are then asked of the
 * engine's host (probe.ts), where realpath would have resolved them on a sharing one.
 */
import type { EngineFacts } from '../../core/engine.ts';
import type { EngineCall, EngineGuard, GuardIO, GuardVerdict } from '../request.ts';
import { idFilter, type ListedId } from '../resolve.ts';
import { type AddressField, engineBridges, ipamFields } from './addresses.ts';
import { checkBuildSources } from './build.ts';
import {
  type ContainerInfo,
  checkContainerNow,
  checkCreateBody,
  checkUpdateBody,
  type EngineLookup,
} from './container.ts';
import { field, isObj } from './keys.ts';
import {
  checkNesting,
  containerMounts,
  type ListedContainer,
  type ListedVolume,
  mountLookup,
  othersMounts,
  requestMounts,
} from './nesting.ts';
import { PathProbes, type ProbedEngine } from './probe.ts';
import {
  checkDriverOpts,
  checkJoinedNetwork,
  checkNamespaceMode,
  checkNetworkCreate,
  type NetworkFacts,
  type RuleContext,
  refuseEscape,
} from './rules.ts';
import { currentPolicy, pathPolicyOf, ruleContextOf } from './scope.ts';
import { checkServiceSpec, type ServiceLookup } from './service.ts';

const CONTAINER_ACTION = /^\/containers\/([^/]+)\/(start|restart|unpause|exec|attach|update|archive)$/;
const EXEC_START = /^\/exec\/([^/]+)\/start$/;
const ARCHIVE = /^\/containers\/[^/]+\/archive$/;
const SERVICE = /^\/services\/(?:create|([^/]+)\/update)$/;
const CONNECT = /^\/networks\/([^/]+)\/connect$/;
/** A plugin runs with the host privileges it asks for. */
const PLUGIN = /^\/plugins\/(?:pull|create|[^/]+\/(?:upgrade|enable|set))$/;

const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 'true';
const seg = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** Whether the request can change what a container may reach; every other request passes untouched. */
function relevant(call: EngineCall): boolean {
  // Reading a stopped container's files makes the engine mount its binds, resolving them now.
  if (call.method === 'GET' || call.method === 'HEAD') return ARCHIVE.test(call.path);
  if (call.method === 'DELETE') return false;
  return (
    call.path === '/containers/create' ||
    call.path === '/volumes/create' ||
    call.path === '/networks/create' ||
    CONNECT.test(call.path) ||
    call.path === '/build' ||
    SERVICE.test(call.path) ||
    PLUGIN.test(call.path) ||
    CONTAINER_ACTION.test(call.path) ||
    EXEC_START.test(call.path)
  );
}

/**
 * The guard of one engine: `facts` gives its facts with the data root fetched, `known` those known
 * without asking (used when the engine does not answer /info; the default data root is refused anyway).
 * `engine` says which it is: its name, for a refusal, and whether it is Podman (probe.ts).
 */
export function policyGuard(
  facts: (signal?: AbortSignal) => Promise<EngineFacts>,
  known: () => EngineFacts,
  engine: () => ProbedEngine = () => ({ name: 'default' }),
): EngineGuard {
  const current = () => facts().catch(() => known());
  return (call, io) => (relevant(call) ? check(call, io, current, engine()) : undefined);
}

async function check(
  call: EngineCall,
  io: GuardIO,
  facts: () => Promise<EngineFacts>,
  engine: ProbedEngine,
): Promise<GuardVerdict> {
  const scope = currentPolicy();
  const engineFacts = await facts();
  const rule = pathPolicyOf(scope, engineFacts);
  const ctx: RuleContext = ruleContextOf(scope, rule);
  // Host paths the engine resolves on a host this server cannot see: noted as judged, then asked of it.
  const probes = rule.shares ? undefined : new PathProbes(rule);
  const judged = probes ? probes.watch(ctx) : ctx;
  const probe = (image?: string) => probes?.run(io, { engine, images: [image] });
  const lookup: EngineLookup = {
    container: (ref) => io.get<ContainerInfo>(`/containers/${encodeURIComponent(ref)}/json`),
    volume: (name) => io.get(`/volumes/${encodeURIComponent(name)}`),
    network: (ref) => io.get<NetworkFacts>(`/networks/${encodeURIComponent(ref)}`),
    idsStarting: (prefix) => io.get<ListedId[]>('/containers/json', idFilter(prefix)),
  };
  const mounts = mountLookup({
    volumes: () => io.get<{ Volumes?: ListedVolume[] }>('/volumes').then((r) => r?.Volumes),
    containers: () => io.get<ListedContainer[]>('/containers/json', { all: true }),
  });
  // The container as it is now, judged; its ID, which the request is then sent to. An exec or an
  // attach mounts nothing, but a container started elsewhere may already hold a bind through a link
  // (`x -> /etc`): these calls would reach it, so its paths below an entry are asked here too, as a
  // sharing engine's are resolved with realpath. Its cost, a probe container per call: docs/SECURITY.md.
  const target = async (ref: string): Promise<string | undefined> => {
    const info = await lookup.container(ref);
    // As the engine would answer: a container made under the name after this look could not be judged.
    if (!info) throw noSuchContainer(ref);
    await checkContainerNow(info, judged, lookup);
    const label = `container '${(info.Name ?? ref).replace(/^\//, '')}'`;
    const own = await containerMounts(info.Mounts, (i) => `${label} Mounts[${i}]`, false, ctx, mounts);
    if (own.length) checkNesting(own, await othersMounts((c) => c.Id === info.Id, ctx, mounts));
    await probe(info.Image);
    return info.Id;
  };
  const byId = async (ref: string, action: string): Promise<GuardVerdict> => {
    const id = await target(ref);
    return id && id !== ref ? { path: `/containers/${id}/${action}` } : undefined;
  };

  if (call.path === '/containers/create') {
    await checkCreateBody(call.body, judged, lookup);
    const hc = field(call.body, 'HostConfig', 'the create body');
    const own = await requestMounts(hc, 'HostConfig', ctx, mounts);
    if (own.length) checkNesting(own, await othersMounts(() => false, ctx, mounts));
    const image = field(call.body, 'Image', 'the create body');
    await probe(typeof image === 'string' ? image : undefined);
    return;
  }
  if (call.path === '/volumes/create') {
    const driver = field(call.body, 'Driver', 'the volume create body');
    if (!driver || driver === 'local')
      checkDriverOpts(field(call.body, 'DriverOpts', 'the volume create body'), 'DriverOpts', judged);
    await probe();
    return;
  }
  if (call.path === '/networks/create') {
    const body = 'the network create body';
    const driver = field(call.body, 'Driver', body);
    // The engine's own bridges, read once and only when a network names addresses: their routes are
    // the engine's to judge, another engine's on this host are not (unreadable: none are skipped).
    let bridges: Promise<Set<string>> | undefined;
    const own = (addresses: readonly AddressField[]) => {
      if (!addresses.some((f) => f.value !== undefined && f.value !== null && f.value !== '')) return;
      bridges ??= io.get('/networks').then(engineBridges, () => new Set<string>());
      return bridges;
    };
    const addresses = ipamAddresses(field(call.body, 'IPAM', body), 'IPAM', field);
    checkNetworkCreate(
      { driver, options: field(call.body, 'Options', body), addresses, engineBridges: await own(addresses) },
      { driver: 'Driver', options: 'Options' },
      ctx,
    );
    // A network made from a config-only one takes that network's options and addresses.
    const from = field(field(call.body, 'ConfigFrom', body), 'Network', `${body} ConfigFrom`);
    if (typeof from === 'string' && from) {
      const cfg = await io.get<{ Options?: unknown; IPAM?: unknown }>(
        `/networks/${encodeURIComponent(from)}`,
      );
      const at = `ConfigFrom network '${from}'`;
      const its = ipamAddresses(cfg?.IPAM, `${at} IPAM`, (o, k) => (isObj(o) ? o[k] : undefined));
      checkNetworkCreate(
        { driver, options: cfg?.Options, addresses: its, engineBridges: await own(its) },
        { driver: 'Driver', options: `${at} Options` },
        ctx,
      );
    }
    return;
  }
  const connect = CONNECT.exec(call.path);
  if (connect) {
    // A container joins the network the engine finds under this name or ID: judged, then sent by ID.
    const ref = seg(connect[1] as string);
    const net = await io.get<NetworkFacts>(`/networks/${encodeURIComponent(ref)}`);
    checkJoinedNetwork(ref, net, `/networks/${ref}/connect`, ctx);
    return net?.Id && net.Id !== ref ? { path: `/networks/${net.Id}/connect` } : undefined;
  }
  if (call.path === '/build') {
    // RUN steps in the host's network namespace.
    checkNamespaceMode('network', call.query.networkmode, 'networkmode', ctx);
    // A remote context or ADD <url>: fetched by the engine itself, from the host's network.
    checkBuildSources(call, ctx);
    return;
  }
  const service = SERVICE.exec(call.path);
  if (service) {
    const services: ServiceLookup = {
      volume: lookup.volume,
      network: (ref) => io.get<NetworkFacts>(`/networks/${encodeURIComponent(ref)}`),
    };
    // Its host paths are on whichever node runs a task: judged as on an engine elsewhere.
    const onNodes = ruleContextOf(scope, () => pathPolicyOf(scope, engineFacts, true));
    await checkServiceSpec(call.body, onNodes, services);
    // A rollback runs the previous spec, whatever the body says: check the spec that will run.
    if (service[1] && call.query.rollback === 'previous') {
      const now = await io.get<{ PreviousSpec?: unknown }>(`/services/${service[1]}`);
      await checkServiceSpec(now?.PreviousSpec, onNodes, services);
    }
    return;
  }
  if (PLUGIN.test(call.path)) {
    refuseEscape(
      ctx,
      `${call.path}: installing or enabling engine plugins is refused: a plugin runs with host privileges`,
    );
    return;
  }
  const exec = EXEC_START.exec(call.path);
  if (exec) {
    const info = await io.get<{ ContainerID?: string; ProcessConfig?: { privileged?: boolean } }>(
      `/exec/${exec[1]}/json`,
    );
    if (info?.ProcessConfig?.privileged)
      refuseEscape(
        ctx,
        `/exec/${exec[1]}: starting a privileged exec is refused: it has every capability on the host`,
      );
    if (info?.ContainerID) await target(info.ContainerID);
    return;
  }
  const m = CONTAINER_ACTION.exec(call.path);
  if (!m) return;
  const [, rawRef = '', action] = m;
  const ref = seg(rawRef);
  if (action === 'update') {
    checkUpdateBody(call.body, ctx);
    // A restart policy lets the engine start the container later without asking: it must pass now.
    const policy = field(field(call.body, 'RestartPolicy', 'the update body'), 'Name', 'RestartPolicy');
    if (typeof policy === 'string' && policy !== '' && policy !== 'no') return byId(ref, action);
    return;
  }
  if (action === 'exec' && truthy(field(call.body, 'Privileged', 'the exec create body')))
    refuseEscape(ctx, 'Privileged: a privileged exec is refused: it has every capability on the host');
  if (action === 'attach' && !truthy(call.query.stdin)) return;
  return byId(ref, action as string);
}

/** The address fields of an Engine API IPAM object (`IPAM.Config[i].Subnet`…), read with `read`. */
const ipamAddresses = (ipam: unknown, at: string, read: (o: unknown, key: string, at: string) => unknown) =>
  ipamFields(
    read(ipam, 'Config', at),
    `${at}.Config`,
    { subnet: 'Subnet', ipRange: 'IPRange', gateway: 'Gateway', aux: 'AuxiliaryAddresses' },
    read,
  );

/** The engine's own 404 for a missing container, mapped as the engine's is (errors.ts). */
const noSuchContainer = (ref: string) =>
  Object.assign(new Error(`No such container: ${ref}`), {
    statusCode: 404,
    json: { message: `No such container: ${ref}` },
  });
