/**
 * A prompt is data, like a tool: its name, what it is for, its arguments (those naming containers
 * complete to real ones) and a builder that gathers live engine facts into one user message.
 * Building goes through runContent (engine, timeout, redaction, errors); the builder fences what a
 * container wrote.
 */

import type { CompleteKind, ContentContext } from '../core/content.ts';
import { ToolError } from '../core/errors.ts';
import type { Toolset } from '../core/toolsets.ts';

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
 * The arguments a prompt takes, trimmed, empty ones dropped; an unknown or missing required one is
 * an invalid_argument naming it.
 */
export function promptArgs(p: AnyPrompt, raw: Record<string, string> | undefined): Record<string, string> {
  const known = new Set(p.arguments.map((a) => a.name));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (!known.has(k))
      throw new ToolError('invalid_argument', `prompt ${p.name} has no argument '${k}'`, {
        hint: `Its arguments: ${p.arguments.map((a) => a.name).join(', ')}.`,
      });
    if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
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
