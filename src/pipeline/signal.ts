import { ToolError } from '../core/errors.ts';

export interface CallSignal {
  signal: AbortSignal;
  /** Turns an abort into the right error: the client's cancel or our timeout. */
  reason(): ToolError | undefined;
  dispose(): void;
}

/**
 * Combines the client's cancellation, the tool's timeout and the server's shutdown (`stop`) into the
 * one signal handlers pass down.
 */
export function callSignal(
  client: AbortSignal | undefined,
  timeoutMs: number,
  toolName: string,
  stop?: AbortSignal,
): CallSignal {
  const controller = new AbortController();
  let why: ToolError | undefined;
  const abort = (e: ToolError) => {
    if (controller.signal.aborted) return;
    why = e;
    controller.abort(e);
  };
  const timer = setTimeout(
    () =>
      abort(
        new ToolError('timeout', `${toolName} did not finish within ${Math.round(timeoutMs / 1000)} s`, {
          hint: 'Narrow the request, or raise the timeout (--timeout / MCP_DOCKER_TIMEOUT).',
        }),
      ),
    timeoutMs,
  );
  const onCancel = () => abort(new ToolError('cancelled', `${toolName} was cancelled by the client`));
  if (client?.aborted) onCancel();
  else client?.addEventListener('abort', onCancel, { once: true });
  // Unlike a client's cancel, this one is answered: the client learns why its call ended.
  const onStop = () =>
    abort(
      new ToolError('cancelled', `${toolName} was cancelled: the server is shutting down`, {
        hint: 'Call again once the server is back.',
        retryable: true,
      }),
    );
  if (stop?.aborted) onStop();
  else stop?.addEventListener('abort', onStop, { once: true });
  return {
    signal: controller.signal,
    reason: () => why,
    dispose() {
      clearTimeout(timer);
      client?.removeEventListener('abort', onCancel);
      stop?.removeEventListener('abort', onStop);
    },
  };
}

/** Settles as soon as the signal aborts, even if a handler's engine request is slow to notice. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The handler may have been cancelled before its first await; its own rejection is moot then.
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
