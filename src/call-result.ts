/**
 * A tools/call's result as MCP content, and the errors and answers a transport reads around a call:
 * light enough for the stdio start-up, which answers without the pipeline loaded.
 */
import type { ConfirmAnswer, ConfirmChannel } from './pipeline/confirm.ts';
import { jsonOf } from './pipeline/result-json.ts';
import type { Asked, Outcome } from './pipeline/run.ts';

/** A tools/call for a name the catalogue does not hold: a protocol fault (invalid params), not a tool error. */
export class UnknownToolError extends Error {
  constructor(name: string) {
    super(`Unknown tool '${name}'. Call tools/list to see the tools.`);
  }
}

export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

/** An elicitation result as the confirm step reads it (from elicitation/create or an input response). */
export function answerOf(state: unknown, response: unknown): NonNullable<ConfirmChannel['answer']> {
  const r = response !== null && typeof response === 'object' ? (response as Record<string, unknown>) : {};
  const action =
    r.action === 'accept' || r.action === 'decline' || r.action === 'cancel' ? r.action : 'missing';
  const content =
    r.content !== null && typeof r.content === 'object' && !Array.isArray(r.content)
      ? (r.content as Record<string, unknown>)
      : undefined;
  return { state, action, ...(content && { content }) };
}

/**
 * What became of a question this server put with elicitation/create: the client's reply (a result,
 * or an error: it did not show it), none within the time the user has (the question withdrawn), or
 * `ended`: the call ended first (the client cancelled it, closed its session or lost its connection).
 */
export type Reply = { result?: unknown; error?: unknown } | 'unanswered' | 'ended';

/** How long a question waits for the user: --confirm-timeout, else the sealer's five minutes. */
export const answerWithinMs = (seconds: number | undefined): number => (seconds ?? 300) * 1000;

/**
 * The answer round of a call that stopped to ask (--confirm) on a connection where this server puts
 * the question itself (the initialize era): `ask` puts it and gives the reply, `again` runs the call
 * with the answer. A reply with an error counts as the user dismissing it; no answer in time ends the
 * call unanswered (confirm.ts), nothing changed; so does a call that ended first. Either way the answer
 * round runs, so the call's audit line closes.
 */
export async function answerRound<R extends object>(
  asked: Asked,
  ask: (params: Record<string, unknown>) => Promise<Reply>,
  again: (answer: ConfirmAnswer) => Promise<R | { asked: Asked }>,
): Promise<R> {
  const { question, state } = asked;
  const reply = await ask({ mode: 'form', ...question });
  const answer: ConfirmAnswer =
    reply === 'unanswered' || reply === 'ended'
      ? { state, action: reply }
      : answerOf(state, reply.error === undefined ? reply.result : { action: 'cancel' });
  const second = await again(answer);
  if ('asked' in second) throw new Error('the confirmed call asked again');
  return second;
}

export type CallResult = ReturnType<typeof toCallResult>;

/** Successful results toCallResult made: their one text is the JSON of their structuredContent. */
const whole = new WeakSet<object>();

/**
 * JSON.stringify(result) for a successful result of toCallResult, made from its text rather than by
 * serializing the data a second time (its structuredContent is the value that text is the JSON of);
 * undefined for any other result. The same bytes, in the same key order.
 */
export function callResultJson(result: object): string | undefined {
  if (!whole.has(result)) return undefined;
  const { text } = (result as { content: [{ text: string }] }).content[0];
  return `{"content":[{"type":"text","text":${JSON.stringify(text)}}],"structuredContent":${text}}`;
}

/**
 * Success: structured data plus the same JSON as text for clients that only read text.
 * Error: a one-line message with the kind and next step. `{kind, retryable, hint}` goes in
 * structuredContent only on the 2026 era: initialize-era SDK clients validate structuredContent
 * against the tool's outputSchema even on errors and would reject the result.
 */
export function toCallResult(outcome: Outcome, modern: boolean) {
  if (outcome.ok) {
    const result = {
      content: [{ type: 'text' as const, text: jsonOf(outcome.data) }],
      structuredContent: outcome.data,
    };
    whole.add(result);
    return result;
  }
  const { kind, message, hint, retryable } = outcome.error;
  const text = `${kind}: ${message}${hint ? ` — ${hint}` : ''}`;
  return {
    isError: true,
    content: [{ type: 'text' as const, text }],
    ...(modern && { structuredContent: { kind, retryable, ...(hint && { hint }) } }),
  };
}
