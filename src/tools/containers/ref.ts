/** Resolving a container reference, and a not-found error that names the likely candidates. */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import { shortId } from '../params.ts';

const isNotFound = (e: unknown) => (e as { statusCode?: number }).statusCode === 404;

/** Runs `fn` on the container; a 404 becomes "not found" with close names suggested. */
export async function withContainer<T>(
  docker: Dockerode,
  ref: string,
  signal: AbortSignal,
  fn: (c: Dockerode.Container) => Promise<T>,
): Promise<T> {
  try {
    return await fn(docker.getContainer(ref));
  } catch (e) {
    // Only the engine's "No such container" means the reference is wrong; other 404s (a missing
    // file in copy, a missing exec) keep their own message.
    if (
      isNotFound(e) &&
      /no such container/i.test(String((e as { json?: { message?: string } }).json?.message))
    )
      throw await notFound(docker, ref, signal);
    throw e;
  }
}

export const inspectContainer = (docker: Dockerode, ref: string, signal: AbortSignal) =>
  withContainer(docker, ref, signal, (c) => c.inspect({ abortSignal: signal }));

async function notFound(docker: Dockerode, ref: string, signal: AbortSignal): Promise<ToolError> {
  let names: string[] = [];
  try {
    const all = await docker.listContainers({ all: true, abortSignal: signal });
    names = all.map((c) => (c.Names?.[0] ?? shortId(c.Id)).replace(/^\//, ''));
  } catch {
    // Suggestions are a courtesy; the error stands without them.
  }
  const needle = ref.toLowerCase();
  const close = names
    .filter(
      (n) =>
        n.toLowerCase().includes(needle) ||
        needle.includes(n.toLowerCase()) ||
        distance(n.toLowerCase(), needle) <= 2,
    )
    .slice(0, 5);
  const hint = close.length
    ? `Did you mean ${close.map((n) => `'${n}'`).join(', ')}? List them with docker_list_containers (all: true).`
    : 'List containers with docker_list_containers (all: true).';
  return new ToolError('not_found', `container '${ref}' not found`, { hint });
}

/** Levenshtein distance, bounded to short names (refs are names or IDs). */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

/** The state block lifecycle tools return, from an inspect document. */
export function stateOf(info: Dockerode.ContainerInspectInfo) {
  const s = info.State;
  return {
    id: shortId(info.Id),
    name: info.Name.replace(/^\//, ''),
    state: s.Status,
    ...(s.Status === 'exited' && { exit_code: s.ExitCode }),
    ...(s.Health?.Status && { health: s.Health.Status }),
  };
}
