/**
 * `/mcp`, Streamable HTTP for both protocol eras. 2026-era requests carry their own envelope and go to
 * the SDK's per-request handler. Initialize-era traffic gets real sessions (Mcp-Session-Id), one
 * server instance each, so progress, cancellation and resource subscriptions work as over stdio.
 */
import {
  createMcpHandler,
  isLegacyRequest,
  type Server,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Log } from '../../log.ts';
import { isJsonBody, jsonBodyOf } from './body.ts';
import { listAnswerCache } from './list-cache.ts';
import { jsonError } from './plugin.ts';
import {
  type Claim,
  clientOfOwner,
  type IdleOptions,
  type SessionSlots,
  SessionTable,
  tooManySessions,
} from './sessions.ts';

export interface McpRouteOptions {
  /** A fresh server for this request's caller (the per-credential seam is upstream). */
  serverFor: (request: Request) => Server;
  maxBodyBytes: number;
  /** SSE comment keep-alives, so idle streams survive the socket idle timeout. */
  keepAliveMs: number;
  /** Sessions held at once, /mcp and /sse together; more get 503 rather than unbounded memory. */
  maxSessions: number;
  /** The session slots this route shares with /sse: one per-client quota and one total for both. */
  slots: SessionSlots;
  /** Sessions one client may hold (open or opening); more get 429, so no client can take every slot. */
  sessionsPerClient: number;
  /** Sessions idle this long are closed (with their server). */
  idle: IdleOptions;
  log: Log;
}

export interface McpRoute {
  /** `owner`: the caller's client id; a session only answers the client that opened it. */
  handle(request: Request, owner: string): Promise<Response>;
  /** Closes every session and aborts modern exchanges: their in-flight calls see a cancel. */
  close(): Promise<void>;
  sessionCount(): number;
}

export function mcpRoute(o: McpRouteOptions): McpRoute {
  const onerror = (e: Error) => o.log.debug(`mcp: ${e.message}`);
  // A repeated 2026-era tools/list is answered from a per-profile cache (list-cache.ts).
  const cachedList = listAnswerCache();
  const modern = createMcpHandler((ctx) => o.serverFor(ctx.requestInfo ?? new Request('http://local/mcp')), {
    legacy: 'reject',
    // Always a stream, so keep-alives flow during a long call and the socket idle timeout never cuts it.
    responseMode: 'sse',
    maxRequestBodySize: o.maxBodyBytes,
    keepAliveMs: o.keepAliveMs,
    onerror,
  });
  const sessions = new SessionTable<WebStandardStreamableHTTPServerTransport>(o.idle, undefined, o.slots);

  async function openSession(request: Request, owner: string, parsedBody: unknown): Promise<Response> {
    if (o.slots.total >= o.maxSessions)
      return jsonError(503, 'too many open sessions; close unused ones (DELETE /mcp) and retry', {
        'retry-after': '5',
      });
    const claim = sessions.claim(clientOfOwner(owner), o.sessionsPerClient);
    if (!claim)
      return tooManySessions(
        o.sessionsPerClient,
        'close unused ones with DELETE /mcp (their Mcp-Session-Id)',
      );
    try {
      return await initialize(request, owner, parsedBody, claim);
    } finally {
      // Kept by the session if one was made; freed otherwise.
      if (!claimed.has(claim)) claim.release();
    }
  }

  const claimed = new WeakSet<Claim>();
  async function initialize(request: Request, owner: string, parsedBody: unknown, claim: Claim) {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => {
        claimed.add(claim);
        sessions.add(id, transport, owner, claim);
      },
      maxRequestBodySize: o.maxBodyBytes,
      keepAliveMs: o.keepAliveMs,
    });
    transport.onerror = onerror;
    const server = o.serverFor(request);
    server.onerror = onerror;
    const previous = server.onclose;
    server.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      previous?.();
    };
    await server.connect(transport);
    const response = await transport.handleRequest(request, { parsedBody });
    // Not an initialize request (or a failed one): nothing to keep.
    if (!transport.sessionId || !sessions.has(transport.sessionId)) await server.close();
    return response;
  }

  async function legacy(request: Request, owner: string, parsedBody: unknown): Promise<Response> {
    const id = request.headers.get('mcp-session-id');
    if (id === null) {
      if (request.method === 'POST') return openSession(request, owner, parsedBody);
      return jsonError(400, 'missing Mcp-Session-Id header: send initialize first');
    }
    const found = sessions.use(id, owner);
    if (found === 'expired') return jsonError(404, 'session expired; initialize again');
    // Another client's session answers like one that never existed: ids are not an oracle.
    if (!found) return jsonError(404, 'session not found: it ended or never existed; initialize again');
    // A standalone GET stream stays open by design; only calls keep a session from idling out.
    if (request.method !== 'POST') return found.transport.handleRequest(request);
    const end = found.calls.begin();
    const transport = found.transport;
    return found.calls.track(
      await transport.handleRequest(request, { parsedBody }),
      () => {
        end();
        found.touch();
      },
      // The client hung up before its answers: with no event store it cannot resume the stream, so
      // its calls end as its own cancel would end them (a pending question withdrawn, audited).
      () => {
        for (const requestId of requestIdsOf(parsedBody))
          transport.onmessage?.({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId, reason: 'the client closed the connection' },
          });
      },
    );
  }

  return {
    async handle(request, owner) {
      if (!['GET', 'POST', 'DELETE'].includes(request.method))
        return jsonError(405, 'method not allowed', { allow: 'GET, POST, DELETE' });
      let parsedBody: unknown;
      if (request.method === 'POST') {
        // Refused unread, as the SDK would (it checks the type before reading).
        if (!isJsonBody(request))
          return rpcError(415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
        // Read once (the rate limit may have done it already) and handed to the SDK parsed.
        const body = await jsonBodyOf(request, o.maxBodyBytes);
        if (body instanceof Response) return body;
        if ('invalid' in body)
          return rpcError(400, -32700, 'Parse error: the request body is not valid JSON');
        parsedBody = body.value;
      }
      if (await isLegacyRequest(request, parsedBody, { maxRequestBodySize: o.maxBodyBytes }))
        return legacy(request, owner, parsedBody);
      return cachedList(request, parsedBody, () => modern.fetch(request, { parsedBody }));
    },
    async close() {
      await sessions.closeAll();
      await modern.close();
    },
    sessionCount: () => sessions.size,
  };
}

/** The ids of the JSON-RPC requests in a POST body (one message or a batch). */
function requestIdsOf(body: unknown): (string | number)[] {
  const ids: (string | number)[] = [];
  for (const m of Array.isArray(body) ? body : [body])
    if (m !== null && typeof m === 'object' && 'method' in m && 'id' in m) {
      const { id } = m as { id: unknown };
      if (typeof id === 'string' || typeof id === 'number') ids.push(id);
    }
  return ids;
}

/** A JSON-RPC error with no id, as the SDK answers a body it cannot take. */
const rpcError = (status: number, code: number, message: string) =>
  Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status });
