/**
 * The HTTP transport on Elysia, composed top to bottom. `onRequest` guards run in `.use` order before
 * routing and may answer early; headers they set reach every response, refusals and errors included.
 *
 *   security headers → draining → Host/Origin (DNS rebinding) → client IP (allowlist, failed-auth
 *   lockout) → CORS → body limit → auth (principal per request; 401 with the accepted schemes)
 *   → rate limits (per principal)
 *   → /healthz, /.well-known/oauth-protected-resource, /mcp (Streamable HTTP, both eras),
 *     /sse + /messages (legacy HTTP+SSE)
 *
 * The MCP routes take the raw body (`parse: 'none'`): it is read and parsed once (http/body.ts), by the
 * rate limit or the route, and the SDK and our SSE transport get the parsed value. Guards match the
 * route that answers (Elysia's `route`), so `/mcp/` is limited as `/mcp` is.
 */
import type { Server } from '@modelcontextprotocol/server';
import { Elysia } from 'elysia';
import type { Log } from '../log.ts';
import type { SafetyProfile } from '../pipeline/gate.ts';
import { authPlugin, principalOf, type Refusal } from './http/auth.ts';
import { callerKey, type Principal, type Verifier } from './http/auth-types.ts';
import { checkBind } from './http/bind.ts';
import { bodyLimit } from './http/body-limit.ts';
import { clientIp, parseCidrList } from './http/client-ip.ts';
import { cors } from './http/cors.ts';
import { securityHeaders, securityHeaderValues } from './http/headers.ts';
import { hostOriginGuard } from './http/host-origin.ts';
import { InFlight, settleWithin } from './http/inflight.ts';
import { clientGuard, clientIpOf, type Guards, onAuthRefused, rateLimit } from './http/limits.ts';
import { mcpRoute } from './http/mcp.ts';
import { peerAddress, recordPeer } from './http/peer.ts';
import { jsonError } from './http/plugin.ts';
import { refusalReporter } from './http/refusals.ts';
import { SessionSlots } from './http/sessions.ts';
import { explainListenError, loadTls, StartupError } from './http/tls.ts';
import { sseRoutes } from './sse.ts';

export { StartupError };

export interface HttpAuthOptions {
  /** Run in order; empty = authentication off, every caller gets `serverProfile`. */
  verifiers: readonly Verifier[];
  /** The server-wide profile: anonymous callers get it, and it caps every credential's. */
  serverProfile: SafetyProfile;
  onRefused?: (request: Request, refusal: Refusal) => void;
  /** RFC 9728 metadata (OAuth mode), served without a credential. */
  protectedResource?: (request: Request) => Response;
}

export interface HttpAppOptions {
  /** A fresh MCP server for this caller, built with the principal's profile. */
  serverFor: (request: Request, principal: Principal) => Server;
  auth: HttpAuthOptions;
  /** Bound to loopback: loopback Host names and origins are accepted. */
  loopback: boolean;
  /** The port actually bound, for the Host check (0 while unknown). */
  port: () => number;
  tls: boolean;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  /** Proxies whose X-Forwarded-For names the client (when `guards` is absent; guards carry their own). */
  trustedProxies?: readonly string[];
  /** Client allowlist, failed-auth lockout, rate limits and audit (limits.ts); off when absent. */
  guards?: Guards;
  maxBodyBytes: number;
  /** Initialize-era and legacy SSE sessions idle this long are closed. */
  sessionIdleSeconds?: number;
  /** What /healthz adds for an authenticated caller (version, engine reachability). */
  healthDetails?: () => Promise<Record<string, unknown>>;
  /** SSE comment keep-alive interval; must stay under the socket idle timeout. */
  keepAliveMs?: number;
  maxSessions?: number;
  /** Sessions one client may hold, when the per-client limits are on (guards enabled). */
  rateLimitSessions?: number;
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

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

export function createHttpApp(o: HttpAppOptions): HttpApp {
  const inflight = new InFlight();
  const proxies = parseCidrList(o.trustedProxies ?? [], '--trusted-proxies');
  const g = o.guards;
  const clientAddress = g
    ? clientIpOf
    : (r: Request) => clientIp(peerAddress(r), r.headers.get('x-forwarded-for'), proxies);
  const off = (name: string) => new Elysia({ name: `${name}-off` });
  // Refused before the client guard has named the address: worked out here (after trusted proxies).
  const onRefused = refusalReporter(o.log, g?.audit, (r) =>
    clientIp(peerAddress(r), r.headers.get('x-forwarded-for'), g?.trustedProxies ?? proxies),
  );
  // The auth plugin runs before every MCP route; without a principal here something is mis-wired: fail closed.
  const callerOf = (request: Request): Principal => {
    const p = principalOf(request);
    if (!p) throw new Error('no principal: the auth plugin must run before the MCP routes');
    return p;
  };
  /**
   * Who a session belongs to: the caller (method and client id) and its profile. After the auth file changes a client's
   * profile, its old sessions stop answering it, so the new profile cannot be bypassed by reusing one.
   */
  const profileKeys = new WeakMap<SafetyProfile, string>();
  const ownerOf = (request: Request): string => {
    const caller = callerOf(request);
    const { profile } = caller;
    let key = profileKeys.get(profile);
    if (key === undefined) {
      key = JSON.stringify(profile);
      profileKeys.set(profile, key);
    }
    return `${callerKey(caller)}\n${key}`;
  };
  const routeOptions = {
    serverFor: (request: Request) => o.serverFor(request, callerOf(request)),
    maxBodyBytes: o.maxBodyBytes,
    keepAliveMs: o.keepAliveMs ?? 15_000,
    maxSessions: o.maxSessions ?? 1000,
    // One count for both transports: the quota and the total are per client and per server, not per route.
    slots: new SessionSlots(),
    // A per-client limit: off with the others (--no-rate-limit, or no guards in-process).
    sessionsPerClient: g?.limiter.settings.enabled ? (o.rateLimitSessions ?? 64) : Number.POSITIVE_INFINITY,
    idle: { idleMs: (o.sessionIdleSeconds ?? 900) * 1000 },
    log: o.log,
  };
  const mcp = mcpRoute(routeOptions);
  const sse = sseRoutes({ ...routeOptions, inflight });
  let draining = false;

  // Counted from arrival: a JSON-mode answer only exists once the call is done.
  async function tracked(request: Request): Promise<Response> {
    const end = inflight.begin();
    try {
      return inflight.track(await mcp.handle(request, ownerOf(request)), end);
    } catch (e) {
      end();
      throw e;
    }
  }

  async function health(principal: Principal | undefined): Promise<Response> {
    // Only a caller who proved who they are learns more than "up".
    if (!principal || principal.method === 'none' || !o.healthDetails) return Response.json({ status: 'ok' });
    return Response.json({ status: 'ok', ...(await o.healthDetails()) });
  }

  const raw = { parse: 'none' } as const;
  const app = new Elysia({ name: 'mcp-docker-http' })
    .use(securityHeaders({ tls: o.tls }))
    .onRequest(() =>
      draining ? jsonError(503, 'server is shutting down', { connection: 'close' }) : undefined,
    )
    .use(hostOriginGuard({ ...o, onRefused }))
    .use(g ? clientGuard(g) : off('client-guard'))
    .use(cors({ allowedOrigins: o.allowedOrigins }))
    .use(bodyLimit({ maxBytes: o.maxBodyBytes, onRefused }))
    .use(
      authPlugin({
        ...o.auth,
        publicPaths: ['/healthz', WELL_KNOWN, `${WELL_KNOWN}/mcp`],
        clientIp: clientAddress,
        onRefused: g ? onAuthRefused(g) : o.auth.onRefused,
      }),
    )
    .use(g ? rateLimit(g) : off('rate-limit'))
    .onError(({ code, error, request }) => {
      if (code === 'NOT_FOUND')
        return jsonError(404, 'not found: the MCP endpoint is /mcp (legacy SSE: /sse)');
      // Details stay in our log; the client learns only that it failed.
      o.log.error(
        `http: ${request.method} ${URL.parse(request.url)?.pathname ?? request.url}: ${(error as Error).stack ?? error}`,
      );
      return jsonError(500, 'internal error');
    })
    .all('/healthz', ({ request, principal }) =>
      request.method === 'GET' ? health(principal) : notAllowed('GET'),
    )
    .all(
      '/mcp',
      ({ request }) => (request.method === 'POST' ? tracked(request) : mcp.handle(request, ownerOf(request))),
      raw,
    )
    .all('/sse', ({ request }) =>
      request.method === 'GET' ? sse.open(request, ownerOf(request)) : notAllowed('GET'),
    )
    .all(
      '/messages',
      ({ request }) =>
        request.method === 'POST'
          ? sse.post(request, new URL(request.url), ownerOf(request))
          : notAllowed('POST'),
      raw,
    );
  const protectedResource = o.auth.protectedResource;
  if (protectedResource)
    for (const path of [WELL_KNOWN, `${WELL_KNOWN}/mcp`])
      app.all(path, ({ request }) =>
        request.method === 'GET' ? protectedResource(request) : notAllowed('GET'),
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

export interface StartHttpOptions extends Omit<HttpAppOptions, 'loopback' | 'port' | 'tls'> {
  host: string;
  port: number;
  tlsEnabled: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  allowInsecureBind: boolean;
  shutdownGraceSeconds: number;
  /** Once the grace is over: cancels the calls still running, which then answer `cancelled`. */
  cancelCalls?: () => void;
}

export interface RunningHttp {
  url: string;
  port: number;
  /** Stops accepting, waits for calls up to the grace period, cancels the rest, closes streams. */
  shutdown(): Promise<void>;
}

/** Socket idle limit: SSE keep-alives (15 s) stay under it, so only silent connections are dropped. */
const IDLE_TIMEOUT_SECONDS = 30;
/**
 * After the grace: how long cancelled calls get to send their `cancelled` answer, then how long each
 * closing step (sessions and streams, then sockets) may take. Shutdown ends within grace + ~2 s.
 */
const ANSWER_WAIT_MS = 1000;
const CLOSE_WAIT_MS = 400;

export function startHttp(o: StartHttpOptions): RunningHttp {
  const bind = checkBind({
    host: o.host,
    tls: o.tlsEnabled,
    auth: o.auth.verifiers.length > 0,
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
      fetch: (request, server) => {
        recordPeer(request, server.requestIP(request)?.address);
        return app.handle(request);
      },
      // Reached only when the app itself failed to answer: logged, and still with the security headers.
      error: (e) => {
        o.log.error(`http: unhandled: ${e.stack ?? e}`);
        return jsonError(500, 'internal error', securityHeaderValues(Boolean(tls)));
      },
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
      if (!finished) {
        o.log.warn(`shutting down: cancelling ${app.inflight.count} call(s) still running`);
        o.cancelCalls?.();
        // Their answers ("cancelled: the server is shutting down") reach the clients before the streams close.
        if (!(await app.inflight.idle(ANSWER_WAIT_MS)))
          o.log.warn(`shutting down: ${app.inflight.count} call(s) did not answer; closing their streams`);
      }
      await settleWithin(CLOSE_WAIT_MS, app.close());
      await settleWithin(CLOSE_WAIT_MS, server.stop(true));
    })();
    return stopping;
  };
  return { url, port, shutdown };
}
