import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  Server,
  type Tool,
} from '@modelcontextprotocol/server';
import Type from 'typebox';
import { leanSchema } from './lean-schema.ts';
import { annotationsFor } from './pipeline/annotations.ts';
import { runContent } from './pipeline/content.ts';
import { ToolError } from './pipeline/errors.ts';
import { gate } from './pipeline/gate.ts';
import { type Outcome, type PipelineEnv, runPipeline } from './pipeline/run.ts';
import { type AnyPrompt, promptAllowed, promptArgs } from './prompts/define.ts';
import { prompts as allPrompts } from './prompts/index.ts';
import { type CompleteKind, type Completion, completeContainers } from './resources/complete.ts';
import { type AnyResource, isTemplate, resolveUri, resourceAllowed } from './resources/define.ts';
import { resources as allResources } from './resources/index.ts';
import { type ListenSink, Subscriptions } from './resources/subscriptions.ts';
import type { AnyTool } from './tools/define.ts';

export interface ServerDeps {
  /**
   * The tools, or a loader for them: stdio passes a loader so start-up answers initialize before
   * the 51 tool modules are evaluated (~8 ms); the first tools/list or tools/call loads them.
   */
  catalogue: readonly AnyTool[] | (() => Promise<readonly AnyTool[]>);
  env: PipelineEnv;
  version: string;
  /** Default: every prompt and resource. */
  prompts?: readonly AnyPrompt[];
  resources?: readonly AnyResource[];
  /** SAFETY_ALLOWED_PROMPTS / SAFETY_ALLOWED_RESOURCES: empty = all; the rest are neither listed nor served. */
  allowedPrompts?: readonly string[];
  allowedResources?: readonly string[];
}

/** Per-connection hooks from the transport. */
export interface Connection {
  /** The 2026-era `subscriptions/listen` streams, seen on the wire (see ListenTap). */
  listens?: { attach(sink: ListenSink): () => void };
}

/** Every result may carry the pipeline's note on what it cut. */
const Truncated = Type.Object(
  {
    field: Type.String(),
    kept: Type.Integer(),
    dropped: Type.Integer(),
    note: Type.String(),
  },
  { description: 'Present when the result was cut to fit the response cap' },
);

/** The tool as clients see it: plain JSON, annotations derived from safety in one place. */
export function listedTool(tool: AnyTool): Tool {
  const output = JSON.parse(JSON.stringify(tool.output));
  output.properties = { ...output.properties, truncated: JSON.parse(JSON.stringify(Truncated)) };
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: leanSchema(tool.input),
    outputSchema: output,
    annotations: annotationsFor(tool),
  };
}

interface Listing {
  byName: Map<string, AnyTool>;
  listed: Tool[];
}

// The list only depends on the catalogue and the profile; build it once per pair, not per connection.
const listings = new WeakMap<object, WeakMap<object, Promise<Listing>>>();

function listingFor(deps: ServerDeps): Promise<Listing> {
  let byProfile = listings.get(deps.catalogue);
  if (!byProfile) {
    byProfile = new WeakMap();
    listings.set(deps.catalogue, byProfile);
  }
  let listing = byProfile.get(deps.env.profile);
  if (!listing) {
    const { catalogue } = deps;
    listing = (typeof catalogue === 'function' ? catalogue() : Promise.resolve(catalogue)).then((all) => ({
      byName: new Map(all.map((t) => [t.name, t])),
      listed: all.filter((t) => gate(t, deps.env.profile).allowed).map(listedTool),
    }));
    byProfile.set(deps.env.profile, listing);
  }
  return listing;
}

/** Builds one MCP server from the catalogue for one caller's safety profile; both transports use it. */
export function buildServer(deps: ServerDeps, conn: Connection = {}): Server {
  const server = new Server(
    { name: 'mcp-docker', title: 'Docker', version: deps.version },
    {
      capabilities: {
        tools: { listChanged: false },
        prompts: { listChanged: false },
        resources: { subscribe: true, listChanged: false },
        completions: {},
      },
    },
  );
  server.setRequestHandler('tools/list', async () => ({ tools: (await listingFor(deps)).listed }));
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const { name, arguments: args, _meta } = request.params;
    const tool = (await listingFor(deps)).byName.get(name);
    if (!tool) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Unknown tool '${name}'. Call tools/list to see the tools.`,
      );
    }
    const token = _meta?.progressToken;
    const sendProgress =
      token === undefined
        ? undefined
        : (p: { progress: number; total?: number; message?: string }) =>
            void ctx.mcpReq
              .notify({ method: 'notifications/progress', params: { progressToken: token, ...p } })
              .catch(() => {});
    const outcome = await runPipeline(tool, args, deps.env, { signal: ctx.mcpReq.signal, sendProgress });
    return toCallResult(outcome, isModern(server.getNegotiatedProtocolVersion()));
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
      watch(hit.vars, { engine: deps.env.engine, signal: stop.signal, changed }).catch(() => {});
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

/**
 * Success: structured data plus the same JSON as text for clients that only read text.
 * Error: a one-line message with the kind and next step. `{kind, retryable, hint}` goes in
 * structuredContent only on the 2026 era: initialize-era SDK clients validate structuredContent
 * against the tool's outputSchema even on errors and would reject the result.
 */
export function toCallResult(outcome: Outcome, modern: boolean) {
  if (outcome.ok) {
    return {
      content: [{ type: 'text' as const, text: JSON.stringify(outcome.data) }],
      structuredContent: outcome.data,
    };
  }
  const { kind, message, hint, retryable } = outcome.error;
  const text = `${kind}: ${message}${hint ? ` — ${hint}` : ''}`;
  return {
    isError: true,
    content: [{ type: 'text' as const, text }],
    ...(modern && { structuredContent: { kind, retryable, ...(hint && { hint }) } }),
  };
}
