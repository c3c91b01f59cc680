/**
 * The networks and named volumes a project's services use, made for `up` when missing (side by
 * side: each is one inspect and perhaps one create), labelled as Docker Compose labels them.
 */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import { statusOf } from '../errors.ts';
import type { Project } from './load.ts';
import type { Obj } from './normalise.ts';
import type { Step } from './project.ts';
import { COMPOSE_VERSION, L, resourceName, serviceNetworks, serviceVolumes } from './spec.ts';

export interface ResourceCall {
  /** The call's own: a cancel or timeout stops the requests in flight. */
  signal: AbortSignal;
  /**
   * Set when another step of the call failed: no create starts after it, but one already sent
   * finishes (and is reported), so no network or volume lands after the answer.
   */
  stop: AbortSignal;
  step: (s: Step) => void;
  /** What is being done, for an answer that stops in the middle ('' when done). */
  doing: (key: string, what: string) => void;
}

function resourceKeys(p: Project, services: string[]) {
  const netKeys = new Set(services.flatMap((s) => Object.keys(serviceNetworks(p.services[s] as Obj))));
  const volKeys = new Set(services.flatMap((s) => serviceVolumes(p.services[s] as Obj)));
  return { netKeys, volKeys };
}

/** The objects `ensureResources` may make, in the project's order (networks, then volumes), for its report. */
export function resourceObjects(p: Project, services: string[]): string[] {
  const { netKeys, volKeys } = resourceKeys(p, services);
  return [
    ...[...netKeys].map((k) => `network ${resourceName(p.name, k, p.networks[k])}`),
    ...[...volKeys].map((k) => `volume ${resourceName(p.name, k, p.volumes[k])}`),
  ];
}

/** Every network and named volume the services use, made when missing; the first failure is thrown. */
export async function ensureResources(
  docker: Dockerode,
  p: Project,
  services: string[],
  c: ResourceCall,
): Promise<void> {
  const { netKeys, volKeys } = resourceKeys(p, services);
  const settled = await Promise.allSettled([
    ...[...netKeys].map((k) => ensureNetwork(docker, p, k, c)),
    ...[...volKeys].map((k) => ensureVolume(docker, p, k, c)),
  ]);
  const failure = settled.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failure) throw failure.reason;
}

async function ensureNetwork(docker: Dockerode, p: Project, key: string, c: ResourceCall): Promise<void> {
  const { signal } = c;
  const def = p.networks[key] ?? {};
  const name = resourceName(p.name, key, def);
  if (
    await present(
      docker.getNetwork(name).inspect({ abortSignal: signal } as never) as unknown as Promise<unknown>,
    )
  )
    return;
  if (def.external)
    throw new ToolError('not_found', `external network "${name}" does not exist`, {
      hint: 'Create it first.',
    });
  c.stop.throwIfAborted();
  c.doing(`network ${name}`, `creating network ${name} (it may exist)`);
  try {
    await docker.createNetwork({
      Name: name,
      // Engines before API 1.44 allow two networks of one name, and a container then cannot join either.
      CheckDuplicate: true,
      Driver: (def.driver as string | undefined) ?? 'bridge',
      Internal: def.internal === true,
      Attachable: def.attachable === true,
      ...(def.driver_opts !== undefined && { Options: def.driver_opts as Record<string, string> }),
      ...networkAddressing(def),
      Labels: labelsOf(def, p, L.network, key),
      abortSignal: signal,
    } as Dockerode.NetworkCreateOptions);
  } catch (e) {
    // Made meanwhile (by another call, or a create this project's last call sent as it stopped).
    if (statusOf(e) !== 409) throw e;
    c.doing(`network ${name}`, '');
    return;
  }
  c.doing(`network ${name}`, '');
  c.step({ object: `network ${name}`, action: 'created' });
}

/**
 * A Compose network's `ipam` and `enable_ipv6` as the Engine API's network create fields, as Docker
 * Compose maps them (the engine-boundary guard judges the addresses).
 */
export function networkAddressing(def: Obj): { IPAM?: Obj; EnableIPv6?: boolean } {
  const ipam = def.ipam as Obj | undefined;
  const config = Array.isArray(ipam?.config) ? (ipam.config as Obj[]) : [];
  return {
    ...(ipam && {
      IPAM: {
        Driver: (ipam.driver as string | undefined) ?? 'default',
        Config: config.map((c) => ({
          ...(c.subnet !== undefined && { Subnet: c.subnet }),
          ...(c.ip_range !== undefined && { IPRange: c.ip_range }),
          ...(c.gateway !== undefined && { Gateway: c.gateway }),
          ...(c.aux_addresses !== undefined && { AuxiliaryAddresses: c.aux_addresses }),
        })),
        ...(ipam.options !== undefined && { Options: ipam.options }),
      },
    }),
    ...(def.enable_ipv6 !== undefined && { EnableIPv6: def.enable_ipv6 === true }),
  };
}

async function ensureVolume(docker: Dockerode, p: Project, key: string, c: ResourceCall): Promise<void> {
  const { signal } = c;
  const def = p.volumes[key] ?? {};
  const name = resourceName(p.name, key, def);
  if (await present(docker.getVolume(name).inspect({ abortSignal: signal }))) return;
  if (def.external)
    throw new ToolError('not_found', `external volume "${name}" does not exist`, {
      hint: 'Create it first.',
    });
  c.stop.throwIfAborted();
  c.doing(`volume ${name}`, `creating volume ${name} (it may exist)`);
  await docker.createVolume({
    Name: name,
    Driver: (def.driver as string | undefined) ?? 'local',
    ...(def.driver_opts !== undefined && { DriverOpts: def.driver_opts as Record<string, string> }),
    Labels: labelsOf(def, p, L.volume, key),
    abortSignal: signal,
  } as never);
  c.doing(`volume ${name}`, '');
  c.step({ object: `volume ${name}`, action: 'created' });
}

/** A network's or volume's labels as Docker Compose sets them: its own, then the project's and its key. */
const labelsOf = (def: Obj, p: Project, keyLabel: string, key: string): Record<string, string> => ({
  ...(def.labels as Record<string, string> | undefined),
  [L.project]: p.name,
  [keyLabel]: key,
  [L.version]: COMPOSE_VERSION,
});

/**
 * Whether the object an inspect asks for exists: only the engine's 404 says no. Any other failure (the
 * call stopped, the engine lost) is thrown, so nothing is made on a guess.
 */
async function present(inspect: Promise<unknown>): Promise<boolean> {
  try {
    await inspect;
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    throw e;
  }
}
