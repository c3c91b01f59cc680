/**
 * The HTTP transport, composed top to bottom: guards run in order and may answer early; every
 * response, early or not, passes back through each plugin's `mapResponse`. Routes come last.
 *
 *   security headers → Host/Origin (DNS rebinding) → CORS → body limit → [auth, rate limit: later]
 *   → /healthz, /mcp (Streamable HTTP, both eras), /sse + /messages (legacy HTTP+SSE)
 */
import type { Server } from '@modelcontextprotocol/server';
import type { Log } from '../log.ts';
import { checkBind } from './http/bind.ts';
import { bodyLimit } from './http/body-limit.ts';
import { cors } from './http/cors.ts';
import { securityHeaders } from './http/headers.ts';
import { hostOriginGuard } from './http/host-origin.ts';
import { InFlight } from './http/inflight.ts';
import { mcpRoute } from './http/mcp.ts';
import { jsonError, type Plugin } from './http/plugin.ts';
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

  const plugins: Plugin[] = [
    securityHeaders({ tls: o.tls }),
    hostOriginGuard(o),
    cors({ allowedOrigins: o.allowedOrigins }),
    bodyLimit({ maxBytes: o.maxBodyBytes }),
  ];

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const { method } = request;
    switch (url.pathname) {
      case '/healthz':
        return method === 'GET' ? Response.json({ status: 'ok' }) : notAllowed('GET');
      case '/mcp':
        return method === 'POST' ? tracked(request) : mcp.handle(request);
      case '/sse':
        return method === 'GET' ? sse.open(request) : notAllowed('GET');
      case '/messages':
        return method === 'POST' ? sse.post(request, url) : notAllowed('POST');
      default:
        return jsonError(404, 'not found: the MCP endpoint is /mcp (legacy SSE: /sse)');
    }
  }

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

  async function handle(request: Request): Promise<Response> {
    let response: Response | undefined;
    try {
      if (draining) response = jsonError(503, 'server is shutting down', { connection: 'close' });
      for (const p of plugins) {
        if (response) break;
        response = await p.onRequest?.(request);
      }
      response ??= await route(request);
    } catch (e) {
      // Details stay in our log; the client learns only that it failed.
      o.log.error(`http: ${request.method} ${new URL(request.url).pathname}: ${(e as Error).stack ?? e}`);
      response = jsonError(500, 'internal error');
    }
    for (const p of plugins) if (p.mapResponse) response = p.mapResponse(request, response);
    return response;
  }

  return {
    handle,
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
