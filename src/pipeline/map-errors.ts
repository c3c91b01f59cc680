import type { ObjectKind } from '../core/errors.ts';
import { reword, ToolError } from '../core/errors.ts';
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
