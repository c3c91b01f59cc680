/**
 * What a project call says when it stops part-way (a failure, a cancel, a timeout): for `up` the steps
 * done and what was in flight, for down, stop, start and restart the containers already acted on, so
 * nothing is left half-done without the caller knowing; and the contents `up` copies into a container
 * before starting it.
 */
import type Dockerode from 'dockerode';
import { reword, ToolError } from '../../core/errors.ts';
import { engineError } from '../errors.ts';
import { tarOneFile } from '../tar.ts';
import type { Project } from './load.ts';
import type { Obj } from './normalise.ts';
import type { Step } from './project.ts';

/** Where `up` was when it stopped: what it was doing, and the containers it created but had not started. */
export interface InFlight {
  doing: string;
  notStarted?: string[];
}

/** What exists after a call stopped part-way: the steps done and what was in flight. */
function whatExists(steps: Step[], at: InFlight): string {
  const made = steps.filter((s) => s.action !== 'unchanged').map((s) => `${s.object} ${s.action}`);
  const idle = at.notStarted?.length ? `; created but not started: ${at.notStarted.join(', ')}` : '';
  return `${made.length ? `done before it stopped: ${made.join(', ')}` : 'nothing was created or changed'}${at.doing ? `; it stopped while ${at.doing}` : ''}${idle}`;
}

const NEXT = 'Run docker_compose_up again to finish, or docker_compose_down to remove it.';
// A conflict or a refused argument (a taken host port) fails the same way until the project changes.
const FIX_FIRST =
  'Once that is changed, run docker_compose_up again to finish, or docker_compose_down to remove it.';

/** Adds to the signal's reason (the answer of an aborted call) what exists; once. */
export function tell(reason: ToolError, steps: Step[], at: InFlight): void {
  if (reason.message.includes('; done before it stopped') || reason.message.includes('; nothing was created'))
    return;
  (reason as { message: string }).message = `${reason.message}; ${whatExists(steps, at)}`;
  (reason as { hint?: string }).hint = `${reason.hint ? `${reason.hint} ` : ''}${NEXT}`;
}

/**
 * A failure (or cancel, or timeout) part-way: the error it was, saying what exists now, so nothing is
 * left half-made without the caller knowing. With no step done, nothing in flight and no container
 * waiting to start, the error as it is.
 */
export function partial(e: unknown, steps: Step[], at: InFlight, signal: AbortSignal): unknown {
  if (signal.aborted && signal.reason instanceof ToolError) {
    tell(signal.reason, steps, at);
    return signal.reason;
  }
  if (steps.every((s) => s.action === 'unchanged') && !at.doing && !at.notStarted?.length) return e;
  const base = e instanceof ToolError ? e : engineError(e);
  if (!base) return e;
  const exists = whatExists(steps, at);
  const next = base.kind === 'conflict' || base.kind === 'invalid_argument' ? FIX_FIRST : NEXT;
  return reword(
    base,
    (m) => `${m}; ${exists}`,
    (h) => `${h ? `${h} ` : ''}${next}`,
  );
}

/**
 * For down, stop, start and restart: what was `past` (e.g. "stopped") before a failure, cancel or
 * timeout, said in its answer with `next` as the hint. A cancelled or timed-out call is answered at
 * once with the signal's reason, so that reason is told as the abort happens; `failed` words an
 * engine failure. `dispose` once the call is over.
 */
export function partWay(signal: AbortSignal, done: readonly string[], past: string, next?: string) {
  const said = (m: string) => `${m}; ${past} before it stopped: ${done.join(', ')}`;
  const hint = (h: string | undefined) => (next ? `${h ? `${h} ` : ''}${next}` : h);
  const onAbort = () => {
    const reason: unknown = signal.reason;
    if (!(reason instanceof ToolError) || done.length === 0) return;
    (reason as { message: string }).message = said(reason.message);
    (reason as { hint?: string }).hint = hint(reason.hint);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return {
    failed(e: unknown): unknown {
      if (signal.aborted) return signal.reason;
      const base = e instanceof ToolError ? e : engineError(e);
      return base && done.length > 0 ? reword(base, said, hint) : e;
    },
    dispose: () => signal.removeEventListener('abort', onAbort),
  };
}

/** Secrets and configs backed by an environment variable or inline content: copied in before start. */
export async function copyContents(ctr: Dockerode.Container, p: Project, svc: Obj, signal: AbortSignal) {
  for (const [kind, defs, dirOf] of [
    ['secrets', p.secrets, '/run/secrets/'],
    ['configs', p.configs, '/'],
  ] as const)
    for (const ref of (svc[kind] as Obj[] | undefined) ?? []) {
      const content = defs[String(ref.source)]?.content;
      if (typeof content !== 'string') continue;
      const target = String(ref.target ?? '') || String(ref.source);
      const path = (target.startsWith('/') ? target : dirOf + target).replace(/^\/+/, '');
      const mode = ref.mode === undefined ? 0o444 : Number(ref.mode);
      await ctr.putArchive(tarOneFile(path, Buffer.from(content), mode), {
        path: '/',
        abortSignal: signal,
      } as never);
    }
}
