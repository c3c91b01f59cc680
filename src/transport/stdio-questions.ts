/**
 * The questions stdio's fast path puts to the user (--confirm): a tools/call that stops to ask is
 * answered by sending `elicitation/create` to the client and calling again with the user's answer and
 * the sealed state (pipeline/confirm.ts). The client's replies carry our ids; `take` claims them before
 * anything else (the SDK, once loaded) sees a reply.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { answerOf, type CallResult, type Progress } from '../call-result.ts';
import { ToolError } from '../core/errors.ts';
import type { Cancellation } from '../pipeline/signal.ts';
import type { callTool, ServerDeps } from '../tool-calls.ts';

/** Ids of the elicitation/create requests this path sends. */
const ASK_ID = 'mcp-docker:confirm:';

interface Reply {
  id?: unknown;
  result?: unknown;
  error?: unknown;
}

export class StdioQuestions {
  /** Whether the client declared elicitation at initialize. */
  canAsk = false;
  private readonly waiting = new Map<string, (reply: Reply) => void>();
  private count = 0;

  constructor(private readonly send: (message: JSONRPCMessage) => Promise<void>) {}

  /** A reply to one of our questions: handed to its waiter (true), or not ours (false). */
  take(reply: Reply): boolean {
    const wake = typeof reply.id === 'string' ? this.waiting.get(reply.id) : undefined;
    wake?.(reply);
    return wake !== undefined;
  }

  /**
   * One call with its confirmation when it needs one. `waitSignal` gives what ends the wait for the
   * user (the client's cancel, the shutdown grace): the call then answers `cancelled`, nothing changed.
   */
  async call(
    deps: ServerDeps,
    run: typeof callTool,
    params: { name: string; arguments?: unknown },
    opts: { signal: Cancellation; sendProgress?: (p: Progress) => void; modern: false },
    waitSignal: () => AbortSignal,
  ): Promise<CallResult> {
    const first = await run(deps, params, { ...opts, confirm: { canAsk: this.canAsk } });
    if (!('asked' in first)) return first;
    const { question, state } = first.asked;
    const reply = await this.ask({ mode: 'form', ...question }, waitSignal());
    // A client that answers with an error did not show the question: as if the user dismissed it.
    const answer = answerOf(state, reply.error === undefined ? reply.result : { action: 'cancel' });
    const second = await run(deps, params, { ...opts, confirm: { canAsk: true, answer } });
    if ('asked' in second) throw new Error('the confirmed call asked again');
    return second;
  }

  private ask(params: Record<string, unknown>, signal: AbortSignal): Promise<Reply> {
    const id = `${ASK_ID}${++this.count}`;
    return new Promise<Reply>((resolve, reject) => {
      const done = () => {
        this.waiting.delete(id);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        done();
        reject(new ToolError('cancelled', 'the call ended before the user answered; nothing changed'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(id, (m) => {
        done();
        resolve(m);
      });
      this.send({ jsonrpc: '2.0', id, method: 'elicitation/create', params } as JSONRPCMessage).catch(
        onAbort,
      );
    });
  }
}
