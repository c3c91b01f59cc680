/**
 * The questions stdio's fast path puts to the user (--confirm): a tools/call that stops to ask is
 * answered by sending `elicitation/create` to the client and calling again with the user's answer and
 * the sealed state (pipeline/confirm.ts). The client's replies carry our ids; `take` claims them before
 * anything else (the SDK, once loaded) sees a reply. A question left unanswered past --confirm-timeout,
 * or whose call ends first, is withdrawn: `notifications/cancelled` for it, so the client can close it.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { answerRound, answerWithinMs, type CallResult, type Progress, type Reply } from '../call-result.ts';
import type { Cancellation } from '../pipeline/signal.ts';
import type { callTool, ServerDeps } from '../tool-calls.ts';

/** Ids of the elicitation/create requests this path sends. */
const ASK_ID = 'mcp-docker:confirm:';

interface Incoming {
  id?: unknown;
  result?: unknown;
  error?: unknown;
}

export class StdioQuestions {
  /** Whether the client declared elicitation at initialize. */
  canAsk = false;
  private readonly waiting = new Map<string, (reply: Incoming) => void>();
  private count = 0;

  constructor(private readonly send: (message: JSONRPCMessage) => Promise<void>) {}

  /** A reply to one of our questions: handed to its waiter (true), or not ours (false). */
  take(reply: Incoming): boolean {
    const wake = typeof reply.id === 'string' ? this.waiting.get(reply.id) : undefined;
    wake?.(reply);
    return wake !== undefined;
  }

  /**
   * One call with its confirmation when it needs one. `waitSignal` gives what ends the wait for the
   * user (the client's cancel, the shutdown grace): the call then answers `cancelled`, nothing changed;
   * so does a question unanswered within --confirm-timeout, saying so.
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
    const within = answerWithinMs(deps.env.confirm?.timeoutSeconds);
    return answerRound(
      first.asked,
      (question) => this.ask(question, waitSignal(), within),
      (answer) =>
        run(deps, params, {
          ...opts,
          // The call's own signal has fired: the closing round only settles (and is audited).
          ...(answer.action === 'ended' && { signal: new AbortController().signal }),
          confirm: { canAsk: true, answer },
        }),
    );
  }

  private ask(params: Record<string, unknown>, signal: AbortSignal, within: number): Promise<Reply> {
    const id = `${ASK_ID}${++this.count}`;
    return new Promise<Reply>((resolve) => {
      const done = () => {
        this.waiting.delete(id);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      // The question is withdrawn: the client may stop showing it (a late answer is ignored).
      const withdraw = (reason: string) =>
        void this.send({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason },
        } as JSONRPCMessage).catch(() => {});
      const ended = () => resolve('ended');
      if (signal.aborted) return ended();
      const onAbort = () => {
        done();
        withdraw('the call ended');
        ended();
      };
      const timer = setTimeout(() => {
        done();
        withdraw('the user did not answer in time');
        resolve('unanswered');
      }, within);
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
