import type Dockerode from 'dockerode';
import type { HostEnv } from '../config/host.ts';
import type { EngineAccess, EngineEntry, EngineRequests, EngineSession } from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';
import { fenceResult, type LogFilter, screenFields } from '../core/fence.ts';
import type { Limits } from '../core/limits.ts';
import { redact, redactResult } from '../core/redact.ts';
import { redactBytes } from '../core/redact-bytes.ts';
import type { AnyTool, Safety, ServerFacts } from '../core/tool.ts';
import { type EngineHandle, type EngineRegistry, sessionOf } from '../docker/engines.ts';
import { withPolicy } from '../docker/policy/scope.ts';
import { capResult } from './cap.ts';
import {
  type Confirmation,
  type ConfirmChannel,
  type ConfirmFallback,
  type ConfirmMode,
  cannotAsk,
  needsConfirmation,
  nothingToAsk,
  type Question,
  questionOf,
  settle,
} from './confirm.ts';
import {
  callerEngines,
  chooseEngine,
  defaultEngineFor,
  engineObserved,
  engineOfRefusal,
  onEngine,
  severalEngines,
  takeEngineArg,
} from './engine-choice.ts';
import { engineTiers, gate, type SafetyProfile, tierOf } from './gate.ts';
import { type Listers, mapError, renderQuote } from './map-errors.ts';
import { checkArgumentPolicy, type PolicySettings } from './policy.ts';
import { throttledProgress } from './progress.ts';
import { forRemote, hideHostDetails, type RemoteCallers, remoteEngineView } from './remote-errors.ts';
import { processSealer, type Sealer } from './seal.ts';
import { maskSecretArgs, secretValues, shownArgs, withoutSecrets } from './secrets.ts';
import { type CallSignal, type Cancellation, callSignal } from './signal.ts';
import { tooDeep, tooDeepArgument, validateArgs } from './validate.ts';

export interface PipelineEnv {
  profile: SafetyProfile;
  policy: PolicySettings;
  host: HostEnv;
  limits: Limits;
  defaultTimeoutMs: number;
  /** The engines this server serves; each call resolves the one it acts on (src/docker/engines.ts). */
  engines: EngineRegistry;
  /** Built once with serverFacts(); handed to every handler. */
  server: ServerFacts;
  /** What happens to container text that reads like an instruction (SAFETY_LOG_FILTER). */
  logFilter: LogFilter;
  /** Where registry credentials are read from (config.json, credential helpers). */
  dockerConfigDir: string;
  /**
   * Set by a transport whose callers are on other hosts (HTTP): their errors name no engine address
   * and no path, and what was left out goes to `remote.log` (remote-errors.ts). Unset over stdio.
   */
  remote?: RemoteCallers;
  /** Aborted when the server shuts down: calls still running end `cancelled`, with an answer (HTTP). */
  stopping?: AbortSignal;
  /**
   * Told as each tool call, prompt get and resource read starts; what it returns is told how it
   * ended (audit log, concurrency limits). Secret arguments arrive masked, a secret result never.
   */
  observe?: (call: Observed) => ((end: CallEnd) => void) | undefined;
  /**
   * --confirm and --confirm-fallback, and who the caller is (an HTTP client id; `stdio`): a
   * confirmation sealed for one caller is refused to another. Absent: destructive, allow, `local`.
   */
  confirm?: {
    mode?: ConfirmMode;
    fallback?: ConfirmFallback;
    /** How long the user has to answer a question, in seconds (--confirm-timeout). */
    timeoutSeconds?: number;
    caller?: string;
    sealer?: Sealer;
  };
}

/** What the observe hook is told: one tool call, prompt get or resource read. */
export type Observed =
  | { event: 'tool_call'; tool: string; safety: Safety; args: unknown; engine?: string }
  | { event: 'prompt_get'; prompt: string; args: unknown; engine?: string }
  | { event: 'resource_read'; uri: string; engine?: string };

export interface CallEnd {
  /** Undefined only if the pipeline itself threw. */
  outcome?: Outcome;
  durationMs: number;
}

const MODE_NAMES: Record<string, string> = {
  safe: 'read-only',
  'safe+moderate': 'default: safe+moderate',
  'safe+moderate+destructive': 'all tiers',
};

/** The server's version and a readable account of its safety profile, as gate() applies it. */
export function serverFacts(version: string, profile: SafetyProfile): ServerFacts {
  const moderate = profile.allowModerate && !profile.readOnly;
  const destructive = profile.allowDestructive && !profile.readOnly;
  const tiers: Safety[] = [
    'safe',
    ...(moderate ? ['moderate' as const] : []),
    ...(destructive ? ['destructive' as const] : []),
  ];
  const key = tiers.join('+');
  return {
    version,
    safetyMode: {
      summary: MODE_NAMES[key] ?? key,
      tiers,
      allowedTools: [...profile.allowedTools],
      deniedTools: [...profile.deniedTools],
    },
  };
}

export interface CallOptions {
  /** The client's cancel: an AbortSignal, or a transport's Cancellation (signal.ts). */
  signal?: AbortSignal | Cancellation;
  /** The engine the call names; the default one when unset. (#11: set from the call's `engine` argument.) */
  engine?: string;
  /** Which tool lists each kind of object (listersOf the catalogue): named in a not-found's hint. */
  listers?: Listers;
  /** Finds a catalogue tool by name: a tool that declares `needsGate` asks the gate about others. */
  tools?: (name: string) => AnyTool | undefined;
  sendProgress?: (p: { progress: number; total?: number; message?: string }) => void;
  /** Whether the client can ask its user, and the answer round's state and answer (confirm.ts). */
  confirm?: ConfirmChannel;
}

/**
 * `confirmation` is set when the call needed it (audited). `asked`: the call stopped to put a question
 * to the user; the transport asks it (elicitation) and calls again with the answer and the state.
 */
export type Outcome =
  | { ok: true; data: Record<string, unknown>; confirmation?: Confirmation }
  | { ok: false; error: ToolError; confirmation?: Confirmation; asked?: Asked };

export interface Asked {
  question: Question;
  /** Sealed (seal.ts): bound to the tool, the arguments, the engine and the caller; single-use. */
  state: string;
}

const DEFAULT_NARROW = 'Narrow the request (filters, limits, or a smaller window).';

/**
 * The single path every tool call takes: gate → validate → policy → run → redact → fence → cap → map
 * errors. The cap is last, so nothing added after it can break the limit.
 */
export async function runPipeline(
  tool: AnyTool,
  rawArgs: unknown,
  env: PipelineEnv,
  call: CallOptions = {},
): Promise<Outcome> {
  // Before anything walks them (masking, the gate, validation recurse): refused and audited, args unshown.
  const deep = tooDeepArgument(rawArgs);
  if (deep !== undefined) {
    const outcome = fail(tooDeep(deep), undefined, env.engines);
    env.observe?.({ event: 'tool_call', tool: tool.name, safety: tool.safety, args: {} })?.({
      outcome,
      durationMs: 0,
    });
    return outcome;
  }
  // With several engines, `engine` is the pipeline's argument, not the tool's: taken out here.
  const taken = takeEngineArg(rawArgs, env.engines);
  const toolArgs = taken.args;
  const named = call.engine ?? taken.named;
  const args = tool.composeArgs ? await shownArgs(toolArgs, tool) : maskSecretArgs(toolArgs, tool.secretArgs);
  // The tier the call runs at: an escalating argument (a forced tag move) is audited as destructive.
  const raw = toolArgs && typeof toolArgs === 'object' ? (toolArgs as Record<string, unknown>) : undefined;
  const safety = tierOf(tool, raw).tier;
  const end = env.observe?.({
    event: 'tool_call',
    tool: tool.name,
    safety,
    args,
    ...engineObserved(env.engines, env.profile, named),
  });
  // Every engine request and host file of the call is checked under the server's policy.
  // runStages reads the engine from `named` alone (call.engine is folded into it above).
  const stages = () => withPolicy(env.policy, env.host, () => runStages(tool, toolArgs, env, call, named));
  if (!end) return stages();
  const started = performance.now();
  let outcome: Outcome | undefined;
  try {
    outcome = await stages();
    return outcome;
  } finally {
    // A secret result is the caller's alone: the observer learns only that the call succeeded.
    const told =
      tool.secretResult && outcome?.ok
        ? { ok: true as const, data: {}, confirmation: outcome.confirmation }
        : outcome;
    end({ outcome: told, durationMs: performance.now() - started });
  }
}

async function runStages(
  tool: AnyTool,
  rawArgs: unknown,
  env: PipelineEnv,
  call: Omit<CallOptions, 'engine'>,
  named: unknown,
): Promise<Outcome> {
  const secrets = secretValues(rawArgs, tool.secretArgs);
  // What the handler learned while running (ctx.conceal), masked in its errors with `secrets`.
  const concealed: string[] = [];
  const given = isRecord(rawArgs) ? rawArgs : {};
  const decision = gate(tool, env.profile, { args: given });
  if (!decision.allowed) {
    // Refused server-wide before an engine is chosen: named as the engine the call would have used.
    const on = engineOfRefusal(env.engines, env.profile, named, tierOf(tool, given).tier !== 'safe');
    return fail(
      new ToolError('policy_denied', `${decision.reason}.`, { hint: decision.hint }),
      on,
      env.engines,
    );
  }

  let signal: ReturnType<typeof callSignal> | undefined;
  let progress: ReturnType<typeof throttledProgress> | undefined;
  let engine: EngineHandle | undefined;
  let confirmation: Confirmation | undefined;
  try {
    // A call that changes state names its engine when there are several; a read may use the default.
    const tier = tierOf(tool, given).tier;
    engine = chooseEngine(env.engines, env.profile, named, tier === 'safe' ? undefined : tool.name);
    const admitted = admit(tool, given, rawArgs, env.profile, engine, tier);
    const args = admitted instanceof Promise ? await admitted : admitted;
    if (tool.actsOn) admitOthers(tool, args, env, call.tools);

    const extra = tool.timeoutArg ? Number(args[tool.timeoutArg] ?? 0) * 1000 : 0;
    // A long operation's own default never shortens a longer configured one.
    const timeoutMs = Math.max(tool.timeoutMs ?? 0, env.defaultTimeoutMs, extra > 0 ? extra + 5000 : 0);
    signal = callSignal(call.signal, timeoutMs, tool.name, env.stopping, tool.idempotent);
    progress = throttledProgress(call.sendProgress);
    const connected = connect(tool, engine, env, signal);
    const { session, unreachable } = connected instanceof Promise ? await connected : connected;
    const ctx = handlerContext(
      tool,
      env,
      call.tools,
      engine,
      session,
      unreachable,
      signal,
      progress,
      concealed,
    );
    const mode = env.profile.confirm ?? env.confirm?.mode ?? 'destructive';
    const confirmed: Confirmed = needsConfirmation(tier, mode)
      ? await confirmStep(tool, mode, rawArgs, args, ctx, engine.name, env, call, signal)
      : {};
    if ('outcome' in confirmed) return confirmed.outcome;
    confirmation = confirmed.confirmation;
    if (confirmed.plan !== undefined) ctx.confirmed = confirmed.plan;
    const data = (await signal.race(tool.handler(args, ctx))) as Record<string, unknown>;
    progress.flush();
    return finished(tool, data, args, env, engine.name, confirmation);
  } catch (e) {
    const hidden = concealed.length
      ? [...secrets, ...concealed].sort((a, b) => b.length - a.length)
      : secrets;
    const out = failed(e, tool, env, call.listers, hidden, signal, engine);
    return confirmation ? { ...out, confirmation } : out;
  } finally {
    progress?.cancel(); // a late, held-back value must not follow the result
    signal?.dispose();
  }
}

// runStages' steps apart: each is compiled on its own when it gets hot. As one function (3,285
// bytecodes) the optimizing tier compiled it at about the 820th call, 10 ms of compiling that raised
// the session's peak RSS by ~1.4 MiB (bench/changes.md).

/** On the chosen engine: its gate, validation and the argument policy; the call's valid arguments. */
function admit(
  tool: AnyTool,
  given: Record<string, unknown>,
  rawArgs: unknown,
  profile: SafetyProfile,
  engine: EngineHandle,
  tier: Safety,
): Record<string, unknown> | Promise<Record<string, unknown>> {
  const onThis = gate(tool, profile, { args: given, engine });
  if (!onThis.allowed) throw new ToolError('policy_denied', `${onThis.reason}.`, { hint: onThis.hint });
  const checked = (args: Record<string, unknown>) => {
    checkArgumentPolicy(args, engine.facts, tool.hostPaths, tier === 'safe');
    return args;
  };
  const valid = validateArgs(tool.input, rawArgs, tool.name);
  return valid instanceof Promise ? valid.then(checked) : checked(valid);
}

/**
 * The other engines the call acts on (its `actsOn` arguments): each must be one the caller may use,
 * and allow there what the call does (the named tool's gate, with this call's arguments).
 */
function admitOthers(
  tool: AnyTool,
  args: Record<string, unknown>,
  env: PipelineEnv,
  tools: CallOptions['tools'],
): void {
  for (const [arg, as] of Object.entries(tool.actsOn as Record<string, string>)) {
    const name = args[arg];
    if (name === undefined) continue;
    const mine = callerEngines(env.engines, env.profile);
    if (typeof name !== 'string' || !mine.includes(name))
      throw new ToolError(
        'invalid_argument',
        `invalid argument '${arg}': no engine named '${String(name).slice(0, 60)}'`,
        {
          hint: `Use one of: ${mine.join(', ') || '(none)'} (see docker_list_engines).`,
          retryable: false,
        },
      );
    const there = tools?.(as);
    const d = there
      ? gate(there, env.profile, { args, engine: env.engines.resolve(name) })
      : {
          allowed: false as const,
          reason: `${as} is not in this server's catalogue`,
          hint: 'Report it: the server is misconfigured.',
        };
    if (!d.allowed)
      throw new ToolError(
        'policy_denied',
        `${tool.name} uses engine '${name}' (${arg}) too, and ${d.reason}.`,
        { hint: d.hint },
      );
  }
}

/** What the handler gets: the session, the call's signal and progress, and what the tool asked for. */
function handlerContext(
  tool: AnyTool,
  env: PipelineEnv,
  tools: CallOptions['tools'],
  engine: EngineHandle,
  session: Parameters<AnyTool['handler']>[1]['engine'],
  unreachable: ToolError | undefined,
  signal: CallSignal,
  progress: ReturnType<typeof throttledProgress>,
  concealed: string[],
): Parameters<AnyTool['handler']>[1] {
  return {
    engine: session,
    signal: signal.signal,
    progress,
    limits: env.limits,
    server: env.server,
    dockerConfigDir: env.dockerConfigDir,
    told: (e) => shown(e, tool, env).message,
    conceal: (values) => {
      for (const v of values) if (v.length >= 3) concealed.push(v);
    },
    ...(!env.remote && env.host.environ && { processEnv: env.host.environ }),
    ...(unreachable && { unreachable }),
    ...(tool.needsEngines && { engines: engineList(env) }),
    ...(tool.needsGate && gateOn(env.profile, engine, tools)),
  };
}

/** The handler's result through redaction, the fence and the cap (last). */
function finished(
  tool: AnyTool,
  data: Record<string, unknown>,
  args: Record<string, unknown>,
  env: PipelineEnv,
  engine: string,
  confirmation: Confirmation | undefined,
): Outcome {
  // A secret result (a join token) is what the caller asked for: it is not masked, only never logged.
  const clean = tool.secretResult
    ? { value: data, json: undefined }
    : redactResult(tool.untrustedBase64 ? redactBase64(data, tool.untrustedBase64) : data);
  const fenced = screenFields(
    fenceResult(clean.value, tool.untrusted, args, env.logFilter),
    tool.screened,
    env.logFilter,
  );
  // A remote caller does not see the server host's paths, names and addresses (remote-errors.ts).
  const shownToCaller = env.remote && tool.hostDetails ? hideHostDetails(fenced, tool.hostDetails) : fenced;
  // With several engines the result says which one answered (before the cap, which stays last).
  const said = severalEngines(env.engines) ? { ...shownToCaller, engine } : shownToCaller;
  const capped = capResult(
    said,
    env.limits.maxResponseBytes,
    tool.keep ?? 'head',
    tool.narrowHint ?? DEFAULT_NARROW,
    // Redaction's JSON is the result's own while nothing after it changed the value.
    said === clean.value ? clean.json : undefined,
  );
  return {
    ok: true,
    data: capped.truncated ? { ...capped.value, truncated: capped.truncated } : capped.value,
    ...(confirmation && { confirmation }),
  };
}

/** `data` with the secrets in its base64 `fields` masked in the bytes, and `redacted: true` when any were. */
function redactBase64(data: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  let out = data;
  for (const field of fields) {
    const value = data[field];
    if (typeof value !== 'string') continue;
    const masked = redactBytes(Buffer.from(value, 'base64'));
    if (masked) out = { ...out, [field]: Buffer.from(masked).toString('base64'), redacted: true };
  }
  return out;
}

/** Any error of the call as the caller sees it: mapped, scrubbed, secrets out, the engine named. */
function failed(
  e: unknown,
  tool: AnyTool,
  env: PipelineEnv,
  listers: CallOptions['listers'],
  secrets: ReturnType<typeof secretValues>,
  signal: CallSignal | undefined,
  engine: EngineHandle | undefined,
): Outcome {
  // Outside text the error quotes is screened before secrets are masked in it.
  const error = renderQuote(
    mapError(e, {
      aborted: signal?.reason(),
      scrub: engine?.facts.socketPaths ?? [],
      endpoint: engine?.info()?.url,
      listers,
    }),
    env.logFilter,
  );
  if (error.kind === 'engine_unreachable') engine?.invalidate();
  return fail(shown(withoutSecrets(error, secrets), tool, env), engine?.name, env.engines);
}

/** Whether, and if not why, the caller may call the tool `name` on `engine`, as its gate decides. */
function gateOn(profile: SafetyProfile, engine: EngineHandle, tools: CallOptions['tools']) {
  const refusal = (name: string): string | undefined => {
    const other = tools?.(name);
    if (other === undefined) return `${name} is not a tool of this server`;
    const d = gate(other, profile, { engine });
    return d.allowed ? undefined : d.reason;
  };
  return { refusal, allows: (name: string) => refusal(name) === undefined };
}

type Confirmed = { outcome: Outcome } | { confirmation?: Confirmation; plan?: unknown };

/**
 * The confirm step (confirm.ts) for a call whose tier `mode` asks about, after the gate, validation
 * and policy and before the handler: the answer round (run the accepted plan, or end: declined); a
 * question (preview from the engine, sealed state); or a client that cannot ask (--confirm-fallback).
 */
async function confirmStep(
  tool: AnyTool,
  mode: ConfirmMode,
  rawArgs: unknown,
  args: Record<string, unknown>,
  ctx: Parameters<AnyTool['handler']>[1],
  engine: string,
  env: PipelineEnv,
  call: CallOptions,
  signal: CallSignal,
): Promise<Confirmed> {
  const sealer = env.confirm?.sealer ?? processSealer;
  const binding = { tool: tool.name, args: rawArgs ?? {}, engine, caller: env.confirm?.caller ?? 'local' };
  const channel = call.confirm;
  const ttl = env.confirm?.timeoutSeconds;
  if (channel?.answer) {
    const settled = settle(channel.answer, binding, sealer, ttl);
    if (settled.run) return { confirmation: settled.confirmation, plan: settled.plan };
    const out = fail(settled.error, engine, env.engines);
    return { outcome: settled.confirmation ? { ...out, confirmation: settled.confirmation } : out };
  }
  if (!channel?.canAsk) {
    if ((env.confirm?.fallback ?? 'allow') === 'allow') return { confirmation: 'unconfirmed' };
    return {
      outcome: fail(cannotAsk(tool.name, mode, env.remote !== undefined), engine, env.engines),
    };
  }
  const preview = tool.preview ? await signal.race(tool.preview(args, ctx)) : undefined;
  // Nothing to remove: the handler acts on the empty plan (removes nothing), unasked.
  if (nothingToAsk(preview)) return { plan: preview?.plan };
  // Without a preview the question shows the arguments: secret ones masked, as everywhere else.
  const question = questionOf(tool.name, engine, preview, redact(await shownArgs(rawArgs, tool)));
  const state = sealer.seal(binding, preview?.plan, ttl === undefined ? undefined : ttl * 1000);
  return {
    outcome: {
      ok: false,
      error: new ToolError('cancelled', 'waiting for the user to confirm; nothing changed yet', {
        retryable: false,
      }),
      asked: { question, state },
    },
  };
}

/**
 * Every engine this caller may use, as docker_list_engines reports them: each with its own
 * connection (addresses and paths hidden from a remote caller), and what the caller may do there:
 * the engine's ceiling narrowed by the caller's profile (server-wide settings, or a credential's), as
 * the gate applies both. The ceiling alone would show destructive calls the server refuses.
 */
function engineList(env: PipelineEnv): EngineEntry[] {
  const { remote, profile } = env;
  const fallback = defaultEngineFor(env.engines, profile);
  return callerEngines(env.engines, profile).map((name) => {
    const e = env.engines.resolve(name);
    return {
      name,
      ...(e.description !== undefined && { description: e.description }),
      ceiling: engineTiers(profile, e.ceiling),
      isDefault: name === fallback,
      access: remote ? remoteEngineView(e, (err) => forRemote(err, `engine ${name}`, remote)) : e,
    };
  });
}

/**
 * The session for this call on `engine`, as this caller may see it (addresses hidden from remote
 * callers). An `engine: 'optional'` tool runs without a connection, told why there is none.
 */
function connect(
  tool: AnyTool,
  engine: EngineHandle,
  env: PipelineEnv,
  signal: CallSignal,
): Connected | Promise<Connected> {
  const access = env.remote ? remoteEngineView(engine, (e) => shown(e, tool, env)) : engine;
  // A tool that reports on every engine probes each itself, under its own timeout.
  if (tool.needsEngines) return { session: sessionOf(engine, undefined, access) };
  if (tool.engine !== 'requests') return connectClient(tool, engine, access, env, signal);
  // Connected already (most calls): the session at once, no await.
  const requests = engine.requests(signal.signal);
  return requests instanceof Promise
    ? requests.then((r) => ({ session: sessionOf(engine, r, access) }))
    : { session: sessionOf(engine, requests, access) };
}

interface Connected {
  session: EngineSession<Dockerode | EngineRequests | undefined>;
  unreachable?: ToolError;
}

/** connect() for a tool that uses the full client (dockerode). */
async function connectClient(
  tool: AnyTool,
  engine: EngineHandle,
  access: EngineAccess,
  env: PipelineEnv,
  signal: CallSignal,
): Promise<Connected> {
  if (tool.engine !== 'optional')
    return { session: sessionOf(engine, await engine.client(signal.signal), access) };
  try {
    return { session: sessionOf(engine, await engine.client(signal.signal), access) };
  } catch (e) {
    // Only "no engine answered" is handed over; a cancel or timeout still ends the call.
    const error = mapError(e, { aborted: signal.reason(), scrub: engine.facts.socketPaths });
    if (error.kind !== 'engine_unreachable') throw e;
    return { session: sessionOf(engine, undefined, access), unreachable: shown(error, tool, env) };
  }
}

/**
 * The error as this call's caller may see it: the outside text it quotes screened; whole over stdio,
 * without addresses or paths when remote.
 */
const shown = (e: ToolError, tool: AnyTool, env: PipelineEnv): ToolError => {
  const error = renderQuote(e, env.logFilter);
  return env.remote ? forRemote(error, tool.name, env.remote) : error;
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A failed call's outcome: its words redacted, then the engine named (onEngine, in that order). */
const fail = (e: ToolError, engine: string | undefined, engines: EngineRegistry): Outcome => ({
  ok: false,
  error: onEngine(e, engine, engines),
});
