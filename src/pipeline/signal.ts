import { ToolError } from './errors.ts';

export interface CallSignal {
  signal: AbortSignal;
  /** Turns an abort into the right error: the client's cancel or our timeout. */
  reason(): ToolError | undefined;
  dispose(): void;
}

/** Combines the client's cancellation with the tool's timeout into the one signal handlers pass down. */
export function callSignal(client: AbortSignal | undefined, timeoutMs: number, toolName: string): CallSignal {
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
  return {
    signal: controller.signal,
    reason: () => why,
    dispose() {
      clearTimeout(timer);
      client?.removeEventListener('abort', onCancel);
    },
  };
}
