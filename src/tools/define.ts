import type Dockerode from 'dockerode';
import type { Static, TObject, TSchema } from 'typebox';
import type { Attempt, EngineInfo } from '../docker/engine.ts';
import type { ToolError } from '../pipeline/errors.ts';

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

/** Facts about this server, fixed at start-up, for tools that report on it. */
export interface ServerFacts {
  version: string;
  safetyMode: {
    /** e.g. 'default: safe+moderate', 'read-only', 'all tiers'. */
    summary: string;
    tiers: Safety[];
    allowedTools: string[];
    deniedTools: string[];
  };
}

/** The engine connection as facts, plus a way to rediscover it (e.g. after a failed ping). */
export interface EngineAccess {
  client(signal: AbortSignal): Promise<Dockerode>;
  /** Forgets the connection, so the next client() discovers the engine again. */
  invalidate(): void;
  /** The connection in use: endpoint, how it was found, negotiated API, server version. */
  info(): EngineInfo | undefined;
  /** What the last discovery tried, in order. */
  attempts(): Attempt[];
}

/**
 * `required` (default): the pipeline connects first and fails the call if no engine answers.
 * `optional`: the handler runs anyway, with `docker` undefined and `unreachable` saying why.
 */
export type EngineNeed = 'required' | 'optional';

/** What a handler gets besides its arguments. It never sees the transport or the safety settings. */
export interface ToolContext<E extends EngineNeed = 'required'> {
  docker: E extends 'optional' ? Dockerode | undefined : Dockerode;
  signal: AbortSignal;
  progress: ProgressFn;
  limits: Limits;
  server: ServerFacts;
  engine: EngineAccess;
  /** The Docker CLI config directory (--docker-config / DOCKER_CONFIG): registry credentials live there. */
  dockerConfigDir: string;
  /** Why connecting failed; only ever set for `engine: 'optional'` tools. */
  unreachable?: ToolError;
}

/**
 * Which end of an over-large result is worth keeping when the pipeline caps it:
 * `head` for lists (first rows), `tail` for logs and command output (newest lines).
 */
export type KeepEnd = 'head' | 'tail';

export interface ToolDef<
  I extends TObject = TObject,
  O extends TSchema = TSchema,
  E extends EngineNeed = 'required',
> {
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
  /**
   * Result fields holding text a container controls (logs, command output, file contents, env,
   * labels): field path → source, `{arg}` filled from the arguments, e.g. { lines: 'logs of
   * {container_id}' }. The pipeline cleans, screens and fences them (src/pipeline/fence.ts).
   */
  untrusted?: Record<string, string>;
  /**
   * Arguments that are files or directories on the server's own host (a build context, a tar to
   * save or load): the argument policy applies the sensitive-path and mount allow/block lists.
   */
  hostPaths?: readonly (keyof Static<I> & string)[];
  /** Only tools that report on the connection itself (e.g. a health check) set 'optional'. */
  engine?: E;
  handler: (args: Static<I>, ctx: ToolContext<E>) => Promise<Static<O>>;
}

/** Identity helper: exists only so each tool object is type-checked against its own schemas. */
export const defineTool = <I extends TObject, O extends TSchema, E extends EngineNeed = 'required'>(
  def: ToolDef<I, O, E>,
): ToolDef<I, O, E> => def;

// biome-ignore lint/suspicious/noExplicitAny: the catalogue holds tools of many schema types.
export type AnyTool = ToolDef<any, any, any>;
