import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  type JSONRPCRequest,
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  type Result,
  SdkError,
  SdkErrorCode,
  Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { answerRound, answerWithinMs, type Reply, UnknownToolError } from './call-result.ts';
import type { CompleteKind } from './core/content.ts';
import { ToolError } from './core/errors.ts';
import { type Completion, completeContainers, completeNames } from './docker/complete.ts';
import { CAPABILITIES, serverInfo } from './initialize.ts';
import { QUESTION_KEY } from './pipeline/confirm.ts';
import { runContent, serveContent } from './pipeline/content.ts';
import {
  callerEngines,
  chooseEngine,
  ENGINE_ARG,
  engineArgument,
  engineObserved,
  severalEngines,
} from './pipeline/engine-choice.ts';
import { type GateDecision, type GatedContent, gate, gateContent } from './pipeline/gate.ts';
import { promptAllowed, promptArgs } from './prompts/define.ts';
import { prompts as allPrompts } from './prompts/index.ts';
import {
  type CataloguedResource,
  engineOf,
  isByEngine,
  isTemplate,
  onNamedEngine,
  resolveUri,
  resourceAllowed,
  templateVars,
} from './resources/define.ts';
import { resources as allResources } from './resources/index.ts';
import { type ListenSink, Subscriptions } from './resources/subscriptions.ts';
import {
  callTool,
  confirmChannel,
  listersFor,
  listTools,
  type ServerDeps,
  toolLookup,
} from './tool-calls.ts';

export type { ServerDeps } from './tool-calls.ts';

/** Per-connection hooks from the transport. */
export interface Connection {
  /** The 2026-era `subscriptions/listen` streams, seen on the wire (see ListenTap). */
  listens?: { attach(sink: ListenSink): () => void };
}

/** Builds one MCP server from the catalogue for one caller's safety profile; both transports use it. */
export function buildServer(deps: ServerDeps, conn: Connection = {}): Server {
  const server = new ParamsCheckedServer(serverInfo(deps.version), {
    capabilities: structuredClone(CAPABILITIES),
  });
  server.setRequestHandler('tools/list', () => listTools(deps));
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const token = request.params._meta?.progressToken;
    const sendProgress =
      token === undefined
        ? undefined
        : (p: { progress: number; total?: number; message?: string }) =>
            void ctx.mcpReq
              .notify({ method: 'notifications/progress', params: { progressToken: token, ...p } })
              .catch(() => {});
    // --confirm: a 2026-era client answers through the input-required round trip (the state it
    // holds expires after --confirm-timeout); on an initialize-era connection the question goes out
    // here with elicitation/create, withdrawn when unanswered in time.
    const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
    const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? server.getClientCapabilities();
    const confirm = confirmChannel(declared, ctx.mcpReq.requestState(), ctx.mcpReq.inputResponses);
    const modern = isModern(server.getNegotiatedProtocolVersion());
    const opts = { signal: ctx.mcpReq.signal, sendProgress, modern };
    try {
      const result = await callTool(deps, request.params, { ...opts, confirm });
      if (!('asked' in result)) return result;
      if (!modern)
        return await answerRound(
          result.asked,
          (question) => ask(ctx, question, answerWithinMs(deps.env.confirm?.timeoutSeconds)),
          (answer) =>
            callTool(deps, request.params, {
              ...opts,
              // The call's own signal has fired: the closing round only settles (and is audited).
              ...(answer.action === 'ended' && { signal: new AbortController().signal }),
              confirm: { canAsk: true, answer },
            }),
        );
      const { question, state: sealed } = result.asked;
      return inputRequired({
        inputRequests: { [QUESTION_KEY]: inputRequired.elicit({ mode: 'form', ...question }) },
        requestState: sealed,
      });
    } catch (e) {
      if (e instanceof UnknownToolError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, e.message);
      throw e;
    }
  });
  const completePrompt = servePrompts(server, deps);
  const completeResource = serveResources(server, deps, conn);
  server.setRequestHandler('completion/complete', async (request, ctx) => {
    const { ref, argument } = request.params;
    // An argument completed on a named engine: the `engine` already chosen in the same request.
    const chosen = request.params.context?.arguments?.[ENGINE_ARG];
    const complete =
      ref.type === 'ref/prompt'
        ? await completePrompt(ref.name, argument.name, chosen)
        : await completeResource(ref.uri, argument.name, chosen);
    const completion = complete ? await complete(argument.value, ctx.mcpReq.signal) : NO_COMPLETION;
    return { completion };
  });
  return server;
}

/**
 * The SDK checks the params of prompts/get and resources/read against its wire schema and throws a plain
 * Error on a mismatch, which reaches the client as -32603 with the schema library's issue list. A
 * mistyped param is the caller's fault: it is checked here first and answered -32602 naming it (as
 * tools/call already is).
 */
class ParamsCheckedServer extends Server {
  protected override _wrapHandler(
    method: string,
    handler: (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>,
  ): (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result> {
    const wrapped = super._wrapHandler(method, handler);
    const check = PARAM_CHECKS[method];
    if (!check) return wrapped;
    return (request, ctx) => {
      const problem = check(request.params ?? {});
      if (problem)
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `invalid ${method} params: ${problem}`);
      return wrapped(request, ctx);
    };
  }
}

/** What is wrong with a request's params, or undefined; each names the param (paramsProblem). */
const PARAM_CHECKS: Record<string, (params: Record<string, unknown>) => string | undefined> = {
  'prompts/get': (p) => paramsProblem(p, 'name') ?? stringMapProblem(p.arguments, 'arguments'),
  'resources/read': (p) => paramsProblem(p, 'uri'),
};

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A required string param: missing or of another type. */
export function paramsProblem(params: Record<string, unknown>, key: string): string | undefined {
  const v = params[key];
  if (v === undefined) return `'${key}' is required`;
  return typeof v === 'string' ? undefined : `'${key}' must be a string, got ${typeOf(v)}`;
}

/** An optional map of strings (prompt arguments): another type, or a value that is not a string. */
export function stringMapProblem(v: unknown, key: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeOf(v) !== 'object') return `'${key}' must be an object of strings, got ${typeOf(v)}`;
  for (const [k, x] of Object.entries(v as Record<string, unknown>))
    if (typeof x !== 'string')
      return `'${key}' value ${JSON.stringify(k)} must be a string, got ${typeOf(x)}`;
  return undefined;
}

/**
 * Puts a question to an initialize-era client (elicitation/create on the call's own stream). When no
 * answer comes within `within` ms the SDK withdraws it (`notifications/cancelled`); so it does when
 * the client cancels the call (or its session or connection ends), which then ends `cancelled`,
 * nothing changed, audited `abandoned`.
 */
async function ask(ctx: ServerContext, params: Record<string, unknown>, within: number): Promise<Reply> {
  const { signal } = ctx.mcpReq;
  try {
    return {
      result: await ctx.mcpReq.send({ method: 'elicitation/create', params }, { signal, timeout: within }),
    };
  } catch (e) {
    if (signal.aborted) return 'ended';
    if (e instanceof SdkError && e.code === SdkErrorCode.RequestTimeout) return 'unanswered';
    return { error: e };
  }
}

/** A content failure as a protocol error: the one-line message tools use, and `{kind, retryable, hint}` as data. */
function protocolError(e: unknown, uri?: string): ProtocolError {
  const err = e instanceof ToolError ? e : new ToolError('internal', 'unexpected error');
  const text = `${err.kind}: ${err.message}${err.hint ? ` — ${err.hint}` : ''}`;
  if (uri !== undefined && err.kind === 'not_found') return new ResourceNotFoundError(uri, text);
  // A refusal is about the request (what it asks for), not a fault of the server.
  const code =
    err.kind === 'invalid_argument' || err.kind === 'not_found' || err.kind === 'policy_denied'
      ? ProtocolErrorCode.InvalidParams
      : ProtocolErrorCode.InternalError;
  return new ProtocolError(code, text, {
    kind: err.kind,
    retryable: err.retryable,
    ...(err.hint && { hint: err.hint }),
  });
}

const NO_COMPLETION: Completion = { values: [], total: 0, hasMore: false };

/**
 * The caller's gate for each prompt or resource on offer, decided once per server (the catalogue it
 * needs is loaded on first use over stdio): the same predicate for the listing, the get or read, and
 * completion.
 */
function gatesFor<T extends GatedContent>(
  deps: ServerDeps,
  offered: readonly T[],
): () => Promise<Map<T, GateDecision>> {
  let decided: Promise<Map<T, GateDecision>> | undefined;
  return () => {
    decided ??= toolLookup(deps).then(
      (tools) => new Map(offered.map((item) => [item, gateContent(item, tools, deps.env.profile)])),
    );
    return decided;
  };
}

/** A completion or subscription the caller's gate refuses, worded as a refused get or read is. */
const refused = (label: string, d: Extract<GateDecision, { allowed: false }>): ProtocolError =>
  protocolError(new ToolError('policy_denied', `${label} is refused: ${d.reason}.`, { hint: d.hint }));

function servePrompts(
  server: Server,
  deps: ServerDeps,
): (name: string, argument: string, engine?: string) => Promise<Completer> {
  const several = severalEngines(deps.env.engines);
  const offered = (deps.prompts ?? allPrompts).filter((p) => promptAllowed(p, deps.allowedPrompts ?? []));
  const gates = gatesFor(deps, offered);
  const byName = new Map(offered.map((p) => [p.name, p]));
  const find = (name: string) => {
    const p = byName.get(name);
    if (p) return p;
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `Unknown prompt '${name}'. Call prompts/list to see the prompts.`,
    );
  };
  const listed = (p: (typeof offered)[number]) => ({
    name: p.name,
    title: p.title,
    description: p.description,
    arguments: [
      ...p.arguments.map((a) => ({
        name: a.name,
        description: a.description,
        required: Boolean(a.required),
      })),
      // With several engines every prompt may name the one it reads; the default otherwise.
      ...(several ? [engineArgument(deps.env.engines, deps.env.profile)] : []),
    ],
  });

  server.setRequestHandler('prompts/list', async () => {
    const decided = await gates();
    return { prompts: offered.filter((p) => decided.get(p)?.allowed).map(listed) };
  });
  server.setRequestHandler('prompts/get', async (request, ctx) => {
    const prompt = find(request.params.name);
    const decision = (await gates()).get(prompt) ?? DENIED;
    const { [ENGINE_ARG]: engine, ...given } = request.params.arguments ?? {};
    const args = several ? given : (request.params.arguments ?? {});
    const named = several ? engine : undefined;
    try {
      const text = await serveContent(
        deps.env,
        {
          observed: {
            event: 'prompt_get',
            prompt: prompt.name,
            args,
            ...engineObserved(deps.env.engines, deps.env.profile, named),
          },
          decision,
          label: `prompt ${prompt.name}`,
          listers: await listersFor(deps),
          ...(named !== undefined && { engine: named }),
        },
        ctx.mcpReq.signal,
        () => promptArgs(prompt, args),
        (args, c) => prompt.build(args, c),
      );
      return {
        description: prompt.description,
        messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }],
      };
    } catch (e) {
      throw protocolError(e);
    }
  });
  return async (name, argument, engine) => {
    const prompt = find(name);
    const decision = (await gates()).get(prompt) ?? DENIED;
    if (!decision.allowed) throw refused(`prompt ${prompt.name}`, decision);
    if (several && argument === ENGINE_ARG)
      return async (value) => completeNames(callerEngines(deps.env.engines, deps.env.profile), value);
    return completer(deps, prompt.arguments.find((a) => a.name === argument)?.complete, engine);
  };
}

const DENIED: GateDecision = {
  allowed: false,
  reason: 'it is not in the catalogue',
  hint: 'Report it: the server is misconfigured.',
};

/** How to complete one argument, or undefined when it has no completion. */
type Completer = ((value: string, signal: AbortSignal) => Promise<Completion>) | undefined;

/**
 * Container completion is a courtesy: an engine problem answers no values rather than an error, and
 * so does a caller whose gate refuses docker_list_containers (the names are that tool's data).
 */
const completer = (deps: ServerDeps, kind: CompleteKind | undefined, engine?: string): Completer =>
  kind &&
  (async (value, signal) => {
    const list = (await toolLookup(deps))('docker_list_containers');
    if (!list || !gate(list, deps.env.profile).allowed) return NO_COMPLETION;
    const named = severalEngines(deps.env.engines) ? engine : undefined;
    try {
      return await runContent(
        deps.env,
        'completion',
        signal,
        (c) => completeContainers(c.engine.docker, kind, value, c.signal),
        undefined,
        named,
      );
    } catch {
      return NO_COMPLETION;
    }
  });

function serveResources(
  server: Server,
  deps: ServerDeps,
  conn: Connection,
): (uri: string, argument: string, engine?: string) => Promise<Completer> {
  const allowedHere = (deps.resources ?? allResources).filter((r) =>
    resourceAllowed(r, deps.allowedResources ?? []),
  );
  // With several engines each resource also has a template naming the engine; today's URIs keep
  // meaning the default one.
  const offered: CataloguedResource[] = severalEngines(deps.env.engines)
    ? [...allowedHere, ...allowedHere.map(onNamedEngine)]
    : [...allowedHere];
  const gates = gatesFor(deps, offered);
  /** The resource a URI names, refused unless the caller's gate allows it. */
  const allowed = async (uri: string) => {
    const hit = resolve(uri);
    const decision = (await gates()).get(hit.resource) ?? DENIED;
    return { ...hit, decision };
  };
  const resolve = (uri: string) => {
    const hit = resolveUri(offered, uri);
    if (hit) return hit;
    throw new ResourceNotFoundError(
      uri,
      `Unknown resource '${uri}'. Call resources/list and resources/templates/list to see what there is.`,
    );
  };
  const visible = async () => {
    const decided = await gates();
    return offered.filter((r) => decided.get(r)?.allowed);
  };
  const fixed = (shown: typeof offered) =>
    shown.flatMap((r) =>
      isTemplate(r)
        ? []
        : [{ uri: r.uri, name: r.name, title: r.title, description: r.description, mimeType: r.mimeType }],
    );
  const templates = (shown: typeof offered) =>
    shown.flatMap((r) =>
      isTemplate(r)
        ? [
            {
              uriTemplate: r.uriTemplate,
              name: r.name,
              title: r.title,
              description: r.description,
              mimeType: r.mimeType,
            },
          ]
        : [],
    );

  server.setRequestHandler('resources/list', async () => ({ resources: fixed(await visible()) }));
  server.setRequestHandler('resources/templates/list', async () => ({
    resourceTemplates: templates(await visible()),
  }));
  server.setRequestHandler('resources/read', async (request, ctx) => {
    const { uri } = request.params;
    const hit = await allowed(uri);
    const { resource, decision } = hit;
    const { engine, vars } = engineOf(resource, hit.vars);
    let mimeType = resource.mimeType;
    let meta: Record<string, unknown> | undefined;
    try {
      const text = await serveContent(
        deps.env,
        {
          observed: {
            event: 'resource_read',
            uri,
            ...engineObserved(deps.env.engines, deps.env.profile, engine),
          },
          decision,
          label: `read ${uri}`,
          mimeType,
          ...(resource.whole && { whole: true }),
          listers: await listersFor(deps),
          ...(engine !== undefined && { engine }),
        },
        ctx.mcpReq.signal,
        () => templateVars(resource, vars),
        async (v, c) => {
          const content = await resource.read(v, c);
          mimeType = content.mimeType;
          meta = content._meta;
          return content.text;
        },
      );
      return { contents: [{ uri, mimeType, text, ...(meta && { _meta: meta }) }] };
    } catch (e) {
      throw protocolError(e, uri);
    }
  });

  // One watcher per URI for this connection, whichever era subscribed; all stop when it closes.
  const subs = new Subscriptions(
    (uri, changed) => {
      const hit = resolveUri(offered, uri);
      const watch = hit?.resource.watch;
      if (!hit || !watch) return undefined;
      const { engine, vars } = engineOf(hit.resource, hit.vars);
      let on: ReturnType<typeof chooseEngine>;
      try {
        on = chooseEngine(deps.env.engines, deps.env.profile, engine);
      } catch {
        return undefined;
      }
      const stop = new AbortController();
      watch(vars, { engine: on, signal: stop.signal, changed }).catch(() => {});
      return () => stop.abort();
    },
    (uri) => void server.sendResourceUpdated({ uri }).catch(() => {}),
  );
  const detach = conn.listens?.attach(subs);
  const previousClose = server.onclose;
  server.onclose = () => {
    detach?.();
    subs.close();
    previousClose?.();
  };

  server.setRequestHandler('resources/subscribe', async (request, ctx) => {
    const { uri } = request.params;
    const hit = await allowed(uri);
    const { resource, decision } = hit;
    const { engine, vars } = engineOf(resource, hit.vars);
    if (!decision.allowed) throw refused(`subscribe ${uri}`, decision);
    if (!resource.watch)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Resource '${uri}' does not support subscriptions.`,
      );
    const check = resource.check;
    try {
      templateVars(resource, vars);
      // A named engine is checked too (the caller may use it), before anything is watched.
      if (check || engine !== undefined)
        await runContent(
          deps.env,
          `subscribe ${uri}`,
          ctx.mcpReq.signal,
          async (c) => {
            if (check) await check(vars, c);
          },
          undefined,
          engine,
        );
    } catch (e) {
      throw protocolError(e, uri);
    }
    try {
      subs.subscribe(uri);
    } catch (e) {
      throw protocolError(e, uri);
    }
    return {};
  });
  server.setRequestHandler('resources/unsubscribe', (request) => {
    subs.unsubscribe(request.params.uri);
    return {};
  });

  return async (uri, argument, engine) => {
    const r = offered.find((x) => (isTemplate(x) ? x.uriTemplate : x.uri) === uri);
    if (!r)
      throw new ResourceNotFoundError(
        uri,
        `Unknown resource template '${uri}'. Call resources/templates/list to see them.`,
      );
    const decision = (await gates()).get(r) ?? DENIED;
    if (!decision.allowed) throw refused(`resource ${uri}`, decision);
    if (isByEngine(r) && argument === ENGINE_ARG)
      return async (value) => completeNames(callerEngines(deps.env.engines, deps.env.profile), value);
    return completer(deps, isTemplate(r) ? r.complete?.[argument] : undefined, engine);
  };
}

const isModern = (version: string | undefined) => version !== undefined && version >= '2026-07-28';
