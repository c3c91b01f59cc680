/**
 * The tool contract: what a tool declares and what its handler gets. The pipeline reads the
 * declaration (safety, timeouts, which fields a container controls, which arguments are host paths);
 * the handler only acts on the engine session it is handed.
 */
import type Dockerode from 'dockerode';
import type { Static, TObject, TSchema } from 'typebox';
import type { EngineEntry, EngineRequests, EngineSession } from './engine.ts';
import type { ObjectKind, ToolError } from './errors.ts';
import type { Limits } from './limits.ts';
import type { ProgressFn } from './progress.ts';
import type { Toolset } from './toolsets.ts';

export type Safety = 'safe' | 'moderate' | 'destructive';

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

/**
 * `required` (default): the pipeline connects first and fails the call if no engine answers.
 * `optional`: the handler runs anyway, with `engine.docker` undefined and `unreachable` saying why.
 * `requests`: required, and the handler only sends JSON requests through the one request function
 * (engineRequest): `engine.docker` is the engine's request transport, so the call never loads the full
 * client (dockerode and the Node HTTP stack under it).
 */
export type EngineNeed = 'required' | 'optional' | 'requests';

/** What `engine.docker` is for a tool with that engine need. */
export type EngineClientOf<E extends EngineNeed> = E extends 'optional'
  ? Dockerode | undefined
  : E extends 'requests'
    ? EngineRequests
    : Dockerode;

/** What a handler gets besides its arguments. It never sees the transport or the safety settings. */
export interface ToolContext<E extends EngineNeed = 'required'> {
  engine: EngineSession<EngineClientOf<E>>;
  signal: AbortSignal;
  progress: ProgressFn;
  limits: Limits;
  server: ServerFacts;
  /** The Docker CLI config directory (--docker-config / DOCKER_CONFIG): registry credentials live there. */
  dockerConfigDir: string;
  /** The server's environment for Compose interpolation: set over stdio, never for remote (HTTP) callers. */
  processEnv?: Readonly<Record<string, string | undefined>>;
  /**
   * An error's words as this call's caller may read them, for a result that lists errors rather than
   * failing with one (a remote caller gets the wording without the server's paths: ToolError.remote).
   */
  told: (error: ToolError) => string;
  /**
   * Tells the pipeline values the handler learned that no error of this call may quote (the secrets a
   * Compose project interpolated from `.env` or the environment): masked as `secretArgs` are.
   */
  conceal: (values: Iterable<string>) => void;
  /** Why connecting failed; only ever set for `engine: 'optional'` tools. */
  unreachable?: ToolError;
  /** Every engine the caller may use; only ever set for tools that declare `needsEngines`. */
  engines?: readonly EngineEntry[];
  /**
   * Whether the caller's gate lets them call another tool on this call's engine (by name; unknown = no).
   * Only ever set for tools that declare `needsGate` (the dashboard offers only the actions allowed).
   */
  allows?: (tool: string) => boolean;
  /**
   * Why the gate refuses the caller that tool on this engine, in its words ("docker_list_containers is
   * denied by configuration"); undefined when it allows it. Set with `allows`.
   */
  refusal?: (tool: string) => string | undefined;
  /**
   * The plan of the preview the user accepted (Preview.plan), set only on a confirmed call: the
   * handler acts on exactly that (a prune removes the listed ids, not whatever is unused by now).
   */
  confirmed?: unknown;
}

/**
 * What a call will do, computed from the engine before the user is asked to confirm it: the question
 * names these objects. Read-only: a preview never changes anything.
 */
/** What an argument raises a call to: a tier whenever it is set, or a tier per value. */
export type Escalation = Safety | Readonly<Record<string, Safety>>;

/** Every tier some argument of `tool` can raise a call to. */
export const raisedTiers = (tool: { escalate?: object }): Safety[] =>
  Object.values((tool.escalate ?? {}) as Record<string, Escalation>).flatMap((e) =>
    typeof e === 'string' ? [e] : Object.values(e),
  );

export interface Preview {
  /** What will happen, e.g. "remove container 'web' (running; forced)". */
  action: string;
  /** The objects that will go, by name (the question lists them, with their count). */
  objects?: readonly string[];
  /** Bytes the call frees (prunes). */
  reclaims?: number;
  /** `reclaims` is a floor, and why (e.g. "more where the images share layers with each other"). */
  reclaimsAtLeast?: string;
  /**
   * The call does more than remove `objects` (a deploy, a load, a build cache prune), so it is asked
   * even when none are listed. Otherwise `objects: []` with a `plan` means nothing would change: the
   * handler runs on that plan without a question.
   */
  beyondObjects?: boolean;
  /**
   * The question shows the call's arguments too (masked, as a call with no preview shows them): the
   * call also makes things from them (an up that removes orphans runs the project's content), and
   * the person approves that as much as what goes.
   */
  withArgs?: boolean;
  /**
   * What the handler must act on once confirmed (JSON, e.g. the ids a prune removes): sealed with the
   * question and handed back as `ctx.confirmed`, so what runs is what the user saw.
   */
  plan?: unknown;
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
   * {container_id}' }. The pipeline cleans, screens and fences them.
   */
  untrusted?: Record<string, string>;
  /**
   * Top-level result fields holding base64 of bytes a container controls (a binary file's content).
   * The pipeline masks the secrets found in the text inside those bytes (redact-bytes.ts) and, when it
   * masked any, sets `redacted: true` in the result (the output schema declares it). Not fenced or
   * screened: return text as text.
   */
  untrustedBase64?: readonly string[];
  /**
   * Result fields holding short text someone else chose, read where it stands: the names and labels
   * of networks, images and volumes, file names a container writes. Every string in them is cleaned,
   * screened and defused in place, not fenced. Dotted paths; `*` takes every item ('networks.*.name').
   */
  screened?: readonly string[];
  /**
   * Result fields that describe the server's host or the operator's network (the engine's data-root
   * path, its host name, a volume's mountpoint, a bind's source, warnings quoting addresses): a remote
   * (HTTP) caller gets a string field as '<hidden>' and the paths and addresses inside a list or map
   * hidden, as errors hide them. Dotted paths; `*` takes every item ('Mounts.*.Source'); a path ending
   * in ':source' holds mount specs 'SOURCE:TARGET[:MODE]' whose SOURCE alone is hidden when it is a
   * path ('mounts.*:source'); one ending in ':labels' is a label map whose Compose file-path labels
   * are hidden ('Config.Labels:labels'). Over stdio, and for tools that declare none, the result is
   * not touched.
   * A catalogue test holds output fields named like host paths (HOST_PATH_FIELDS) to it.
   */
  hostDetails?: readonly string[];
  /**
   * Arguments that are files or directories on the server's own host (a build context, a tar to
   * save or load): the argument policy applies the sensitive-path and mount allow/block lists.
   */
  hostPaths?: readonly (keyof Static<I> & string)[];
  /**
   * Arguments that raise a call's tier when set (given, and not false or null), e.g.
   * `{ overwrite: 'destructive' }`, or only at some values, `{ role: { manager: 'destructive' } }`:
   * listing uses `safety`; a call is gated at the highest tier its arguments reach, and the listed
   * `destructiveHint` is true when any argument escalates to destructive.
   */
  escalate?: Partial<Record<keyof Static<I> & string, Escalation>>;
  /** The kind of object this tool lists: a not-found of that kind points the caller here. */
  lists?: ObjectKind;
  /**
   * Only tools that report on the connection itself (e.g. a health check) set 'optional'; tools whose
   * handler only sends JSON requests set 'requests' (see EngineNeed).
   */
  engine?: E;
  /** The handler reports on every engine the caller may use (docker_list_engines): it gets `engines`. */
  needsEngines?: boolean;
  /**
   * The handler shows data or offers actions of other tools only as far as the caller may call them
   * (docker_dashboard): it gets `allows` and `refusal`.
   */
  needsGate?: boolean;
  /**
   * Arguments naming another configured engine the call also acts on, each with the tool whose gate
   * applies there: `{ manager_engine: 'docker_swarm_join_token' }` (a join fetches a join token from
   * the manager engine). The call is refused unless the caller may use that engine and that tool, with
   * this call's arguments (its escalations), is allowed there under the engine's own ceiling.
   */
  actsOn?: Partial<Record<keyof Static<I> & string, string>>;
  /**
   * An MCP App view of the result (the `ui://` resource that renders it): listed as `_meta.ui.resourceUri`
   * (and the legacy `_meta["ui/resourceUri"]`), so hosts with MCP Apps show it; others read the result.
   */
  ui?: { resourceUri: string };
  /**
   * The toolset the tool belongs to. Assigned per category in src/tools/index.ts, not in tool files;
   * the gate refuses a tool whose toolset the caller's profile does not switch on.
   */
  toolset?: Toolset;
  /**
   * Argument paths (dotted, e.g. 'auth' or 'auth.password') holding secrets: their values are never
   * logged, audited or quoted in an error. The handler still gets them.
   */
  secretArgs?: readonly string[];
  /**
   * Arguments holding Compose YAML: the audit log and the confirmation question show them with the
   * values that may carry secrets (environment, build args, inline secret content…) masked.
   */
  composeArgs?: readonly string[];
  /** The result is a secret (a join token): returned to the caller, never logged or audited. */
  secretResult?: boolean;
  /**
   * What a call would do, for the confirmation question (--confirm): read the engine, change nothing.
   * Without it, or when it answers undefined, the question names the tool and its arguments.
   */
  preview?: (args: Static<I>, ctx: ToolContext<E>) => Promise<Preview | undefined>;
  handler: (args: Static<I>, ctx: ToolContext<E>) => Promise<Static<O>>;
}

/** Identity helper: exists only so each tool object is type-checked against its own schemas. */
export const defineTool = <I extends TObject, O extends TSchema, E extends EngineNeed = 'required'>(
  def: ToolDef<I, O, E>,
): ToolDef<I, O, E> => def;

// biome-ignore lint/suspicious/noExplicitAny: the catalogue holds tools of many schema types.
export type AnyTool = ToolDef<any, any, any>;
