/**
 * Containers as people read them: the compact list row, the inspect summary, and the "must be
 * running" precondition. Shared by tools, prompts and resources; knows nothing of MCP.
 */
import { noFTL } from 'bun:jsc';
import type Dockerode from 'dockerode';
import { ToolError } from '../core/errors.ts';
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

/** An inspected container's state, image, command, ports, mounts, networks and limits, compactly. */
export function inspectSummary(info: Dockerode.ContainerInspectInfo) {
  const s = info.State;
  const hc = info.HostConfig;
  const ports = Object.entries(info.NetworkSettings?.Ports ?? {}).flatMap(([port, binds]) =>
    binds?.length ? binds.map((b) => `${b.HostIp ? `${b.HostIp}:` : ''}${b.HostPort}->${port}`) : [port],
  );
  return {
    id: shortId(info.Id),
    name: nameOf(info),
    image: info.Config.Image,
    state: s.Status,
    ...(s.Status === 'exited' && { exit_code: s.ExitCode }),
    ...(s.Error && { error: s.Error }),
    ...(s.Health?.Status && { health: s.Health.Status }),
    ...(s.OOMKilled && { oom_killed: true }),
    restart_count: info.RestartCount,
    created: info.Created,
    started_at: s.StartedAt,
    ...(s.Status !== 'running' && { finished_at: s.FinishedAt }),
    command: [...(info.Config.Entrypoint ?? []), ...(info.Config.Cmd ?? [])].join(' '),
    ...(info.Config.WorkingDir && { working_dir: info.Config.WorkingDir }),
    env: info.Config.Env ?? [],
    ...(Object.keys(info.Config.Labels ?? {}).length > 0 && { labels: info.Config.Labels }),
    ...(ports.length > 0 && { ports }),
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
