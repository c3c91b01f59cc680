/**
 * The HTTP transport on Elysia, composed top to bottom. `onRequest` guards run in `.use` order before
 * routing and may answer early; headers they set reach every response, refusals and errors included.
 *
 *   security headers → draining → Host/Origin (DNS rebinding) → CORS → body limit
 *   → /healthz, /mcp (Streamable HTTP, both eras), /sse + /messages (legacy HTTP+SSE)
 *
 * The MCP routes read the raw body (`parse: 'none'`): the SDK and our SSE transport parse it.
 */
import type { Server } from '@modelcontextprotocol/server';
import { Elysia } from 'elysia';
import type { Log } from '../log.ts';
import { checkBind } from './http/bind.ts';
import { bodyLimit } from './http/body-limit.ts';
import { cors } from './http/cors.ts';
import { securityHeaders } from './http/headers.ts';
import { hostOriginGuard } from './http/host-origin.ts';
import { InFlight } from './http/inflight.ts';
import { mcpRoute } from './http/mcp.ts';
import { jsonError } from './http/plugin.ts';
import { explainListenError, loadTls, StartupError } from './http/tls.ts';
import { sseRoutes } from './sse.ts';

export { StartupError };

export interface HttpAppOptions {
  /** A fresh MCP server for the caller of this request (see `profileFor` in main.ts). */
  serverFor: (request: Request) => Server;
  /** Bound to loopback: loopback Host names and origins are accepted. */
  loopback: boolean;
  /** The port actually bound, for the Host check (0 while unknown). */
  port: () => number;
  tls: boolean;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  maxBodyBytes: number;
  /** SSE comment keep-alive interval; must stay under the socket idle timeout. */
  keepAliveMs?: number;
  maxSessions?: number;
  log: Log;
}

export interface HttpApp {
  /** Serves one request: what Bun.serve calls, and what in-process tests call. */
  handle(request: Request): Promise<Response>;
  inflight: InFlight;
  /** New requests get 503 from now on. */
  drain(): void;
  /** Closes every session and stream; calls still running are cancelled. */
  close(): Promise<void>;
}

export function createHttpApp(o: HttpAppOptions): HttpApp {
  const inflight = new InFlight();
  const keepAliveMs = o.keepAliveMs ?? 15_000;
  const maxSessions = o.maxSessions ?? 1000;
  const routeOptions = {
    serverFor: o.serverFor,
    maxBodyBytes: o.maxBodyBytes,
    keepAliveMs,
    maxSessions,
    log: o.log,
  };
  const mcp = mcpRoute(routeOptions);
  const sse = sseRoutes({ ...routeOptions, inflight });
  let draining = false;

  // Counted from arrival: a JSON-mode answer only exists once the call is done.
  async function tracked(request: Request): Promise<Response> {
    const end = inflight.begin();
    try {
      return inflight.track(await mcp.handle(request), end);
    } catch (e) {
      end();
      throw e;
    }
  }

  const raw = { parse: 'none' } as const;
  const app = new Elysia({ name: 'mcp-docker-http' })
    .use(securityHeaders({ tls: o.tls }))
    .onRequest(() =>
      draining ? jsonError(503, 'server is shutting down', { connection: 'close' }) : undefined,
    )
    .use(hostOriginGuard(o))
    .use(cors({ allowedOrigins: o.allowedOrigins }))
    .use(bodyLimit({ maxBytes: o.maxBodyBytes }))
    .onError(({ code, error, request }) => {
      if (code === 'NOT_FOUND')
        return jsonError(404, 'not found: the MCP endpoint is /mcp (legacy SSE: /sse)');
      // Details stay in our log; the client learns only that it failed.
      o.log.error(
        `http: ${request.method} ${new URL(request.url).pathname}: ${(error as Error).stack ?? error}`,
      );
      return jsonError(500, 'internal error');
    })
    .all('/healthz', ({ request }) =>
      request.method === 'GET' ? Response.json({ status: 'ok' }) : notAllowed('GET'),
    )
    .all('/mcp', ({ request }) => (request.method === 'POST' ? tracked(request) : mcp.handle(request)), raw)
    .all('/sse', ({ request }) => (request.method === 'GET' ? sse.open(request) : notAllowed('GET')))
    .all(
      '/messages',
      ({ request }) =>
        request.method === 'POST' ? sse.post(request, new URL(request.url)) : notAllowed('POST'),
      raw,
    );

  return {
    handle: (request) => app.handle(request),
    inflight,
    drain: () => {
      draining = true;
    },
    close: async () => {
      await Promise.allSettled([mcp.close(), sse.close()]);
    },
  };
}

const notAllowed = (allow: string) => jsonError(405, 'method not allowed', { allow });

export interface StartHttpOptions {
  host: string;
  port: number;
  tlsEnabled: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  allowInsecureBind: boolean;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  maxBodyBytes: number;
  shutdownGraceSeconds: number;
  serverFor: (request: Request) => Server;
  log: Log;
}

export interface RunningHttp {
  url: string;
  port: number;
  /** Stops accepting, waits for calls up to the grace period, cancels the rest, closes streams. */
  shutdown(): Promise<void>;
}

/** Socket idle limit: SSE keep-alives (15 s) stay under it, so only silent connections are dropped. */
const IDLE_TIMEOUT_SECONDS = 30;

export function startHttp(o: StartHttpOptions): RunningHttp {
  const bind = checkBind({
    host: o.host,
    tls: o.tlsEnabled,
    allowInsecureBind: o.allowInsecureBind,
    allowedHosts: o.allowedHosts,
  });
  if (!bind.ok) throw new StartupError(bind.error);
  if (bind.warning) o.log.warn(bind.warning);
  const tls = loadTls({ enabled: o.tlsEnabled, certFile: o.tlsCertFile, keyFile: o.tlsKeyFile });

  let port = o.port;
  const app = createHttpApp({ ...o, loopback: bind.loopback, port: () => port, tls: Boolean(tls) });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: o.host,
      port: o.port,
      tls,
      idleTimeout: IDLE_TIMEOUT_SECONDS,
      // Hard stop for bodies without a Content-Length; the body-limit plugin answers declared ones.
      maxRequestBodySize: o.maxBodyBytes + 65_536,
      fetch: (request) => app.handle(request),
      error: () => jsonError(500, 'internal error'),
    });
  } catch (e) {
    throw new StartupError(explainListenError(e, { host: o.host, port: o.port, tls: o.tlsEnabled }));
  }
  port = server.port ?? o.port;
  const host = o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  o.log.info(`serving MCP at ${url}/mcp (legacy SSE at ${url}/sse)`);

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      app.drain();
      void server.stop(false);
      const busy = app.inflight.count;
      if (busy > 0) o.log.info(`shutting down: waiting up to ${o.shutdownGraceSeconds}s for ${busy} call(s)`);
      const finished = await app.inflight.idle(o.shutdownGraceSeconds * 1000);
      if (!finished) o.log.warn(`shutting down: cancelling ${app.inflight.count} call(s) still running`);
      await app.close();
      // Let cancelled calls write their last bytes before the sockets go.
      await app.inflight.idle(1000);
      await server.stop(true);
    })();
    return stopping;
  };
  return { url, port, shutdown };
}
