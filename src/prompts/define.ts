/**
 * A prompt is data, like a tool: its name, what it is for, its arguments (those naming containers
 * complete to real ones) and a builder that gathers live engine facts into one user message.
 * Building goes through runContent (engine, timeout, redaction, errors); the builder fences what a
 * container wrote.
 */

import type { CompleteKind, ContentContext } from '../core/content.ts';
import { ToolError } from '../core/errors.ts';
import type { Toolset } from '../core/toolsets.ts';
import { containerRefOf } from '../docker/names.ts';

export interface PromptArgument<A extends string = string> {
  name: A;
  description: string;
  required?: boolean;
  complete?: CompleteKind;
}

export interface PromptDef<A extends string = string> {
  name: string;
  title: string;
  description: string;
  arguments: PromptArgument<A>[];
  /** The text of the user message. Missing optional arguments are absent from `args`. */
  build(args: Partial<Record<A, string>>, ctx: ContentContext): Promise<string>;
  /** The toolset that switches it on (set in index.ts, like the tools' toolsets). */
  toolset?: Toolset;
  /**
   * The tools whose data it shows: a caller sees and gets the prompt only when each of them passes
   * the caller's gate (set in index.ts).
   */
  uses?: readonly string[];
}

export const definePrompt = <A extends string>(def: PromptDef<A>): PromptDef<A> => def;

// biome-ignore lint/suspicious/noExplicitAny: the catalogue holds prompts of many argument names.
export type AnyPrompt = PromptDef<any>;

/** A prompt in the catalogue: its toolset and the tools it uses are known. */
export type CataloguedPrompt = AnyPrompt & { toolset: Toolset; uses: readonly string[] };

/** Empty list = all. */
export const promptAllowed = (p: AnyPrompt, allowed: readonly string[]): boolean =>
  allowed.length === 0 || allowed.includes(p.name);

/**
 * The arguments a prompt takes, trimmed, empty ones dropped (an optional one left empty means its
 * default); an unknown or missing required one, a blank one (only spaces: never a name, and not
 * taken as "all") and one that cannot name a container are an invalid_argument naming it, before
 * anything is asked of the engine.
 */
export function promptArgs(p: AnyPrompt, raw: Record<string, string> | undefined): Record<string, string> {
  const byName = new Map(p.arguments.map((a) => [a.name, a]));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    const arg = byName.get(k);
    if (!arg)
      throw new ToolError('invalid_argument', `prompt ${p.name} has no argument '${k}'`, {
        hint: `Its arguments: ${p.arguments.map((a) => a.name).join(', ')}.`,
      });
    if (typeof v !== 'string' || v === '') continue;
    const value = v.trim();
    const items =
      arg.complete === 'container_list'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [value];
    if (value === '' || items.length === 0)
      throw new ToolError(
        'invalid_argument',
        `invalid argument '${k}': names no container, got ${JSON.stringify(v)}`,
        {
          hint: `Give ${arg.complete === 'container_list' ? 'container names or IDs, separated by commas' : 'a container name or ID'}${arg.required ? '' : `, or leave '${k}' out`}.`,
        },
      );
    if (arg.complete) for (const item of items) containerRefOf(item, k);
    out[k] = value;
  }
  for (const a of p.arguments) {
    if (a.required && out[a.name] === undefined)
      throw new ToolError(
        'invalid_argument',
        `prompt ${p.name} needs argument '${a.name}' (${a.description})`,
        {
          hint: a.complete
            ? 'Complete it with completion/complete, or list containers with docker_list_containers.'
            : undefined,
        },
      );
  }
  return out;
}
