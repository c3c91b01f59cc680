import { ToolError } from '../core/errors.ts';

export interface CallSignal {
  signal: AbortSignal;
  /** Turns an abort into the right error: the client's cancel or our timeout. */
  reason(): ToolError | undefined;
  /** Settles as `work` does, or rejects with the abort's error as soon as the call is aborted. */
  race<T>(work: Promise<T>): Promise<T>;
  dispose(): void;
}

/**
 * The calls running under each stop signal (the server's shutdown): one listener per signal, however
 * many calls there are. A call joins and leaves a set; an abort listener per call costs far more.
 */
const stoppers = new WeakMap<AbortSignal, Set<() => void>>();

function onStop(stop: AbortSignal, fn: () => void): () => void {
  let calls = stoppers.get(stop);
  if (!calls) {
    const set = new Set<() => void>();
    stop.addEventListener('abort', () => {
      for (const f of [...set]) f();
      set.clear();
    });
    stoppers.set(stop, set);
    calls = set;
  }
  calls.add(fn);
  return () => calls.delete(fn);
}

/**
 * A client's cancel of one call, told by a transport that needs no AbortSignal of its own for it
 * (stdio): the call's signal learns it through a function rather than an abort listener, which is
 * dearer, per call, than everything else here. `signal()` is made only if something must wait on it.
 */
export class Cancellation {
  cancelled = false;
  private told?: () => void;
  private controller?: AbortController;

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.told?.();
    this.controller?.abort(new Error('cancelled by the client'));
  }

  /** Calls `fn` on the cancel (at once if it came already); the returned function stops that. */
  onCancel(fn: () => void): () => void {
    if (this.cancelled) {
      fn();
      return () => {};
    }
    this.told = fn;
    return () => {
      if (this.told === fn) this.told = undefined;
    };
  }

  /** An AbortSignal aborted by the cancel, for what needs one (waiting for the user's answer). */
  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort(new Error('cancelled by the client'));
    }
    return this.controller.signal;
  }
}

/**
 * Most calls time out because the engine stopped answering (a small list does too), not because the
 * request was large: the hint points at the engine first.
 */
const TIMEOUT_HINT =
  'The engine did not answer in time: is it overloaded or hung? docker_list_engines shows whether it answers. If the operation is long by nature, raise the timeout (--timeout / MCP_DOCKER_TIMEOUT).';

/**
 * A call that is not idempotent (an exec, a create) may have done its work, or still be doing it, when
 * it is answered timeout or cancelled: calling it again could do it twice.
 */
const UNSURE = 'It may still be running or have taken effect: check before calling it again';

/**
 * Combines the client's cancellation (an AbortSignal, or a Cancellation), the tool's timeout and the
 * server's shutdown (`stop`) into the one signal handlers pass down. `idempotent` (the tool's flag)
 * decides whether a timeout or shutdown invites a repeat (retryable) or a check first.
 */
export function callSignal(
  client: AbortSignal | Cancellation | undefined,
  timeoutMs: number,
  toolName: string,
  stop?: AbortSignal,
  idempotent = true,
): CallSignal {
  const controller = new AbortController();
  let why: ToolError | undefined;
  // What race() is waiting on: rejected by the abort itself, with no listener on the signal.
  const racing = new Set<(e: unknown) => void>();
  const abort = (e: ToolError) => {
    if (controller.signal.aborted) return;
    why = e;
    controller.abort(e);
    for (const reject of racing) reject(e);
    racing.clear();
  };
  const timer = setTimeout(
    () =>
      abort(
        new ToolError('timeout', `${toolName} did not finish within ${Math.round(timeoutMs / 1000)} s`, {
          hint: idempotent ? TIMEOUT_HINT : `${TIMEOUT_HINT} ${UNSURE}.`,
          retryable: idempotent,
        }),
      ),
    timeoutMs,
  );
  const onCancel = () => abort(new ToolError('cancelled', `${toolName} was cancelled by the client`));
  let untold: (() => void) | undefined;
  if (client instanceof Cancellation) untold = client.onCancel(onCancel);
  else if (client?.aborted) onCancel();
  else client?.addEventListener('abort', onCancel, { once: true });
  // Unlike a client's cancel, this one is answered: the client learns why its call ended.
  const onStopping = () =>
    abort(
      new ToolError('cancelled', `${toolName} was cancelled: the server is shutting down`, {
        hint: idempotent ? 'Call again once the server is back.' : `${UNSURE} once the server is back.`,
        retryable: idempotent,
      }),
    );
  let leave: (() => void) | undefined;
  if (stop?.aborted) onStopping();
  else if (stop) leave = onStop(stop, onStopping);
  return {
    signal: controller.signal,
    reason: () => why,
    race<T>(work: Promise<T>): Promise<T> {
      if (controller.signal.aborted) {
        // The handler may have been cancelled before its first await; its own rejection is moot then.
        work.catch(() => {});
        return Promise.reject(controller.signal.reason);
      }
      return new Promise<T>((resolve, reject) => {
        racing.add(reject);
        work.then(
          (v) => {
            racing.delete(reject);
            resolve(v);
          },
          (e) => {
            racing.delete(reject);
            reject(e);
          },
        );
      });
    },
    dispose() {
      clearTimeout(timer);
      if (untold) untold();
      else (client as AbortSignal | undefined)?.removeEventListener('abort', onCancel);
      leave?.();
    },
  };
}
