/**
 * The newest log lines of a service, or of one of its tasks, as the engine gathers them from every
 * node; each line starts with the task it came from ('web.2@node-b '), told by the engine's details.
 */
import type Dockerode from 'dockerode';
import { type LineBudget, type LogQuery, type LogTail, tailLines } from '../logs.ts';
import { engineStream } from '../streams.ts';
import { swarmError } from './api.ts';

/** 'com.docker.swarm.node.id=N,com.docker.swarm.service.id=S,com.docker.swarm.task.id=T message'. */
const DETAILS = /^(\S*com\.docker\.swarm\.task\.id=([^,\s]+)\S*) (.*)$/s;
const NODE = /com\.docker\.swarm\.node\.id=([^,\s]+)/;

export interface LogNames {
  /** Task ID → '<service>.<slot>'. */
  tasks: Map<string, string>;
  /** Node ID → hostname. */
  nodes: Map<string, string>;
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\S+ )(.*)$/s;

/** A detailed line with its details replaced by the task's name and node (a timestamp stays first). */
export function taskLine(line: string, names: LogNames): string {
  const stamped = TIMESTAMP.exec(line);
  if (stamped && DETAILS.test(stamped[2] ?? '')) return `${stamped[1]}${taskLine(stamped[2] ?? '', names)}`;
  const m = DETAILS.exec(line);
  if (!m) return line;
  const [, details = '', task = '', text = ''] = m;
  const node = NODE.exec(details)?.[1] ?? '';
  const name = names.tasks.get(task) ?? task.slice(0, 12);
  return `${name}@${names.nodes.get(node) ?? node.slice(0, 12)} ${text}`;
}

/** Reads `/services/{id}/logs` (or `/tasks/{id}/logs` with `task`) into the newest lines within `budget`. */
export async function readServiceLogs(
  docker: Dockerode,
  target: { service: string } | { task: string },
  q: LogQuery & { tty?: boolean },
  budget: LineBudget,
  names: LogNames,
  signal: AbortSignal,
): Promise<LogTail> {
  const path =
    'task' in target
      ? `/tasks/${encodeURIComponent(target.task)}/logs`
      : `/services/${encodeURIComponent(target.service)}/logs`;
  const stream = await engineStream(
    docker,
    path,
    {
      stdout: q.stdout ?? true,
      stderr: q.stderr ?? true,
      tail: String(q.tail),
      details: true,
      ...(q.timestamps && { timestamps: true }),
      ...(q.since !== undefined && { since: q.since }),
    },
    signal,
  ).catch((e) => {
    throw swarmError(e);
  });
  const match = budget.match;
  const named: LineBudget = { ...budget, match: undefined };
  // Name the lines before matching, so a pattern can select a task or node.
  const tail = await tailLines(stream, !!q.tty, { ...named, maxLines: Number.MAX_SAFE_INTEGER }, signal);
  const lines = tail.lines.map((l) =>
    l.startsWith('[err] ') ? `[err] ${taskLine(l.slice(6), names)}` : taskLine(l, names),
  );
  const matched = match ? lines.filter(match) : lines;
  return {
    lines: matched.slice(-budget.maxLines),
    scanned: tail.scanned,
    matched: matched.length,
    cut: tail.cut,
  };
}
