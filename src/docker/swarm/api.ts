/**
 * Every Swarm request of the engine layer: the one request function, with the engine's answers that
 * mean "this engine cannot do Swarm work now" turned into errors that say so and what to do (not in a
 * swarm, a worker rather than a manager, already in a swarm), and a not-found of a service or a node
 * naming the close names. Podman's lack of Swarm is refused before the request (podman.ts).
 */
import type Dockerode from 'dockerode';
import { type ErrorKind, ToolError } from '../../core/errors.ts';
import { clean } from '../../core/fence.ts';
import { clip, engineError, engineSaid, statusOf } from '../errors.ts';
import { type EngineRequest, engineRequest } from '../request.ts';
import { didYouMean } from '../resolve.ts';

const NOT_IN_SWARM = /not part of a swarm|use "docker swarm init" or "docker swarm join"/i;
const WORKER = /not a swarm manager/i;
const ALREADY = /already part of a swarm/i;

/** The error an engine answer means for a Swarm request, or `e` itself. */
export function swarmError(e: unknown): unknown {
  const said = engineSaid(e);
  const status = statusOf(e);
  if (status === 503 && NOT_IN_SWARM.test(said))
    return new ToolError('conflict', 'this engine is not in a swarm', {
      hint: 'Start one with docker_swarm_init, or join one with docker_swarm_join; or use an engine that is a manager.',
    });
  if (status === 503 && WORKER.test(said))
    return new ToolError(
      'conflict',
      'this engine is a swarm worker, not a manager: only managers see or change the cluster',
      {
        hint: 'Call it on a manager engine (the engine argument), or promote this node from a manager with docker_node_update role=manager.',
      },
    );
  if (status === 503 && ALREADY.test(said))
    return new ToolError('conflict', 'this engine is already in a swarm', {
      hint: 'See it with docker_swarm_info; leave it first with docker_swarm_leave to start or join another.',
    });
  return e;
}

// The manager's own refusals arrive as `rpc error: code = <gRPC code> desc = <what>`; the code says
// whose fault it is better than the HTTP status (a spec the manager cannot parse comes back 500).
const RPC = /^rpc error: code = (\w+) desc = /;
const RPC_KINDS: Record<string, ErrorKind> = {
  InvalidArgument: 'invalid_argument',
  OutOfRange: 'invalid_argument',
  AlreadyExists: 'conflict',
  FailedPrecondition: 'conflict',
  NotFound: 'not_found',
};
// An Unknown code is the manager refusing what it was sent (a constraint it cannot parse) unless it
// speaks of the cluster itself.
const CLUSTER_TROUBLE = /raft|leader|quorum|deadline|context canceled|transport/i;

/**
 * The ToolError an engine refusal of a Swarm write means (a service, network, secret or config the
 * manager would not make), worded without the gRPC wrapping; undefined when `e` is no engine answer
 * (a lost connection, an abort: the pipeline maps those). For callers that add which object failed.
 */
export function swarmRefusal(e: unknown): ToolError | undefined {
  if (e instanceof ToolError) return e;
  const mapped = swarmError(e);
  if (mapped instanceof ToolError) return mapped;
  const status = statusOf(e);
  if (status === undefined) return undefined;
  // Escape sequences and control characters out: the manager's words quote names others chose.
  const said = clean(engineSaid(e)).trim();
  const rpc = RPC.exec(said);
  const what = rpc ? said.slice(rpc[0].length) : said;
  const base = engineError(e);
  let kind: ErrorKind | undefined = rpc ? RPC_KINDS[rpc[1] as string] : undefined;
  if (!kind && status >= 500)
    kind =
      rpc?.[1] === 'Unknown' && !CLUSTER_TROUBLE.test(what)
        ? 'invalid_argument'
        : /\bnot found\b/i.test(what)
          ? 'not_found'
          : undefined;
  kind ??= base?.kind ?? 'internal';
  const hint =
    kind === 'invalid_argument'
      ? 'Fix it and call again.'
      : kind === 'internal'
        ? 'The manager reported an error; check the swarm with docker_swarm_info and retry.'
        : base?.hint;
  return new ToolError(kind, clip(what || base?.message || `engine answered HTTP ${status}`), {
    ...(hint && { hint }),
    ...(base?.subject && { subject: base.subject }),
  });
}

/** One JSON Swarm request with the call's signal, its failures translated by swarmError. */
export async function swarmRequest<T>(
  docker: Dockerode,
  req: EngineRequest,
  signal: AbortSignal,
): Promise<T> {
  try {
    return await engineRequest<T>(docker, req, signal);
  } catch (e) {
    throw swarmError(e);
  }
}

/** "<kind> '<ref>' not found", naming close names and the tool that lists them. */
export function swarmNotFound(
  kind: string,
  ref: string,
  names: readonly string[],
  lister: string,
): ToolError {
  const close = didYouMean(ref, names);
  const hint = close.length
    ? `Did you mean ${close.map((n) => `'${n}'`).join(', ')}?`
    : `List them with ${lister}.`;
  return new ToolError('not_found', `${kind} '${ref}' not found`, { hint });
}

/** Seconds from the engine's nanoseconds. */
export const seconds = (ns: number | undefined): number | undefined =>
  ns === undefined ? undefined : ns / 1e9;

/** A filters query value from a map, leaving out empty lists; undefined when nothing is left. */
export function filtersQuery(f: Record<string, readonly string[] | undefined>): string | undefined {
  const kept = Object.fromEntries(Object.entries(f).filter(([, v]) => v && v.length > 0));
  return Object.keys(kept).length ? JSON.stringify(kept) : undefined;
}

/**
 * Waits `ms`, or less when `signal` aborts (the caller's next check sees the abort); for polls. A
 * wait that ends on time takes its abort listener with it: a long poll does not pile them up.
 */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
