import type { ObjectKind, Quote } from '../core/errors.ts';
import { reword, ToolError } from '../core/errors.ts';
import { clean, DROPPED, FLAG, type LogFilter, readsAsInstruction } from '../core/fence.ts';
import type { AnyTool } from '../core/tool.ts';
import { clip, engineError, firstLine, scrubbed } from '../docker/errors.ts';

/** Which tool lists each kind of object, from the tools' own `lists` declarations. */
export type Listers = Partial<Record<ObjectKind, string>>;

export const listersOf = (tools: Iterable<AnyTool>): Listers => {
  const out: Listers = {};
  for (const t of tools) if (t.lists) out[t.lists] ??= t.name;
  return out;
};

/** "See what exists with docker_list_containers." for a not-found of that kind, if a tool lists it. */
export function listHint(subject: ObjectKind | undefined, listers: Listers = {}): string | undefined {
  const tool = subject && listers[subject];
  return tool ? `See what exists with ${tool}.` : undefined;
}

/**
 * Turns anything a handler threw into a ToolError a user can act on: the abort reason when the call
 * was aborted, the engine layer's mapping for engine failures, else internal, without stack or paths.
 * A not-found of a kind some tool lists gets that tool named as the next step.
 */
export function mapError(
  e: unknown,
  opts: { aborted?: ToolError; scrub?: string[]; endpoint?: string; listers?: Listers } = {},
): ToolError {
  const error = toToolError(e, opts);
  const where = error.kind === 'not_found' ? listHint(error.subject, opts.listers) : undefined;
  if (!where || error.hint?.includes(where)) return error;
  return reword(
    error,
    (m) => m,
    (h) => (h ? `${h} ${where}` : where),
  );
}

function toToolError(e: unknown, opts: { aborted?: ToolError; scrub?: string[]; endpoint?: string }) {
  if (e instanceof ToolError) return e;
  if (opts.aborted) return opts.aborted;
  const mapped = engineError(e, opts);
  if (mapped) return mapped;
  const message = clip(scrubbed(firstLine((e as Error)?.message ?? String(e)), opts.scrub));
  return new ToolError('internal', `unexpected error: ${message}`, {
    hint: 'This is likely a bug in mcp-docker; retrying may help. Please report it with the tool name and arguments.',
  });
}

/** Characters of outside text an error quotes: enough for a registry's reason, not a page of it. */
const QUOTE_MAX = 600;

/**
 * Outside text as an error quotes it, screened the way untrusted result text is: escape sequences,
 * control and invisible characters removed, its lines joined into one, flagged (or dropped) per the log
 * filter when it reads like an instruction, cut to QUOTE_MAX, between guillemets it cannot close.
 */
export function screenQuote(quote: Quote, filter: LogFilter): string {
  let text = clean(quote.text)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' | ')
    .replace(/[«»]/g, '"');
  if (text.length > QUOTE_MAX) text = `${text.slice(0, QUOTE_MAX - 1)}…`;
  if (filter !== 'none' && readsAsInstruction(quote.text, text))
    text = filter === 'drop' ? DROPPED : FLAG + text;
  return `${quote.by} said: «${text}»`;
}

/**
 * `error` with the outside text it quotes appended to its message (and its remote wording), screened;
 * the error itself when it quotes nothing. Every failure a caller sees passes here first.
 */
export function renderQuote(error: ToolError, filter: LogFilter): ToolError {
  const { quote, remote } = error;
  if (!quote) return error;
  const said = screenQuote(quote, filter);
  const add = (m: string) => `${m}: ${said}`;
  return new ToolError(error.kind, add(error.message), {
    hint: error.hint,
    retryable: error.retryable,
    subject: error.subject,
    remote: remote && { message: add(remote.message), hint: remote.hint },
  });
}
