/**
 * The 2024-11-05 HTTP+SSE transport, for clients that predate Streamable HTTP (the SDK v2 has no
 * server side for it). `GET /sse` opens an event stream whose first event, `endpoint`, names
 * `/messages?sessionId=…`; the client POSTs JSON-RPC there and every answer goes out on the stream
 * as a `message` event. One server instance per stream.
 */
import {
  isJSONRPCRequest,
  type JSONRPCMessage,
  parseJSONRPCMessage,
  type Server,
  type Transport,
} from '@modelcontextprotocol/server';
import type { Log } from '../log.ts';
import { isJsonBody, jsonBodyOf } from './http/body.ts';
import type { InFlight } from './http/inflight.ts';
import { jsonError } from './http/plugin.ts';
import {
  clientOfOwner,
  type IdleOptions,
  type SessionSlots,
  SessionTable,
  tooManySessions,
} from './http/sessions.ts';

const encoder = new TextEncoder();

/** One event stream and the session it carries; implements the SDK's Transport for a Server. */
export class SseServerTransport implements Transport {
  readonly sessionId = crypto.randomUUID();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  readonly response: Response;
  private controller?: ReadableStreamDefaultController<Uint8Array>;
  private keepAlive?: ReturnType<typeof setInterval>;
  private closed = false;
  /** Requests whose answer is still owed, each holding an in-flight mark. */
  private pending = new Map<string | number, () => void>();

  constructor(
    endpoint: string,
    keepAliveMs: number,
    private readonly inflight?: InFlight,
  ) {
    const url = `${endpoint}?sessionId=${this.sessionId}`;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
        this.write(`event: endpoint\ndata: ${url}\n\n`);
      },
      cancel: () => void this.close(),
    });
    this.response = new Response(body, {
      headers: { 'content-type': 'text/event-stream', 'x-accel-buffering': 'no' },
    });
    if (keepAliveMs > 0) this.keepAlive = setInterval(() => this.write(': keepalive\n\n'), keepAliveMs);
  }

  async start(): Promise<void> {}

  /** Answers still owed on this stream. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('SSE stream closed');
    this.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    // A result or error ends the call it answers.
    if ('id' in message && !('method' in message) && message.id !== undefined) this.settle(message.id);
  }

  /** Delivers a POSTed body, parsed: one message or a batch. */
  deliver(raw: unknown, request: Request): Response {
    const messages: JSONRPCMessage[] = [];
    try {
      for (const m of Array.isArray(raw) ? raw : [raw]) messages.push(parseJSONRPCMessage(m));
    } catch {
      return jsonError(400, 'body is not a JSON-RPC message');
    }
    for (const message of messages) {
      if (isJSONRPCRequest(message) && this.inflight) this.pending.set(message.id, this.inflight.begin());
      this.onmessage?.(message, { request });
    }
    return new Response('Accepted', { status: 202 });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    for (const id of [...this.pending.keys()]) this.settle(id);
    try {
      this.controller?.close();
    } catch {
      // already closed by the client
    }
    this.onclose?.();
  }

  private settle(id: string | number) {
    this.pending.get(id)?.();
    this.pending.delete(id);
  }

  private write(frame: string) {
    if (this.closed) return;
    try {
      this.controller?.enqueue(encoder.encode(frame));
    } catch (e) {
      this.onerror?.(e as Error);
      void this.close();
    }
  }
}

export interface SseRouteOptions {
  serverFor: (request: Request) => Server;
  maxBodyBytes: number;
  keepAliveMs: number;
  /** Sessions held at once, /mcp and /sse together. */
  maxSessions: number;
  sessionsPerClient: number;
  /** Shared with /mcp: one per-client quota and one total for both. */
  slots: SessionSlots;
  inflight: InFlight;
  idle: IdleOptions;
  log: Log;
}

/** `GET /sse` and `POST /messages`. */
export function sseRoutes(o: SseRouteOptions) {
  const sessions = new SessionTable<SseServerTransport>(o.idle, (t) => t.busy, o.slots);
  return {
    /** `owner`: the caller's client id; only that client may post to the stream's session. */
    async open(request: Request, owner: string): Promise<Response> {
      if (o.slots.total >= o.maxSessions)
        return jsonError(503, 'too many open SSE streams; close unused ones and retry', {
          'retry-after': '5',
        });
      const claim = sessions.claim(clientOfOwner(owner), o.sessionsPerClient);
      if (!claim) return tooManySessions(o.sessionsPerClient, 'close unused event streams');
      const transport = new SseServerTransport('/messages', o.keepAliveMs, o.inflight);
      const server = o.serverFor(request);
      server.onerror = (e) => o.log.debug(`sse: ${e.message}`);
      const previous = server.onclose;
      server.onclose = () => {
        sessions.delete(transport.sessionId);
        previous?.();
      };
      sessions.add(transport.sessionId, transport, owner, claim);
      await server.connect(transport);
      request.signal?.addEventListener('abort', () => void transport.close(), { once: true });
      return transport.response;
    },
    async post(request: Request, url: URL, owner: string): Promise<Response> {
      const id = url.searchParams.get('sessionId');
      if (!id) return jsonError(400, 'missing sessionId query parameter: open GET /sse first');
      const found = sessions.use(id, owner);
      if (found === 'expired') return jsonError(404, 'session expired; open GET /sse again');
      // Another client's stream answers like one that never existed.
      if (!found) return jsonError(404, 'session not found: the stream ended; open GET /sse again');
      const transport = found.transport;
      if (!isJsonBody(request)) return jsonError(415, 'Content-Type must be application/json');
      // Read once: the rate limit may have parsed it already.
      const body = await jsonBodyOf(request, o.maxBodyBytes);
      if (body instanceof Response) return body;
      if ('invalid' in body) return jsonError(400, 'body is not valid JSON');
      return transport.deliver(body.value, request);
    },
    close: () => sessions.closeAll(),
    sessionCount: () => sessions.size,
  };
}
