import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  Server,
} from '@modelcontextprotocol/server';
import { ToolError } from './core/errors.ts';
import { runContent } from './pipeline/content.ts';
import { promptAllowed, promptArgs } from './prompts/define.ts';
import { prompts as allPrompts } from './prompts/index.ts';
import { type CompleteKind, type Completion, completeContainers } from './resources/complete.ts';
import { isTemplate, resolveUri, resourceAllowed } from './resources/define.ts';
import { resources as allResources } from './resources/index.ts';
import { type ListenSink, Subscriptions } from './resources/subscriptions.ts';
import {
  CAPABILITIES,
  callTool,
  listTools,
  type ServerDeps,
  serverInfo,
  UnknownToolError,
} from './tool-calls.ts';

export type { ServerDeps } from './tool-calls.ts';

/** Per-connection hooks from the transport. */
export interface Connection {
  /** The 2026-era `subscriptions/listen` streams, seen on the wire (see ListenTap). */
  listens?: { attach(sink: ListenSink): () => void };
}

/** Builds one MCP server from the catalogue for one caller's safety profile; both transports use it. */
export function buildServer(deps: ServerDeps, conn: Connection = {}): Server {
  const server = new Server(serverInfo(deps.version), { capabilities: structuredClone(CAPABILITIES) });
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
    try {
      return await callTool(deps, request.params, {
        signal: ctx.mcpReq.signal,
        sendProgress,
        modern: isModern(server.getNegotiatedProtocolVersion()),
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
    const complete =
      ref.type === 'ref/prompt'
        ? completePrompt(ref.name, argument.name)
        : completeResource(ref.uri, argument.name);
    const completion = complete ? await complete(argument.value, ctx.mcpReq.signal) : NO_COMPLETION;
    return { completion };
  });
  return server;
}

/** A content failure as a protocol error: the one-line message tools use, and `{kind, retryable, hint}` as data. */
function protocolError(e: unknown, uri?: string): ProtocolError {
  const err = e instanceof ToolError ? e : new ToolError('internal', 'unexpected error');
  const text = `${err.kind}: ${err.message}${err.hint ? ` — ${err.hint}` : ''}`;
  if (uri !== undefined && err.kind === 'not_found') return new ResourceNotFoundError(uri, text);
  const code =
    err.kind === 'invalid_argument' || err.kind === 'not_found'
      ? ProtocolErrorCode.InvalidParams
      : ProtocolErrorCode.InternalError;
  return new ProtocolError(code, text, {
    kind: err.kind,
    retryable: err.retryable,
    ...(err.hint && { hint: err.hint }),
  });
}

const NO_COMPLETION: Completion = { values: [], total: 0, hasMore: false };

function servePrompts(server: Server, deps: ServerDeps): (name: string, argument: string) => Completer {
  const offered = (deps.prompts ?? allPrompts).filter((p) => promptAllowed(p, deps.allowedPrompts ?? []));
  const byName = new Map(offered.map((p) => [p.name, p]));
  const find = (name: string) => {
    const p = byName.get(name);
    if (p) return p;
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `Unknown prompt '${name}'. Call prompts/list to see the prompts.`,
    );
  };
  const listed = offered.map((p) => ({
    name: p.name,
    title: p.title,
    description: p.description,
    arguments: p.arguments.map((a) => ({
      name: a.name,
      description: a.description,
      required: Boolean(a.required),
    })),
  }));

  server.setRequestHandler('prompts/list', () => ({ prompts: listed }));
  server.setRequestHandler('prompts/get', async (request, ctx) => {
    const prompt = find(request.params.name);
    try {
      const args = promptArgs(prompt, request.params.arguments);
      const text = await runContent(deps.env, `prompt ${prompt.name}`, ctx.mcpReq.signal, (c) =>
        prompt.build(args, c),
      );
      return {
        description: prompt.description,
        messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }],
      };
    } catch (e) {
      throw protocolError(e);
    }
  });
  return (name, argument) => completer(deps, find(name).arguments.find((a) => a.name === argument)?.complete);
}

/** How to complete one argument, or undefined when it has no completion. */
type Completer = ((value: string, signal: AbortSignal) => Promise<Completion>) | undefined;

/** Container completion is a courtesy: an engine problem answers no values rather than an error. */
const completer = (deps: ServerDeps, kind: CompleteKind | undefined): Completer =>
  kind &&
  (async (value, signal) => {
    try {
      return await runContent(deps.env, 'completion', signal, (c) =>
        completeContainers(c.docker, kind, value, c.signal),
      );
    } catch {
      return NO_COMPLETION;
    }
  });

function serveResources(
  server: Server,
  deps: ServerDeps,
  conn: Connection,
): (uri: string, argument: string) => Completer {
  const offered = (deps.resources ?? allResources).filter((r) =>
    resourceAllowed(r, deps.allowedResources ?? []),
  );
  const resolve = (uri: string) => {
    const hit = resolveUri(offered, uri);
    if (hit) return hit;
    throw new ResourceNotFoundError(
      uri,
      `Unknown resource '${uri}'. Call resources/list and resources/templates/list to see what there is.`,
    );
  };
  const fixed = offered.flatMap((r) =>
    isTemplate(r)
      ? []
      : [{ uri: r.uri, name: r.name, title: r.title, description: r.description, mimeType: r.mimeType }],
  );
  const templates = offered.flatMap((r) =>
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

  server.setRequestHandler('resources/list', () => ({ resources: fixed }));
  server.setRequestHandler('resources/templates/list', () => ({ resourceTemplates: templates }));
  server.setRequestHandler('resources/read', async (request, ctx) => {
    const { uri } = request.params;
    const { resource, vars } = resolve(uri);
    try {
      const content = await runContent(deps.env, `read ${uri}`, ctx.mcpReq.signal, (c) =>
        resource.read(vars, c),
      );
      return { contents: [{ uri, ...content }] };
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
      const stop = new AbortController();
      watch(hit.vars, { engine: deps.env.engines.resolve(), signal: stop.signal, changed }).catch(() => {});
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
    const { resource, vars } = resolve(uri);
    if (!resource.watch)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Resource '${uri}' does not support subscriptions.`,
      );
    const check = resource.check;
    try {
      if (check) await runContent(deps.env, `subscribe ${uri}`, ctx.mcpReq.signal, (c) => check(vars, c));
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

  return (uri, argument) => {
    const r = offered.find((x) => (isTemplate(x) ? x.uriTemplate : x.uri) === uri);
    if (!r)
      throw new ResourceNotFoundError(
        uri,
        `Unknown resource template '${uri}'. Call resources/templates/list to see them.`,
      );
    return completer(deps, isTemplate(r) ? r.complete?.[argument] : undefined);
  };
}

const isModern = (version: string | undefined) => version !== undefined && version >= '2026-07-28';
