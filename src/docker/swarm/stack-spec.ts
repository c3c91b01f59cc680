/**
 * A Compose service as a swarm ServiceSpec, the way `docker stack deploy` converts it: names
 * `<stack>_<name>`, the `com.docker.stack.namespace` label on every object, the service name as its
 * network alias, secrets and configs as file references, `deploy:` as mode, resources, restart,
 * update, rollback and placement. Keys a swarm service cannot honour are listed, not silently
 * dropped. Pure: the IDs of secrets and configs come from the caller.
 */
import { ToolError } from '../../core/errors.ts';
import type { Project } from '../compose/load.ts';
import type { Obj } from '../compose/normalise.ts';
import { resourceName } from '../compose/spec.ts';
import { durationNs } from '../container-options.ts';
import { bytes, engineCount, MAX_PIDS, nanoCpus, shellSplit } from '../spec-values.ts';

export const NAMESPACE = 'com.docker.stack.namespace';
export const STACK_IMAGE = 'com.docker.stack.image';

/** Service keys a stack honours; any other key present is reported as ignored, as the CLI does. */
const SUPPORTED = new Set([
  'image',
  'command',
  'entrypoint',
  'environment',
  'labels',
  'deploy',
  'ports',
  'volumes',
  'tmpfs',
  'secrets',
  'configs',
  'networks',
  'hostname',
  'working_dir',
  'user',
  'group_add',
  'stop_grace_period',
  'stop_signal',
  'tty',
  'stdin_open',
  'read_only',
  'init',
  'healthcheck',
  'extra_hosts',
  'dns',
  'dns_search',
  'dns_opt',
  'logging',
  'cap_add',
  'cap_drop',
  'sysctls',
  'ulimits',
  'restart',
  'expose',
  'profiles',
]);

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `<stack>_<key>` unless the file names the object (`name:`) or it is external. */
export const stackName = (stack: string, key: string, def: Obj | undefined): string =>
  resourceName(stack, key, def);

/** The networks a service joins, by key (its own, else `default`). */
export function stackNetworks(svc: Obj): Record<string, Obj> {
  const n = svc.networks as Record<string, Obj> | undefined;
  return n && Object.keys(n).length > 0 ? n : { default: {} };
}

export interface SpecRefs {
  /** Engine IDs of the stack's secrets and configs, by their engine name. */
  secrets: Map<string, string>;
  configs: Map<string, string>;
}

export interface ConvertedService {
  name: string;
  spec: Obj;
  /** Keys present in the file that a swarm service does not honour. */
  ignored: string[];
}

/** How a value's error names the service and key. */
const at = (service: string) => (key: string) => `service "${service}": ${key}`;

const bad = (service: string, key: string, why: string, hint: string) =>
  new ToolError('invalid_argument', `service "${service}": ${key}: ${why}`, { hint });

const cmd = (v: unknown, field: string) =>
  v === undefined || v === null ? undefined : Array.isArray(v) ? v.map(str) : shellSplit(str(v), field);

const ns = (service: string, v: unknown, key: string): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' && typeof v !== 'string')
    throw bad(service, key, 'expected a duration', 'Write e.g. 30s, 1m30s or 500ms.');
  return durationNs(v, key, at(service));
};

const drop = <T extends Obj>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

function restartPolicy(name: string, s: Obj): Obj | undefined {
  const rp = (s.deploy as Obj | undefined)?.restart_policy as Obj | undefined;
  if (rp)
    return drop({
      Condition: rp.condition === undefined ? undefined : str(rp.condition),
      Delay: ns(name, rp.delay, 'deploy.restart_policy.delay'),
      MaxAttempts: rp.max_attempts === undefined ? undefined : Number(rp.max_attempts),
      Window: ns(name, rp.window, 'deploy.restart_policy.window'),
    });
  if (s.restart === undefined) return undefined;
  const [policy = 'no', max] = str(s.restart).split(':');
  const Condition = policy === 'no' ? 'none' : policy === 'on-failure' ? 'on-failure' : 'any';
  return drop({ Condition, MaxAttempts: max === undefined ? undefined : Number(max) });
}

function updatePolicy(name: string, u: Obj | undefined, key: string): Obj | undefined {
  if (!u) return undefined;
  return drop({
    Parallelism: u.parallelism === undefined ? undefined : Number(u.parallelism),
    Delay: ns(name, u.delay, `${key}.delay`),
    FailureAction: u.failure_action === undefined ? undefined : str(u.failure_action),
    Monitor: ns(name, u.monitor, `${key}.monitor`),
    MaxFailureRatio: u.max_failure_ratio === undefined ? undefined : Number(u.max_failure_ratio),
    Order: u.order === undefined ? undefined : str(u.order),
  });
}

function mode(name: string, deploy: Obj): Obj {
  const m = str(deploy.mode || 'replicated');
  const replicas = deploy.replicas === undefined ? undefined : Number(deploy.replicas);
  if ((m === 'global' || m === 'global-job') && replicas !== undefined)
    throw bad(
      name,
      'deploy.replicas',
      `a ${m} service runs one task per node`,
      'Leave replicas out, or use replicated.',
    );
  if (m === 'global') return { Global: {} };
  if (m === 'replicated') return { Replicated: drop({ Replicas: replicas }) };
  if (m === 'global-job') return { GlobalJob: {} };
  // As docker stack deploy: the job runs `replicas` completions, all at once.
  if (m === 'replicated-job')
    return { ReplicatedJob: drop({ MaxConcurrent: replicas, TotalCompletions: replicas }) };
  throw bad(
    name,
    'deploy.mode',
    `unknown mode "${m}"`,
    'Use replicated, global, replicated-job or global-job.',
  );
}

function mounts(p: Project, stack: string, name: string, s: Obj): Obj[] {
  const out: Obj[] = ((s.volumes as Obj[] | undefined) ?? []).map((v) => {
    const type = str(v.type);
    const base = drop({
      Type: type,
      Target: str(v.target),
      ReadOnly: v.read_only === true ? true : undefined,
    });
    if (type === 'bind') return { ...base, Source: str(v.source) };
    if (type === 'tmpfs') {
      const t = v.tmpfs as Obj | undefined;
      return {
        ...base,
        TmpfsOptions: drop({
          SizeBytes: bytes(t?.size as string, 'volumes.tmpfs.size', at(name)),
          Mode: t?.mode,
        }),
      };
    }
    if (type !== 'volume')
      throw bad(
        name,
        'volumes',
        `mount type "${type}" is not supported by a swarm service`,
        'Use bind, volume or tmpfs.',
      );
    if (!v.source) return base;
    const key = str(v.source);
    const def = p.volumes[key];
    return {
      ...base,
      Source: stackName(stack, key, def),
      VolumeOptions: drop({
        NoCopy: isObj(v.volume) && v.volume.nocopy === true ? true : undefined,
        Labels: { ...(def?.labels as Record<string, string> | undefined), [NAMESPACE]: stack },
        DriverConfig:
          def?.driver !== undefined || def?.driver_opts !== undefined
            ? drop({ Name: def?.driver as string | undefined, Options: def?.driver_opts as Obj | undefined })
            : undefined,
      }),
    };
  });
  for (const t of (s.tmpfs as string[] | undefined) ?? [])
    out.push({ Type: 'tmpfs', Target: t.split(':')[0] });
  return out;
}

function fileRefs(
  p: Project,
  stack: string,
  name: string,
  s: Obj,
  kind: 'secrets' | 'configs',
  ids: Map<string, string>,
): Obj[] {
  return ((s[kind] as Obj[] | undefined) ?? []).map((ref) => {
    const key = str(ref.source);
    const def = p[kind][key];
    if (!def)
      throw bad(
        name,
        kind,
        `"${key}" is not declared at the top level`,
        `Declare it under ${kind}: in the file.`,
      );
    const engineName = stackName(stack, key, def);
    const id = ids.get(engineName);
    if (!id) throw new ToolError('internal', `${kind} "${engineName}" was not created before its service`);
    const target = str(ref.target) || key;
    return {
      File: {
        Name: target,
        UID: str(ref.uid ?? '0'),
        GID: str(ref.gid ?? '0'),
        Mode: ref.mode === undefined ? 0o444 : Number(ref.mode),
      },
      [kind === 'secrets' ? 'SecretID' : 'ConfigID']: id,
      [kind === 'secrets' ? 'SecretName' : 'ConfigName']: engineName,
    };
  });
}

function ports(name: string, s: Obj): Obj[] {
  return ((s.ports as Obj[] | undefined) ?? []).map((pt) => {
    const target = Number(pt.target);
    const published = pt.published === undefined ? undefined : Number(pt.published);
    if (!Number.isInteger(target) || (published !== undefined && !Number.isInteger(published)))
      throw bad(
        name,
        'ports',
        `port ranges are not supported by stacks (${str(pt.target)})`,
        'List each port.',
      );
    return drop({
      Protocol: str(pt.protocol || 'tcp'),
      TargetPort: target,
      PublishedPort: published,
      PublishMode: str(pt.mode || 'ingress'),
    });
  });
}

/** The ServiceSpec `docker stack deploy` would send for `service` of `p` deployed as `stack`. */
export function convertService(p: Project, stack: string, service: string, refs: SpecRefs): ConvertedService {
  const s = p.services[service] as Obj;
  if (!s.image)
    throw bad(service, 'image', 'a stack service needs an image', 'Name an image; stacks do not build.');
  const deploy = (s.deploy as Obj | undefined) ?? {};
  const res = (deploy.resources as Obj | undefined) ?? {};
  const lim = (res.limits as Obj | undefined) ?? {};
  const rsv = (res.reservations as Obj | undefined) ?? {};
  const env = s.environment as Record<string, string | null> | undefined;
  const health = s.healthcheck as Obj | undefined;
  const place = (deploy.placement as Obj | undefined) ?? {};
  const logging = s.logging as Obj | undefined;
  const networks = Object.entries(stackNetworks(s)).map(([key, def]) => ({
    Target: stackName(stack, key, p.networks[key]),
    Aliases: [service, ...((def?.aliases as string[] | undefined) ?? [])],
  }));
  const image = str(s.image);
  const limits = drop({
    NanoCPUs:
      lim.cpus === undefined
        ? undefined
        : nanoCpus(Number(lim.cpus), 'deploy.resources.limits.cpus', at(service)),
    MemoryBytes: bytes(lim.memory as string | undefined, 'deploy.resources.limits.memory', at(service)),
    Pids:
      lim.pids === undefined
        ? undefined
        : engineCount(lim.pids, 'deploy.resources.limits.pids', MAX_PIDS, at(service)),
  });
  const reservations = drop({
    NanoCPUs:
      rsv.cpus === undefined
        ? undefined
        : nanoCpus(Number(rsv.cpus), 'deploy.resources.reservations.cpus', at(service)),
    MemoryBytes: bytes(rsv.memory as string | undefined, 'deploy.resources.reservations.memory', at(service)),
    GenericResources: genericResources(rsv.generic_resources),
  });
  const containerSpec = drop({
    Image: image,
    Labels: { ...(s.labels as Record<string, string> | undefined), [NAMESPACE]: stack },
    Command: cmd(s.entrypoint, 'entrypoint'),
    Args: cmd(s.command, 'command'),
    Hostname: s.hostname === undefined ? undefined : str(s.hostname),
    Env: env && Object.entries(env).map(([k, v]) => (v === null ? k : `${k}=${v}`)),
    Dir: s.working_dir === undefined ? undefined : str(s.working_dir),
    User: s.user === undefined ? undefined : str(s.user),
    Groups: (s.group_add as unknown[] | undefined)?.map(str),
    TTY: s.tty as boolean | undefined,
    OpenStdin: s.stdin_open as boolean | undefined,
    ReadOnly: s.read_only as boolean | undefined,
    Init: s.init as boolean | undefined,
    Mounts: mounts(p, stack, service, s),
    StopSignal: s.stop_signal === undefined ? undefined : str(s.stop_signal),
    StopGracePeriod: ns(service, s.stop_grace_period, 'stop_grace_period'),
    Healthcheck: health && {
      Test: health.disable === true ? ['NONE'] : health.test,
      ...drop({
        Interval: ns(service, health.interval, 'healthcheck.interval'),
        Timeout: ns(service, health.timeout, 'healthcheck.timeout'),
        Retries: health.retries === undefined ? undefined : Number(health.retries),
        StartPeriod: ns(service, health.start_period, 'healthcheck.start_period'),
      }),
    },
    // The engine writes "IP host" lines; Compose writes "host:IP".
    Hosts: (s.extra_hosts as string[] | undefined)?.map((h) => {
      const i = h.indexOf(':');
      return i < 0 ? h : `${h.slice(i + 1)} ${h.slice(0, i)}`;
    }),
    DNSConfig:
      s.dns || s.dns_search || s.dns_opt
        ? drop({ Nameservers: s.dns, Search: s.dns_search, Options: s.dns_opt })
        : undefined,
    Secrets: fileRefs(p, stack, service, s, 'secrets', refs.secrets),
    Configs: fileRefs(p, stack, service, s, 'configs', refs.configs),
    CapabilityAdd: s.cap_add as string[] | undefined,
    CapabilityDrop: s.cap_drop as string[] | undefined,
    Sysctls: s.sysctls as Record<string, string> | undefined,
    Ulimits: s.ulimits
      ? Object.entries(s.ulimits as Record<string, { soft: number; hard: number }>).map(([Name, u]) => ({
          Name,
          Soft: u.soft,
          Hard: u.hard,
        }))
      : undefined,
  });
  const spec = drop({
    Name: stackName(stack, service, undefined),
    Labels: {
      ...(deploy.labels as Record<string, string> | undefined),
      [NAMESPACE]: stack,
      [STACK_IMAGE]: image,
    },
    TaskTemplate: drop({
      ContainerSpec: containerSpec,
      Resources:
        Object.keys(limits).length || Object.keys(reservations).length
          ? drop({
              Limits: Object.keys(limits).length ? limits : undefined,
              Reservations: Object.keys(reservations).length ? reservations : undefined,
            })
          : undefined,
      RestartPolicy: restartPolicy(service, s),
      Placement: drop({
        Constraints: place.constraints as string[] | undefined,
        Preferences: (place.preferences as Obj[] | undefined)?.map((x) => ({
          Spread: { SpreadDescriptor: str(x.spread) },
        })),
        MaxReplicas:
          place.max_replicas_per_node === undefined ? undefined : Number(place.max_replicas_per_node),
      }),
      Networks: networks,
      LogDriver: logging?.driver
        ? drop({ Name: str(logging.driver), Options: logging.options as Obj | undefined })
        : undefined,
    }),
    Mode: mode(service, deploy),
    UpdateConfig: updatePolicy(service, deploy.update_config as Obj | undefined, 'deploy.update_config'),
    RollbackConfig: updatePolicy(
      service,
      deploy.rollback_config as Obj | undefined,
      'deploy.rollback_config',
    ),
    EndpointSpec: drop({
      Mode: deploy.endpoint_mode === undefined ? undefined : str(deploy.endpoint_mode),
      Ports: s.ports ? ports(service, s) : undefined,
    }),
  });
  const ignored = [
    ...Object.keys(s).filter((k) => !SUPPORTED.has(k) && !k.startsWith('x-')),
    ...unhonoured(s, rsv),
  ];
  return { name: spec.Name as string, spec, ignored };
}

const EVERY_INTERFACE = new Set(['0.0.0.0', '::']);

/**
 * Parts of keys a stack maps that a swarm cannot honour, with why: an address a port is published
 * on (a swarm publishes on every interface of every node) and device reservations (a swarm service
 * has none), so the file's intent is not dropped unsaid.
 */
function unhonoured(s: Obj, rsv: Obj): string[] {
  const out: string[] = [];
  for (const [i, pt] of ((s.ports as Obj[] | undefined) ?? []).entries()) {
    const ip = str(pt.host_ip);
    if (ip !== '' && !EVERY_INTERFACE.has(ip))
      out.push(`ports[${i}].host_ip ${ip} (a swarm publishes on every interface of every node)`);
  }
  if (rsv.devices !== undefined)
    out.push('deploy.resources.reservations.devices (a swarm service has no devices; see generic_resources)');
  return out;
}

/**
 * `reservations.generic_resources` as the service's Resources.Reservations.GenericResources, as
 * `docker stack deploy` maps them (the Compose Specification has discrete ones only).
 */
function genericResources(v: unknown): Obj[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  return v.flatMap((r: Obj) => {
    const d = r.discrete_resource_spec as Obj | undefined;
    return d ? [{ DiscreteResourceSpec: { Kind: str(d.kind), Value: Number(d.value) } }] : [];
  });
}
