/**
 * The abuse guards as Elysia plugins, thin wrappers around client-ip.ts, rate-limit.ts and audit.ts:
 * - `clientGuard` (onRequest, before auth): resolves the client's address, refuses addresses off the
 *   allowlist (403) and addresses locked out for failed authentications (429);
 * - `onAuthRefused`: the auth plugin's refusal callback — counts a 401 against the IP, audits it;
 * - `rateLimit` (onBeforeHandle, after auth): per-principal request, body-bytes, tool-call and concurrency limits
 *   (those that need no body are checked before it is read),
 *   and open event streams (released when the stream ends: the response body is wrapped);
 * - `callObserver`: the pipeline hook `serverFor` binds to a request — counts running calls and
 *   writes the tool_call, prompt_get or resource_read audit line.
 * What counts as a call: each `tools/call`, `prompts/get` and `resources/read` JSON-RPC request POSTed
 * to /mcp or /messages (from the body read once and parsed once in body.ts, shared with the route): all three spend the
 * same buckets. Everything else only spends the generous request budget, so initialize, listings and
 * pings never eat an agent's calls.
 */
import { Elysia } from 'elysia';
import type { Log } from '../../log.ts';
import type { PipelineEnv } from '../../pipeline/run.ts';
import {
  type AuditEvent,
  type Auditor,
  auditFieldsOf,
  callOutcome,
  confirmationOf,
  noAudit,
  openAudit,
  throttleRefusals,
} from './audit.ts';
import type { Refusal } from './auth.ts';
import { principalOf } from './auth.ts';
import { callerKey } from './auth-types.ts';
import { isJsonBody, jsonBodyOf } from './body.ts';
import { type Cidr, checkClientIp, clientIp, parseCidrList } from './client-ip.ts';
import { peerAddress } from './peer.ts';
import { jsonError } from './plugin.ts';
import { countToolCalls, type Decision, Limiter, type Ticket, tooMany } from './rate-limit.ts';

export interface GuardSettings {
  rateLimitEnabled: boolean;
  rateLimitRpm: number;
  rateLimitConcurrent: number;
  rateLimitStreams: number;
  authFailuresPerMinute: number;
  allowedClientIps: readonly string[];
  trustedProxies: readonly string[];
  auditLogFile?: string;
  maxBodyBytes: number;
}

export interface Guards {
  limiter: Limiter;
  /** The body limit, for reading a body once here and sharing it (body.ts). */
  maxBodyBytes: number;
  audit: Auditor;
  allowed: readonly Cidr[];
  trustedProxies: readonly Cidr[];
}

/** Parses the lists (a bad entry is a StartupError naming it) and opens the audit file. */
export function createGuards(s: GuardSettings, log: Log): Guards {
  const allowed = parseCidrList(s.allowedClientIps, 'allowedClientIps (SECURITY_ALLOWED_CLIENT_IPS)');
  const trustedProxies = parseCidrList(s.trustedProxies, 'trustedProxies (SECURITY_TRUSTED_PROXIES)');
  const limiter = new Limiter({
    enabled: s.rateLimitEnabled,
    rpm: s.rateLimitRpm,
    concurrent: s.rateLimitConcurrent,
    streams: s.rateLimitStreams,
    authFailuresPerMinute: s.authFailuresPerMinute,
    maxBodyBytes: s.maxBodyBytes,
  });
  const audit = s.auditLogFile ? throttleRefusals(openAudit(s.auditLogFile, log)) : noAudit;
  return { limiter, audit, allowed, trustedProxies, maxBodyBytes: s.maxBodyBytes };
}

const addresses = new WeakMap<Request, string>();

/** The client's address (after trusted proxies), once clientGuard has run; undefined in-process. */
export const clientIpOf = (request: Request): string | undefined => addresses.get(request);

/** Who to count: the caller (method and client id), else the address. */
const keyOf = (request: Request) => {
  const p = principalOf(request);
  return p ? callerKey(p) : (clientIpOf(request) ?? 'local');
};

/** Who to name in an audit line: the client id and the method that proved it, else the address. */
const whoOf = (request: Request): Pick<AuditEvent, 'clientId' | 'auth' | 'ip'> => {
  const p = principalOf(request);
  const ip = clientIpOf(request);
  if (!p) return { clientId: ip ?? 'local', ip };
  return { clientId: p.clientId, ...(p.method !== 'none' && { auth: p.method }), ip };
};

export function clientGuard(g: Guards) {
  return new Elysia({ name: 'client-guard', seed: g }).onRequest(({ request }) => {
    const ip = clientIp(peerAddress(request), request.headers.get('x-forwarded-for'), g.trustedProxies);
    if (ip !== undefined) addresses.set(request, ip);
    const allowed = checkClientIp(ip, g.allowed);
    if (!allowed.allowed) {
      g.audit.record({ event: 'ip_denied', ip, outcome: 'ip_denied' });
      return jsonError(403, allowed.reason);
    }
    if (ip === undefined) return undefined;
    const lockout = g.limiter.checkAuthLockout(ip);
    if (lockout.ok) return undefined;
    // A health check is never locked out; it gets the anonymous answer, so it cannot test a credential.
    if (request.method === 'GET' && URL.parse(request.url)?.pathname === '/healthz')
      return Response.json({ status: 'ok' });
    g.audit.record({ event: 'rate_limited', ip, outcome: lockout.limit });
    return tooMany(lockout);
  });
}

/**
 * For AuthOptions.onRefused: a 401 for a wrong credential counts toward the IP's lockout (a request
 * with none, what a client sends first, guesses nothing); every refusal is audited.
 */
export const onAuthRefused =
  (g: Guards) =>
  (request: Request, refusal: Refusal): void => {
    const ip = clientIpOf(request);
    if (refusal.status === 401 && !refusal.noCredential && ip !== undefined) g.limiter.noteAuthFailure(ip);
    g.audit.record({
      event: 'auth_failure',
      ip,
      claimedClientId: refusal.claimedClientId,
      outcome: refusal.status === 401 ? 'unauthenticated' : 'forbidden',
      detail: refusal.detail,
    });
  };

const held = new WeakMap<Request, { key: string; ticket: Ticket }>();
const streaming = new WeakMap<Request, () => void>();
const posting = new WeakMap<Request, () => void>();
// Matched on the route that will answer, not the path as spelled: `/mcp/` reaches the /mcp handler too.
const CALL_ROUTES = new Set(['/mcp', '/messages']);
const STREAM_ROUTES = new Set(['/mcp', '/sse']);

/** The same response, its body passed through, calling `done` once when it ends, fails or is cancelled. */
function onBodyEnd(response: Response, done: () => void): Response {
  const reader = response.body?.getReader();
  if (!reader) {
    done();
    return response;
  }
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: finished, value } = await reader.read();
        if (finished) {
          done();
          controller.close();
        } else controller.enqueue(value);
      } catch (e) {
        done();
        controller.error(e);
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  });
  return new Response(body, response);
}

export function rateLimit(g: Guards) {
  return new Elysia({ name: 'rate-limit', seed: g })
    .onBeforeHandle({ as: 'global' }, async ({ request, route }) => {
      if (!g.limiter.settings.enabled) return undefined;
      const key = keyOf(request);
      const refused = (d: Extract<Decision, { ok: false }>) => {
        g.audit.record({ event: 'rate_limited', ...whoOf(request), outcome: d.limit });
        return tooMany(d);
      };
      if (request.method === 'GET' && STREAM_ROUTES.has(route)) {
        const d = g.limiter.openStream(key);
        if (!d.ok) return refused(d);
        if (d.release) streaming.set(request, d.release);
        return undefined;
      }
      // Checks that need no body come first: a refused request is never read.
      const d = g.limiter.admitRequest(key);
      if (!d.ok) return refused(d);
      if (request.method !== 'POST' || !CALL_ROUTES.has(route) || !isJsonBody(request)) return undefined;
      const declared = Number(request.headers.get('content-length') ?? Number.NaN);
      const post = g.limiter.openPost(key, Number.isFinite(declared) ? declared : g.maxBodyBytes);
      if (!post.ok) return refused(post);
      if (post.release) posting.set(request, post.release);
      // Read and parsed once; the route and the SDK take the same parsed body.
      const body = await jsonBodyOf(request, g.maxBodyBytes);
      const calls = body instanceof Response || 'invalid' in body ? 0 : countToolCalls(body.value);
      const c = g.limiter.admitCalls(key, calls);
      if (!c.ok) return refused(c);
      if (c.ticket) held.set(request, { key, ticket: c.ticket });
      return undefined;
    })
    .onAfterHandle({ as: 'global' }, ({ request, responseValue }) => {
      const release = streaming.get(request);
      if (!release) return undefined;
      streaming.delete(request);
      const isStream =
        responseValue instanceof Response &&
        responseValue.headers.get('content-type')?.startsWith('text/event-stream');
      if (!isStream) {
        release();
        return undefined;
      }
      return onBodyEnd(responseValue, release);
    })
    .onAfterResponse({ as: 'global' }, ({ request }) => {
      const h = held.get(request);
      if (h) g.limiter.settle(h.key, h.ticket);
      // A stream slot not handed to a body (the handler threw) is freed here.
      streaming.get(request)?.();
      posting.get(request)?.();
    });
}

/** The pipeline observer for calls made through `request`'s server (a session's calls use its first request). */
export function callObserver(g: Guards, request: Request): PipelineEnv['observe'] {
  const key = keyOf(request);
  const who = whoOf(request);
  return (call) => {
    const end = g.limiter.callStarted(key);
    return ({ outcome, durationMs }) => {
      end();
      g.audit.record({
        ...auditFieldsOf(call),
        ...who,
        outcome: callOutcome(outcome),
        ...confirmationOf(outcome),
        durationMs,
      });
    };
  };
}
