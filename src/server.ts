import { ProtocolError, ProtocolErrorCode, Server, type Tool } from '@modelcontextprotocol/server';
import Type from 'typebox';
import { leanSchema } from './lean-schema.ts';
import { annotationsFor } from './pipeline/annotations.ts';
import { gate } from './pipeline/gate.ts';
import { type Outcome, type PipelineEnv, runPipeline } from './pipeline/run.ts';
import type { AnyTool } from './tools/define.ts';

export interface ServerDeps {
  catalogue: readonly AnyTool[];
  env: PipelineEnv;
  version: string;
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

// The list only depends on the catalogue and the profile; build it once per pair, not per connection.
const listCache = new WeakMap<object, Tool[]>();

/** Builds one MCP server from the catalogue for one caller's safety profile; both transports use it. */
export function buildServer(deps: ServerDeps): Server {
  const server = new Server(
    { name: 'mcp-docker', title: 'Docker', version: deps.version },
    { capabilities: { tools: { listChanged: false } } },
  );
  const byName = new Map(deps.catalogue.map((t) => [t.name, t]));
  let listed = listCache.get(deps.env.profile);
  if (!listed) {
    listed = deps.catalogue.filter((t) => gate(t, deps.env.profile).allowed).map(listedTool);
    listCache.set(deps.env.profile, listed);
  }
  const tools = listed;

  server.setRequestHandler('tools/list', () => ({ tools }));
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const { name, arguments: args, _meta } = request.params;
    const tool = byName.get(name);
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
  return server;
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
