/**
 * A Swarm service spec from the arguments a caller gives (what `docker service create` takes, in the
 * tools' names), merged onto an existing spec for an update in place, and the compact row a service
 * list shows. Pure: no engine, no MCP. Durations are seconds here and nanoseconds in the spec.
 */
import { ToolError } from '../../core/errors.ts';
import { bytes, type FieldName, nanoCpus, secondsNs } from '../spec-values.ts';

export interface PortArg {
  target: number;
  published?: number;
  protocol?: 'tcp' | 'udp' | 'sctp';
  /** 'ingress' (default): the routing mesh, every node; 'host': the node running the task. */
  mode?: 'ingress' | 'host';
}

export interface UpdatePolicyArg {
  parallelism?: number;
  /** Seconds between batches. */
  delay?: number;
  failure_action?: 'pause' | 'continue' | 'rollback';
  /** Seconds to watch each task after it starts. */
  monitor?: number;
  max_failure_ratio?: number;
  order?: 'stop-first' | 'start-first';
}

export interface ServiceArgs {
  name?: string;
  image?: string;
  /** The command (ContainerSpec.Args, as docker service create's trailing arguments). */
  command?: string[];
  /** Replaces the image's entrypoint (ContainerSpec.Command). */
  entrypoint?: string[];
  env?: Record<string, string>;
  labels?: Record<string, string>;
  /** Labels of the tasks' containers. */
  container_labels?: Record<string, string>;
  mode?: ServiceMode;
  replicas?: number;
  /** "source:target[:ro]": an absolute source is a bind, a name a volume; "tmpfs:target" a tmpfs. */
  mounts?: string[];
  /** '8080:80', '53:53/udp', or 'mode=host,published=80,target=80,protocol=tcp'. */
  ports?: (PortArg | string)[];
  networks?: string[];
  constraints?: string[];
  /** CPUs (e.g. 0.5) and memory in bytes. */
  limit_cpus?: number;
  limit_memory?: number;
  restart_condition?: 'none' | 'on-failure' | 'any';
  restart_max_attempts?: number;
  update_config?: UpdatePolicyArg;
  rollback_config?: UpdatePolicyArg;
  user?: string;
  workdir?: string;
  cap_add?: string[];
  cap_drop?: string[];
  read_only?: boolean;
  init?: boolean;
  stop_grace_period?: number;
}

type Obj = Record<string, unknown>;

/** The Engine API ServiceSpec (the parts this file writes; an existing spec keeps every other key). */
export interface ServiceSpec {
  Name?: string;
  Labels?: Record<string, string>;
  TaskTemplate?: Obj & {
    ContainerSpec?: Obj;
    Resources?: Obj;
    RestartPolicy?: Obj;
    Placement?: Obj;
    Networks?: { Target: string; Aliases?: string[] }[];
    ForceUpdate?: number;
  };
  Mode?: {
    Replicated?: { Replicas?: number };
    Global?: Obj;
    ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number };
    GlobalJob?: Obj;
  } & Obj;
  UpdateConfig?: Obj;
  RollbackConfig?: Obj;
  EndpointSpec?: { Mode?: string; Ports?: Obj[] };
  [k: string]: unknown;
}

const envList = (env: Record<string, string>) => Object.entries(env).map(([k, v]) => `${k}=${v}`);

/** One mount string as an Engine API Mount. */
export function parseMount(m: string, at: string): Obj {
  const parts = m.split(':');
  const [source = '', target, mode] = parts;
  if (!target || parts.length > 3 || (mode !== undefined && mode !== 'ro' && mode !== 'rw'))
    throw new ToolError('invalid_argument', `${at}: '${m}' is not source:target[:ro]`, {
      hint: 'e.g. "data:/var/lib/data", "/srv/site:/usr/share/site:ro" or "tmpfs:/tmp".',
    });
  const readOnly = mode === 'ro';
  if (source === 'tmpfs') return { Type: 'tmpfs', Target: target, ReadOnly: readOnly };
  const bind = source.startsWith('/') || source.startsWith('~') || source.startsWith('.');
  return { Type: bind ? 'bind' : 'volume', Source: source, Target: target, ReadOnly: readOnly };
}

/** Errors here name the argument as it is ("limit_cpus: ..."). */
const plain: FieldName = (key) => key;

function updatePolicy(p: UpdatePolicyArg, key: string, base: Obj = {}): Obj {
  return {
    ...base,
    ...(p.parallelism !== undefined && { Parallelism: p.parallelism }),
    ...(p.delay !== undefined && { Delay: secondsNs(p.delay, `${key}.delay`, plain) }),
    ...(p.failure_action !== undefined && { FailureAction: p.failure_action }),
    ...(p.monitor !== undefined && { Monitor: secondsNs(p.monitor, `${key}.monitor`, plain) }),
    ...(p.max_failure_ratio !== undefined && { MaxFailureRatio: p.max_failure_ratio }),
    ...(p.order !== undefined && { Order: p.order }),
  };
}

const PORT_SHORT = /^(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp|sctp))?$/;
const PORT_KEYS = new Set(['mode', 'published', 'target', 'protocol']);

/** A port string as a PortArg: the short form (ingress) or docker's long key=value form. */
export function parsePort(p: string, at: string): PortArg {
  const bad = () =>
    new ToolError('invalid_argument', `${at}: '${p}' is not a port`, {
      hint: 'e.g. "8080:80", "53:53/udp" or "mode=host,published=80,target=80".',
    });
  const short = PORT_SHORT.exec(p.trim());
  if (short) {
    const [, published, target, protocol] = short;
    return {
      target: Number(target),
      ...(published && { published: Number(published) }),
      ...(protocol && { protocol: protocol as PortArg['protocol'] }),
    };
  }
  const kv = Object.fromEntries(p.split(',').map((pair) => pair.split('=').map((x) => x.trim())));
  if (!Object.keys(kv).every((k) => PORT_KEYS.has(k)) || !/^\d+$/.test(kv.target ?? '')) throw bad();
  if (kv.published !== undefined && !/^\d+$/.test(kv.published)) throw bad();
  if (kv.mode !== undefined && kv.mode !== 'host' && kv.mode !== 'ingress') throw bad();
  if (kv.protocol !== undefined && !['tcp', 'udp', 'sctp'].includes(kv.protocol)) throw bad();
  return {
    target: Number(kv.target),
    ...(kv.published !== undefined && { published: Number(kv.published) }),
    ...(kv.protocol && { protocol: kv.protocol as PortArg['protocol'] }),
    ...(kv.mode && { mode: kv.mode as PortArg['mode'] }),
  };
}

const port = (p: PortArg): Obj => ({
  TargetPort: p.target,
  ...(p.published !== undefined && { PublishedPort: p.published }),
  Protocol: p.protocol ?? 'tcp',
  PublishMode: p.mode ?? 'ingress',
});

/**
 * The spec for a create (`base` undefined) or an update in place: each argument given replaces its
 * part of `base`, every part not given is kept as it is (so an update sends the whole current spec,
 * as the engine requires). `labels` of `base` that the caller did not name are kept too.
 */
export function serviceSpec(a: ServiceArgs, base?: ServiceSpec): ServiceSpec {
  const spec: ServiceSpec = structuredClone(base ?? {});
  if (!base) {
    if (!a.name) throw new ToolError('invalid_argument', 'name: a new service needs a name');
    if (!a.image) throw new ToolError('invalid_argument', 'image: a new service needs an image');
  }
  if (a.name !== undefined && !base) spec.Name = a.name;
  if (a.labels !== undefined) spec.Labels = { ...a.labels };
  spec.TaskTemplate ??= {};
  const task = spec.TaskTemplate;
  task.ContainerSpec ??= {};
  const c = task.ContainerSpec;
  if (a.image !== undefined) c.Image = a.image;
  if (a.command !== undefined) c.Args = a.command;
  if (a.entrypoint !== undefined) c.Command = a.entrypoint;
  if (a.env !== undefined) c.Env = envList(a.env);
  if (a.container_labels !== undefined) c.Labels = { ...a.container_labels };
  if (a.mounts !== undefined) c.Mounts = a.mounts.map((m, i) => parseMount(m, `mounts[${i}]`));
  if (a.user !== undefined) c.User = a.user;
  if (a.workdir !== undefined) c.Dir = a.workdir;
  if (a.cap_add !== undefined) c.CapabilityAdd = a.cap_add;
  if (a.cap_drop !== undefined) c.CapabilityDrop = a.cap_drop;
  if (a.read_only !== undefined) c.ReadOnly = a.read_only;
  if (a.init !== undefined) c.Init = a.init;
  if (a.stop_grace_period !== undefined)
    c.StopGracePeriod = secondsNs(a.stop_grace_period, 'stop_grace_period', plain);
  if (a.networks !== undefined) task.Networks = a.networks.map((n) => ({ Target: n }));
  if (a.constraints !== undefined) task.Placement = { ...(task.Placement ?? {}), Constraints: a.constraints };
  if (a.limit_cpus !== undefined || a.limit_memory !== undefined) {
    task.Resources ??= {};
    const res = task.Resources;
    const limits = { ...((res.Limits as Obj | undefined) ?? {}) };
    if (a.limit_cpus !== undefined) limits.NanoCPUs = nanoCpus(a.limit_cpus, 'limit_cpus', plain);
    if (a.limit_memory !== undefined) limits.MemoryBytes = bytes(a.limit_memory, 'limit_memory', plain);
    res.Limits = limits;
  }
  if (a.restart_condition !== undefined || a.restart_max_attempts !== undefined)
    task.RestartPolicy = {
      ...(task.RestartPolicy ?? {}),
      ...(a.restart_condition !== undefined && { Condition: a.restart_condition }),
      ...(a.restart_max_attempts !== undefined && { MaxAttempts: a.restart_max_attempts }),
    };
  spec.Mode = modeSpec(a, base);
  const mode = modeOf(spec);
  if ((mode === 'replicated-job' || mode === 'global-job') && (a.update_config || a.rollback_config))
    throw new ToolError(
      'invalid_argument',
      `${a.update_config ? 'update_config' : 'rollback_config'}: a job has no rolling update or rollback (a change runs the job again)`,
      { hint: 'Leave update_config and rollback_config out for a job.' },
    );
  if (a.update_config !== undefined)
    spec.UpdateConfig = updatePolicy(a.update_config, 'update_config', spec.UpdateConfig);
  if (a.rollback_config !== undefined)
    spec.RollbackConfig = updatePolicy(a.rollback_config, 'rollback_config', spec.RollbackConfig);
  if (a.ports !== undefined)
    spec.EndpointSpec = {
      ...(spec.EndpointSpec ?? {}),
      Ports: a.ports.map((p, i) => port(typeof p === 'string' ? parsePort(p, `ports[${i}]`) : p)),
    };
  return spec;
}

export const replicasOf = (spec: ServiceSpec | undefined): number | undefined =>
  spec?.Mode?.Replicated?.Replicas;

/**
 * The Mode of a new service (as `docker service create --mode --replicas`: a replicated job runs
 * `replicas` completions, as many at once), or of an update: the engine never changes a service's
 * mode, and a job's completions change with docker_service_scale (as `docker service update` refuses
 * --replicas for a job).
 */
function modeSpec(a: ServiceArgs, base: ServiceSpec | undefined): ServiceSpec['Mode'] {
  const was = base && modeOf(base);
  const mode = a.mode ?? was ?? 'replicated';
  if (was && mode !== was)
    throw new ToolError(
      'invalid_argument',
      `mode: this service is ${was}, and a service's mode cannot change`,
      {
        hint: `Leave mode out; to run it as ${mode}, remove it (docker_service_remove) and create it again.`,
      },
    );
  if (a.replicas !== undefined && (mode === 'global' || mode === 'global-job'))
    throw new ToolError('invalid_argument', `replicas: a ${mode} service runs one task per node`, {
      hint: `Leave replicas out, or use mode ${mode === 'global' ? 'replicated' : 'replicated-job'}.`,
    });
  if (was === 'replicated-job' && a.replicas !== undefined)
    throw new ToolError('invalid_argument', 'replicas: this service is a replicated job', {
      hint: 'Set its completions with docker_service_scale (the job then runs again).',
    });
  if (was && (mode !== 'replicated' || a.replicas === undefined)) return structuredClone(base?.Mode);
  if (mode === 'global') return { Global: {} };
  if (mode === 'global-job') return { GlobalJob: {} };
  if (mode === 'replicated-job')
    return {
      ReplicatedJob:
        a.replicas === undefined ? {} : { MaxConcurrent: a.replicas, TotalCompletions: a.replicas },
    };
  return { Replicated: { Replicas: a.replicas ?? replicasOf(base) ?? 1 } };
}

/** The parts of a service document (GET /services, /services/{id}) rows and checks read. */
export interface ServiceDoc {
  ID: string;
  Version?: { Index: number };
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  Endpoint?: {
    Ports?: { TargetPort?: number; PublishedPort?: number; Protocol?: string; PublishMode?: string }[];
  };
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string; CompletedAt?: string };
  ServiceStatus?: { RunningTasks?: number; DesiredTasks?: number; CompletedTasks?: number };
  /** Jobs only: each change of the spec starts a new run (iteration) of the job. */
  JobStatus?: { JobIteration?: { Index?: number }; LastExecution?: string };
}

/** A port as `docker service ls` prints it: '*:8080->80/tcp' (ingress), '8080->80/tcp (host)'. */
export const servicePortText = (p: NonNullable<NonNullable<ServiceDoc['Endpoint']>['Ports']>[number]) =>
  `${p.PublishMode === 'host' ? '' : '*:'}${p.PublishedPort ?? ''}->${p.TargetPort}/${p.Protocol ?? 'tcp'}${p.PublishMode === 'host' ? ' (host)' : ''}`;

/** The image without its pinned digest, as `docker service ls` shows it. */
export const imageOf = (spec: ServiceSpec): string =>
  String(spec.TaskTemplate?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, '');

/** A service's mode by the names `docker service create --mode` and Compose's deploy.mode use. */
export type ServiceMode = 'replicated' | 'global' | 'replicated-job' | 'global-job';

export function modeOf(spec: ServiceSpec | undefined): ServiceMode {
  const m = spec?.Mode;
  if (m?.Global) return 'global';
  if (m?.ReplicatedJob) return 'replicated-job';
  if (m?.GlobalJob) return 'global-job';
  return 'replicated';
}

/** The completions a replicated job runs to: TotalCompletions, which the engine defaults to MaxConcurrent (1). */
export const completionsOf = (spec: ServiceSpec | undefined): number | undefined => {
  const job = spec?.Mode?.ReplicatedJob;
  return job && (job.TotalCompletions ?? job.MaxConcurrent ?? 1);
};

export interface ServiceRow {
  id: string;
  name: string;
  image: string;
  mode: ServiceMode;
  /**
   * As `docker service ls`: running/desired ('3/3'); a job adds its completed tasks against the
   * completions it runs to ('0/1 (2/3 completed)'; a global job: one per node it started on).
   */
  replicas: string;
  ports?: string[];
  /** The last update's state (updating, paused, completed, rollback_started, rollback_completed…). */
  update?: string;
}

/** The REPLICAS column of `docker service ls`, from ServiceStatus (the list's status=true). */
export function replicasText(s: ServiceDoc): string {
  const mode = modeOf(s.Spec);
  const running = s.ServiceStatus?.RunningTasks ?? 0;
  const desired = s.ServiceStatus?.DesiredTasks ?? (mode === 'replicated' ? (replicasOf(s.Spec) ?? 0) : 0);
  const completed = s.ServiceStatus?.CompletedTasks ?? 0;
  if (mode === 'replicated-job')
    return `${running}/${desired} (${completed}/${completionsOf(s.Spec)} completed)`;
  // The tasks a global job still wants and those it completed add up to the nodes it runs on.
  if (mode === 'global-job') return `${running}/${desired} (${completed}/${desired + completed} completed)`;
  return `${running}/${desired}`;
}

/** The compact row of a service (ServiceStatus needs the list's status=true). */
export function serviceRow(s: ServiceDoc): ServiceRow {
  const ports = (s.Endpoint?.Ports ?? []).map(servicePortText);
  return {
    id: s.ID.slice(0, 12),
    name: s.Spec.Name ?? '',
    image: imageOf(s.Spec),
    mode: modeOf(s.Spec),
    replicas: replicasText(s),
    ...(ports.length > 0 && { ports }),
    ...(s.UpdateStatus?.State && { update: s.UpdateStatus.State }),
  };
}
