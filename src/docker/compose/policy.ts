/**
 * A Compose project against the engine's safety policy, before anything is made: every service's
 * create body passes the same check as docker_create_container. A refusal names the service and
 * the Compose key; `projectRefusals` keeps checking after one, so a project's every refusal is
 * listed at once (config reports them, up refuses with all of them). On an engine that does not
 * share this server's filesystem, up also asks the engine's host about its host paths below an
 * allowlist entry (policy/probe.ts), as the guard will at each create; config, a read, does not.
 */
import type Dockerode from 'dockerode';
import type { EngineFacts } from '../../core/engine.ts';
import { reword, ToolError } from '../../core/errors.ts';
import { createRequest } from '../container-spec.ts';
import { composeIpam, engineBridges } from '../policy/addresses.ts';
import { checkCreateBody, type EngineLookup } from '../policy/container.ts';
import {
  checkNesting,
  type HostMount,
  type ListedContainer,
  type ListedVolume,
  mountLookup,
  othersMounts,
  requestMounts,
} from '../policy/nesting.ts';
import { PathProbes, type ProbedEngine } from '../policy/probe.ts';
import {
  checkDriverOpts,
  checkJoinedNetwork,
  checkNetworkCreate,
  type NetworkFacts,
} from '../policy/rules.ts';
import { currentPolicy, pathPolicyOf, ruleContextOf } from '../policy/scope.ts';
import { requestIO } from '../request.ts';
import type { Project } from './load.ts';
import type { Obj } from './normalise.ts';
import { L, resourceName, serviceNetworks, serviceSpec, serviceVolumes } from './spec.ts';

/** Compose keys for the create-body fields the policy names, so a refusal points at the file. */
const KEY_OF: [RegExp, string][] = [
  [/Privileged/, 'privileged'],
  [/CapAdd|Capabilities/, 'cap_add'],
  [/SecurityOpt/, 'security_opt'],
  [/DeviceRequests/, 'deploy.resources.reservations.devices'],
  [/Devices|DeviceCgroupRules/, 'devices'],
  [/NetworkMode/, 'network_mode'],
  [/EndpointsConfig/, 'networks'],
  [/PidMode/, 'pid'],
  [/IpcMode/, 'ipc'],
  [/UTSMode/, 'uts'],
  [/UsernsMode/, 'userns_mode'],
  [/CgroupnsMode/, 'cgroup'],
  [/Binds|Mounts/, 'volumes'],
  [/VolumesFrom/, 'volumes_from'],
  [/Sysctls/, 'sysctls'],
  [/Runtime/, 'runtime'],
  [/CgroupParent/, 'cgroup_parent'],
];

/** A value the policy always allows, put where a refused array entry was (indices stay as the body's). */
const NEUTRAL: Record<string, unknown> = { CapAdd: 'CHOWN', SecurityOpt: 'no-new-privileges=true' };

/**
 * The body without what a refusal named (`HostConfig.Field[i]…`), so the next check finds the next
 * refusal; undefined when the message names nothing that can be taken out.
 */
function without(body: Record<string, unknown>, message: string): Record<string, unknown> | undefined {
  const m = /^HostConfig\.(\w+)(?:\[(\d+)\])?/.exec(message);
  const hc = body.HostConfig as Record<string, unknown> | undefined;
  if (!m || !hc || !((m[1] as string) in hc)) return undefined;
  const field = m[1] as string;
  const value = hc[field];
  const next = { ...hc };
  if (m[2] !== undefined && Array.isArray(value) && Number(m[2]) < value.length) {
    const copy = [...value];
    copy[Number(m[2])] = NEUTRAL[field] ?? null;
    next[field] = copy;
  } else delete next[field];
  return { ...body, HostConfig: next };
}

/** A refusal's text about `arg` prefixed with the service and the Compose key it names. */
function inService(s: string, text: string, arg = text): string {
  // The field the refusal starts with (a joined container's own fields may follow it).
  const head = arg.split(': ')[0] ?? '';
  const key = (KEY_OF.find(([re]) => re.test(head)) ?? KEY_OF.find(([re]) => re.test(arg)))?.[1];
  return `service "${s}"${key ? ` (key ${key})` : ''}: ${text}`;
}

/**
 * Every refusal of each service (up to `max` per service), keyed by service, in order. `probes`
 * notes the host paths to ask the engine's host about (each named by service and key).
 */
export async function projectRefusals(
  docker: Dockerode,
  facts: EngineFacts,
  p: Project,
  services: string[],
  max = 10,
  probes?: PathProbes,
): Promise<Record<string, ToolError[]>> {
  const scope = currentPolicy();
  const plain = ruleContextOf(scope, pathPolicyOf(scope, facts));
  const inspected = new Map<string, Promise<unknown>>();
  const lookup: EngineLookup = {
    container: (ref) =>
      docker
        .getContainer(ref)
        .inspect()
        .catch(() => undefined) as never,
    idsStarting: (prefix) =>
      docker.listContainers({ all: true, filters: { id: [prefix] } }).catch(() => undefined),
    // Asked once per volume: services that share a volume each check it.
    volume: (name) => {
      let v = inspected.get(name);
      if (!v) {
        v = docker
          .getVolume(name)
          .inspect()
          .catch(() => undefined);
        inspected.set(name, v);
      }
      return v as never;
    },
  };
  // Asked once per network name: the networks a service joins after create (by name or ID).
  const networks = new Map<string, Promise<NetworkFacts | undefined>>();
  const network = (name: string) => {
    let n = networks.get(name);
    if (!n) {
      n = docker
        .getNetwork(name)
        .inspect()
        .catch(() => undefined) as Promise<NetworkFacts | undefined>;
      networks.set(name, n);
    }
    return n;
  };
  // The engine's own bridges, read once when a network names addresses (unreadable: none are skipped).
  let bridges: Promise<Set<string>> | undefined;
  const ownBridges = () => {
    bridges ??= docker.listNetworks().then(engineBridges, () => new Set<string>());
    return bridges;
  };
  const mounts = mountLookup({
    volumes: () =>
      docker
        .listVolumes()
        .then((r) => r.Volumes as ListedVolume[])
        .catch(() => undefined),
    containers: () =>
      docker.listContainers({ all: true }).catch(() => undefined) as Promise<ListedContainer[]>,
  });
  const bodies = Object.fromEntries(
    services.map((s) => [s, createRequest(serviceSpec(p, s, 1)).body as Record<string, unknown>]),
  );
  // Each service's host mounts, as another service of the project sees them once it is made.
  const ownMounts = async (s: string) => {
    try {
      return await requestMounts(bodies[s]?.HostConfig, 'HostConfig', plain, mounts);
    } catch {
      return []; // what makes them unreadable is that service's own refusal
    }
  };
  const byService: Record<string, HostMount[]> = Object.fromEntries(
    await Promise.all(services.map(async (s) => [s, await ownMounts(s)] as const)),
  );
  const out: Record<string, ToolError[]> = {};
  for (const s of services) {
    let body: Record<string, unknown> | undefined = bodies[s];
    const found: ToolError[] = [];
    const refused = (e: unknown) => {
      if (!(e instanceof ToolError)) throw e;
      found.push(reword(e, (m) => inService(s, m, e.message)));
    };
    const ctx = probes ? probes.watch(plain, (arg) => inService(s, arg)) : plain;
    while (body && found.length < max) {
      try {
        await checkCreateBody(body, ctx, lookup);
        break;
      } catch (e) {
        refused(e);
        body = without(body, e instanceof Error ? e.message : '');
      }
    }
    const svc = (p.services[s] ?? {}) as Obj;
    // The networks after the first, which up connects once the container is made (the create body
    // names only the first): none may be the host's, by any name, wherever it is in the list.
    for (const [i, key] of Object.keys(serviceNetworks(svc)).entries()) {
      const def = p.networks[key];
      // Only a network named by the file (external, or `name:`) may be one the project does not make.
      if (!def?.external && typeof def?.name !== 'string') continue;
      const name = resourceName(p.name, key, def);
      if (i === 0 && name.toLowerCase() === 'host') continue; // the create body's own refusal
      try {
        checkJoinedNetwork(name, await network(name), `networks.${key}`, ctx);
      } catch (e) {
        refused(e);
      }
    }
    // What up makes for the service before any container: its networks and volumes.
    for (const key of Object.keys(serviceNetworks(svc))) {
      const def = p.networks[key];
      if (!def || def.external) continue;
      const addresses = composeIpam(def, key);
      const named = addresses.some((f) => f.value !== undefined && f.value !== null && f.value !== '');
      const own = named ? await ownBridges() : undefined;
      try {
        checkNetworkCreate(
          { driver: def.driver, options: def.driver_opts, addresses, engineBridges: own },
          { driver: `network "${key}" driver`, options: `network "${key}" driver_opts` },
          ctx,
        );
      } catch (e) {
        refused(e);
      }
    }
    for (const key of serviceVolumes(svc)) {
      const def = p.volumes[key];
      if (!def || def.external || (def.driver !== undefined && def.driver !== 'local')) continue;
      try {
        checkDriverOpts(def.driver_opts, `volume "${key}" driver_opts`, ctx);
      } catch (e) {
        refused(e);
      }
    }
    const own = byService[s] ?? [];
    if (!found.length && own.length) {
      const project = Object.entries(byService)
        .filter(([t]) => t !== s)
        .flatMap(([t, ms]) => ms.map((m) => ({ ...m, by: `service "${t}"`, other: true })));
      try {
        // The project's containers of these services are made anew or match their service's mounts.
        const replaced = (c: ListedContainer) =>
          c.Labels?.[L.project] === p.name && services.includes(c.Labels?.[L.service] ?? '');
        checkNesting(own, [...project, ...(await othersMounts(replaced, plain, mounts))]);
      } catch (e) {
        refused(e);
      }
    }
    if (found.length) out[s] = found;
  }
  return out;
}

/**
 * Refuses the project, naming every refusal, when the policy refuses any service; then, on an
 * engine that does not share this server's filesystem, when its host has a symbolic link where a
 * host path below an allowlist entry passes. `engine` names the engine in that refusal.
 */
export async function checkProject(
  docker: Dockerode,
  facts: EngineFacts,
  p: Project,
  services: string[],
  o: { engine?: ProbedEngine; signal?: AbortSignal } = {},
): Promise<void> {
  const rule = pathPolicyOf(currentPolicy(), facts);
  const probes = rule.shares ? undefined : new PathProbes(rule);
  const all = Object.values(await projectRefusals(docker, facts, p, services, 10, probes)).flat();
  const first = all[0];
  if (!first) {
    // Through the client's own requests: the guard judges the probe's container as any other.
    const images = services
      .map((s) => p.services[s]?.image)
      .map((i) => (typeof i === 'string' ? i : undefined));
    await probes?.run(requestIO(docker, o.signal), { engine: o.engine ?? { name: 'default' }, images });
    return;
  }
  const joined = (words: { message: string; hint?: string }[]) => ({
    message: words.map((w) => w.message).join('; '),
    hint: [...new Set(words.map((w) => w.hint).filter(Boolean))].join(' '),
  });
  const { message, hint } = joined(all);
  throw new ToolError(first.kind, message, {
    hint,
    retryable: first.retryable,
    ...(all.some((e) => e.remote) && { remote: joined(all.map((e) => e.remote ?? e)) }),
  });
}
