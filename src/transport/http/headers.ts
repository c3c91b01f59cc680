/** Security headers on every response: nothing here is a web page, nothing may be framed or cached. */
import { Elysia } from 'elysia';

export function securityHeaderValues(tls: boolean): Record<string, string> {
  return {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    ...(tls && { 'strict-transport-security': 'max-age=31536000' }),
  };
}

/**
 * Set before anything can answer, so early refusals, 404s and errors carry them too. A route's own
 * header of the same name would win; `mapResponse` restores ours on route answers (the SDK's event
 * streams say `cache-control: no-cache`).
 */
export function securityHeaders(o: { tls: boolean }) {
  const values = securityHeaderValues(o.tls);
  const entries = Object.entries(values);
  return new Elysia({ name: 'security-headers', seed: o })
    .onRequest(({ set }) => {
      Object.assign(set.headers, values);
    })
    .mapResponse({ as: 'global' }, ({ responseValue }) => {
      if (!(responseValue instanceof Response)) return undefined;
      // Headers of a fetched Response are immutable: copy it (the body stream moves, unread).
      let out = responseValue;
      try {
        for (const [k, v] of entries) out.headers.set(k, v);
      } catch {
        out = new Response(responseValue.body, responseValue);
        for (const [k, v] of entries) out.headers.set(k, v);
      }
      return out;
    });
}
