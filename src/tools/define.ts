import type Dockerode from 'dockerode';
import type { Static, TObject, TSchema } from 'typebox';

export type Safety = 'safe' | 'moderate' | 'destructive';

/** Reports progress of a long operation; the pipeline throttles and forwards it to the client. */
export type ProgressFn = (progress: number, total?: number, message?: string) => void;

/** The limits a handler may need to size its own Docker requests (the pipeline still caps output). */
export interface Limits {
  maxResponseBytes: number;
  maxExecOutputBytes: number;
  maxLogLines: number;
  maxListResults: number;
}

/** What a handler gets besides its arguments. It never sees the transport or the safety settings. */
export interface ToolContext {
  docker: Dockerode;
  signal: AbortSignal;
  progress: ProgressFn;
  limits: Limits;
}

/**
 * Which end of an over-large result is worth keeping when the pipeline caps it:
 * `head` for lists (first rows), `tail` for logs and command output (newest lines).
 */
export type KeepEnd = 'head' | 'tail';

export interface ToolDef<I extends TObject = TObject, O extends TSchema = TSchema> {
  name: string;
  title: string;
  description: string;
  safety: Safety;
  idempotent: boolean;
  /** True only when the call reaches beyond the engine (e.g. a registry). */
  openWorld?: boolean;
  input: I;
  output: O;
  /** Overrides the configured default timeout; long operations set it higher. */
  timeoutMs?: number;
  /** Name of an input field (seconds) that extends the timeout for this call, e.g. exec's `timeout`. */
  timeoutArg?: keyof Static<I> & string;
  keep?: KeepEnd;
  /** Said when the result had to be cut: how to ask for less (e.g. 'Use tail, since or grep.'). */
  narrowHint?: string;
  handler: (args: Static<I>, ctx: ToolContext) => Promise<Static<O>>;
}

/** Identity helper: exists only so each tool object is type-checked against its own schemas. */
export const defineTool = <I extends TObject, O extends TSchema>(def: ToolDef<I, O>): ToolDef<I, O> => def;

// biome-ignore lint/suspicious/noExplicitAny: the catalogue holds tools of many schema types.
export type AnyTool = ToolDef<any, any>;
