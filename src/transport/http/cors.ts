/**
 * CORS, off unless origins are configured. The allowed origin is echoed (never `*`) and credentials
 * are never allowed, so a browser cannot send cookies or client certificates cross-site.
 */
import { mutable, type Plugin } from './plugin.ts';

const ALLOW_HEADERS =
  'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id';
const EXPOSE_HEADERS = 'mcp-session-id, mcp-protocol-version';

/** The origin to echo, or undefined when this request gets no CORS headers. */
export function corsOrigin(origin: string | null, allowedOrigins: readonly string[]): string | undefined {
  if (origin === null || allowedOrigins.length === 0) return undefined;
  const o = origin.trim().toLowerCase().replace(/\/+$/, '');
  return allowedOrigins.some((a) => a.trim().toLowerCase().replace(/\/+$/, '') === o) ? origin : undefined;
}

export function cors(o: { allowedOrigins: readonly string[] }): Plugin {
  return {
    name: 'cors',
    onRequest(request) {
      const origin = corsOrigin(request.headers.get('origin'), o.allowedOrigins);
      if (request.method !== 'OPTIONS' || !origin) return undefined;
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
          'access-control-allow-headers': ALLOW_HEADERS,
          'access-control-max-age': '600',
        },
      });
    },
    mapResponse(request, response) {
      const origin = corsOrigin(request.headers.get('origin'), o.allowedOrigins);
      if (!origin) return response;
      const out = mutable(response);
      out.headers.set('access-control-allow-origin', origin);
      out.headers.set('access-control-expose-headers', EXPOSE_HEADERS);
      out.headers.append('vary', 'Origin');
      return out;
    },
  };
}
