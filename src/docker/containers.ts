/**
 * Containers as people read them: the compact list row, the inspect summary, and the "must be
 * running" precondition. Shared by tools, prompts and resources; knows nothing of MCP.
 */
import { noFTL } from 'bun:jsc';
import type Dockerode from 'dockerode';
import { ToolError } from '../core/errors.ts';
import { redact } from '../core/redact.ts';
import { listedName, nameOf, shortId } from './names.ts';

interface EnginePort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export const portText = (p: EnginePort) =>
  p.PublicPort
    ? `${p.IP ?? ''}${p.IP ? ':' : ''}${p.PublicPort}->${p.PrivatePort}/${p.Type}`
    : `${p.PrivatePort}/${p.Type}`;

/** The engine lists a port once per address family; each mapping is shown once, in the engine's order. */
function portsOf(listed: EnginePort[] | undefined): string[] {
  const out: string[] = [];
  if (!listed?.length) return out;
  const seen = new Set<string>();
  for (const p of listed) {
    const text = portText(p).replace(/^::?:/, '');
    if (!seen.has(text)) {
      seen.add(text);
      out.push(text);
    }
  }
  return out;
}

/** One listed container in a compact row: the fields people read, nothing empty. */
export function containerRow(c: {
  Id: string;
  Names?: string[];
  Image: string;
  State: string;
  Status: string;
  Ports?: EnginePort[];
}) {
  const ports = portsOf(c.Ports);
  return {
    id: shortId(c.Id),
    name: listedName(c),
    image: c.Image.startsWith('sha256:') ? shortId(c.Image) : c.Image,
    state: c.State,
    status: c.Status,
    ...(ports.length > 0 && { ports }),
  };
}

// A list shapes its rows with these, dozens a call: after a few hundred lists JSC's top tier (FTL)
// compiled them, a compile whose memory set the session's peak RSS (+2 MiB) for no gain on a call
// that waits on the engine. They stay on the tier below (bench/changes.md, ninth pass).
noFTL(containerRow);
noFTL(portsOf);

/** Characters a shell reads as part of a word: an argument of only these needs no quotes. */
const PLAIN_ARG = /^[\w@%+=:,./-]+$/;
/** What a shell still reads inside double quotes. */
const DOUBLE_QUOTED = /["$`\\!]/;

/** One argument as a shell reads it back: bare, 'quoted', "quoted" when it holds a ', or 'escaped'. */
function shellWord(arg: string): string {
  if (PLAIN_ARG.test(arg)) return arg;
  if (!arg.includes("'")) return `'${arg}'`;
  if (!DOUBLE_QUOTED.test(arg)) return `"${arg}"`;
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}

/**
 * An argv as one shell line, as `docker ps` shows a command: an argument a shell would split or
 * expand is quoted, so `sh -c 'echo a; exit 3'` does not read as two commands.
 */
export function commandLine(argv: readonly string[]): string {
  let line = '';
  for (const arg of argv) line += line ? ` ${shellWord(arg)}` : shellWord(arg);
  return line;
}

type EngineState = Dockerode.ContainerInspectInfo['State'];

/**
 * The code of the container's last exit, where the engine keeps one: exited and dead, and restarting
 * (between two runs of a crash loop). A running or created container's ExitCode is a reset 0.
 */
export const lastExitCode = (s: EngineState): number | undefined =>
  s.Status === 'exited' || s.Status === 'dead' || s.Status === 'restarting' ? s.ExitCode : undefined;

/**
 * The health-check status while the container runs, as `docker ps` shows it. A stopped container
 * keeps its last status (a clean stop leaves "unhealthy"), which reads as a failing service.
 */
export const liveHealth = (s: EngineState): string | undefined =>
  s.Status === 'running' ? s.Health?.Status || undefined : undefined;

/** The engine's "never": a container never started or never stopped has this as its time. */
const isSet = (time: string | undefined): time is string => !!time && !time.startsWith('0001-');

type PortMap = Record<string, { HostIp?: string; HostPort?: string }[] | null | undefined>;

const bindingText = (port: string, b: { HostIp?: string; HostPort?: string }) =>
  `${b.HostIp ? `${b.HostIp}:` : ''}${b.HostPort ?? ''}->${port}`;

/** The host addresses a running container's ports are published on, as the engine assigned them. */
export function publishedPorts(info: Dockerode.ContainerInspectInfo): string[] {
  const out: string[] = [];
  for (const [port, binds] of Object.entries((info.NetworkSettings?.Ports ?? {}) as PortMap))
    for (const b of binds ?? []) out.push(bindingText(port, b));
  return out;
}

/**
 * The ports a container asked for at create (HostConfig.PortBindings), in the `ports` argument's
 * shape: what it publishes when it starts. An empty host port means any free port.
 */
export function configuredPorts(
  info: Dockerode.ContainerInspectInfo,
): Record<string, string | null> | undefined {
  const entries = Object.entries((info.HostConfig.PortBindings ?? {}) as PortMap);
  if (entries.length === 0) return undefined;
  const out: Record<string, string | null> = {};
  for (const [port, binds] of entries) {
    const { HostIp: ip = '', HostPort: hostPort = '' } = binds?.[0] ?? {};
    const address = ip.includes(':') ? `[${ip}]` : ip;
    out[port] = ip || hostPort ? `${address}${ip ? ':' : ''}${hostPort}` : null;
  }
  return out;
}

/** An inspected container's state, image, command, ports, mounts, networks and limits, compactly. */
export function inspectSummary(info: Dockerode.ContainerInspectInfo) {
  const s = info.State;
  const hc = info.HostConfig;
  // Live ports while it runs. A stopped container has none (Podman keeps the last ones): what it
  // publishes when started is in its config, shown apart as the `ports` argument takes it.
  const ports = s.Running
    ? Object.entries((info.NetworkSettings?.Ports ?? {}) as PortMap).flatMap(([port, binds]) =>
        binds?.length ? binds.map((b) => bindingText(port, b)) : [port],
      )
    : [];
  const configured = ports.length === 0 ? configuredPorts(info) : undefined;
  const exitCode = lastExitCode(s);
  const health = liveHealth(s);
  return {
    id: shortId(info.Id),
    name: nameOf(info),
    image: info.Config.Image,
    state: s.Status,
    ...(exitCode !== undefined && { exit_code: exitCode }),
    ...(s.Error && { error: s.Error }),
    ...(health && { health }),
    ...(s.OOMKilled && { oom_killed: true }),
    restart_count: info.RestartCount,
    created: info.Created,
    ...(isSet(s.StartedAt) && { started_at: s.StartedAt }),
    ...(!s.Running && isSet(s.FinishedAt) && { finished_at: s.FinishedAt }),
    // Masked as a list before it is joined: in `sh -c SCRIPT` a secret's value ends with its shell
    // word, which the joined line (the script now one quoted word) no longer shows.
    command: commandLine(redact([...(info.Config.Entrypoint ?? []), ...(info.Config.Cmd ?? [])])),
    ...(info.Config.WorkingDir && { working_dir: info.Config.WorkingDir }),
    env: info.Config.Env ?? [],
    ...(Object.keys(info.Config.Labels ?? {}).length > 0 && { labels: info.Config.Labels }),
    ...(ports.length > 0 && { ports }),
    ...(configured && { configured_ports: configured }),
    mounts: (info.Mounts ?? []).map((m) => `${m.Name ?? m.Source}:${m.Destination}${m.RW ? '' : ':ro'}`),
    networks: Object.keys(info.NetworkSettings?.Networks ?? {}),
    restart_policy: hc.RestartPolicy?.Name || 'no',
    ...(hc.Memory ? { memory_limit: hc.Memory } : {}),
    ...(hc.NanoCpus ? { cpus: hc.NanoCpus / 1e9 } : {}),
    ...(hc.Privileged && { privileged: true }),
  };
}

/**
 * Refuses (conflict) a container that is not running: `what` ("stats") names what needs it running,
 * `then` what to do after starting it. A paused container is running (its processes frozen): the
 * engine samples its stats and lists its processes as the docker CLI shows them (Podman reports it
 * not Running, but paused).
 */
export function requireRunning(info: Dockerode.ContainerInspectInfo, what: string, then = 'retry'): void {
  if (info.State.Running || info.State.Paused) return;
  throw new ToolError(
    'conflict',
    `container '${nameOf(info)}' is ${info.State.Status}: ${what} need it running`,
    { hint: `Start it with docker_start_container, then ${then}.` },
  );
}

/**
 * An engine that refuses to look into a paused container (Podman's top does): a conflict naming the
 * state, with the way out. Anything else is rethrown as it is.
 */
export function pausedRefusal(info: Dockerode.ContainerInspectInfo, what: string, e: unknown): never {
  if (!info.State.Paused) throw e;
  throw new ToolError(
    'conflict',
    `container '${nameOf(info)}' is paused: this engine cannot read ${what} of a paused container`,
    {
      hint: 'Unpause it with docker_unpause_container, then retry.',
    },
  );
}
