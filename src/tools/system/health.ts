/**
 * The one tool that answers without an engine: is it reachable, where, how it was found, and what
 * this server allows. A user runs it to debug a connection, so "no engine" is a result, not an error.
 */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import type { EngineAccess } from '../../core/engine.ts';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { system } from './engine-api.ts';

const Attempt = Type.Object({ endpoint: Type.String(), source: Type.String(), outcome: Type.String() });

/** A ping on the current connection; on failure, one fresh discovery (the engine may have moved or come back). */
async function check(
  docker: Dockerode | undefined,
  engine: EngineAccess,
  signal: AbortSignal,
): Promise<{ docker?: Dockerode; latencyMs?: number; error?: ToolError }> {
  const ping = async (d: Dockerode) => {
    const start = performance.now();
    await system(d).ping({ abortSignal: signal });
    return Math.round(performance.now() - start);
  };
  if (docker) {
    try {
      return { docker, latencyMs: await ping(docker) };
    } catch (e) {
      if (signal.aborted) throw e;
      engine.invalidate();
    }
  }
  try {
    const fresh = await engine.client(signal);
    return { docker: fresh, latencyMs: await ping(fresh) };
  } catch (e) {
    if (signal.aborted || !(e instanceof ToolError) || e.kind !== 'engine_unreachable') throw e;
    return { error: e };
  }
}

export const healthcheck = defineTool({
  name: 'docker_healthcheck',
  title: 'Health check',
  description: 'Engine reachability, endpoint, API version and safety mode.',
  safety: 'safe',
  idempotent: true,
  engine: 'optional',
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({
    reachable: Type.Boolean(),
    endpoint: Type.Optional(Type.String()),
    source: Type.Optional(Type.String({ description: 'How the endpoint was found' })),
    api_version: Type.Optional(Type.String({ description: 'Negotiated' })),
    server_version: Type.Optional(Type.String()),
    os: Type.Optional(Type.String()),
    arch: Type.Optional(Type.String()),
    latency_ms: Type.Optional(Type.Integer({ description: 'One ping' })),
    error: Type.Optional(Type.String()),
    hint: Type.Optional(Type.String()),
    tried: Type.Optional(Type.Array(Attempt)),
    server: Type.Object({ name: Type.String(), version: Type.String() }),
    safety: Type.Object({
      mode: Type.String(),
      tiers: Type.Array(Type.String()),
      allowed_tools: Type.Optional(Type.Array(Type.String())),
      denied_tools: Type.Optional(Type.Array(Type.String())),
    }),
  }),
  handler: async (_args, { engine, server, signal, unreachable }) => {
    const { safetyMode: s } = server;
    const facts = {
      server: { name: 'mcp-docker', version: server.version },
      safety: {
        mode: s.summary,
        tiers: s.tiers,
        ...(s.allowedTools.length > 0 && { allowed_tools: s.allowedTools }),
        ...(s.deniedTools.length > 0 && { denied_tools: s.deniedTools }),
      },
    };
    // The pipeline already tried to connect; do not run discovery twice when it found nothing.
    const result = unreachable ? { error: unreachable } : await check(engine.docker, engine, signal);
    const info = engine.info();
    if (result.error || !info) {
      const error = result.error;
      const tried = engine.attempts().map((a) => ({ endpoint: a.url, source: a.source, outcome: a.outcome }));
      // `tried` lists the attempts; the message need not repeat them.
      const message =
        error && (tried.length > 0 ? error.message.replace(/\. Tried: .*$/s, '') : error.message);
      return {
        reachable: false,
        ...(message && { error: message }),
        ...(error?.hint && { hint: error.hint }),
        tried,
        ...facts,
      };
    }
    return {
      reachable: true,
      endpoint: info.url,
      source: info.source,
      api_version: info.apiVersion,
      server_version: info.serverVersion,
      os: info.os,
      arch: info.arch,
      ...(result.latencyMs !== undefined && { latency_ms: result.latencyMs }),
      ...facts,
    };
  },
});
