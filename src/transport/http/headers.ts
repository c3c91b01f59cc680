/** Security headers on every response: nothing here is a web page, nothing may be framed or cached. */
import { mutable, type Plugin } from './plugin.ts';

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

export function securityHeaders(o: { tls: boolean }): Plugin {
  const values = Object.entries(securityHeaderValues(o.tls));
  return {
    name: 'security-headers',
    mapResponse(_request, response) {
      const out = mutable(response);
      for (const [k, v] of values) out.headers.set(k, v);
      return out;
    },
  };
}
