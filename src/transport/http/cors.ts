/**
 * CORS through @elysiajs/cors, mounted only when origins are configured. The allowed origin is echoed
 * (never `*`) and credentials are never allowed, so a browser cannot send cookies or client
 * certificates cross-site. Which origin passes is our decision (`corsOrigin`), not the plugin's
 * matching (it ignores the scheme of configured origins).
 */
import { cors as elysiaCors } from '@elysiajs/cors';
import { Elysia } from 'elysia';

/**
 * Every header an MCP client sends in either era: the 2026-07-28 era requires `Mcp-Method` on each
 * request and `Mcp-Name` on those naming a tool, prompt or resource. (`Mcp-Param-*` mirrors only
 * arguments a tool declares `x-mcp-header`; none here does.)
 */
export const ALLOW_HEADERS = [
  'content-type',
  'accept',
  'authorization',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
];
const EXPOSE_HEADERS = ['mcp-session-id', 'mcp-protocol-version', 'www-authenticate', 'retry-after'];

const normalise = (origin: string) => origin.trim().toLowerCase().replace(/\/+$/, '');

/** The origin to echo, or undefined when this request gets no CORS headers. */
export function corsOrigin(origin: string | null, allowedOrigins: readonly string[]): string | undefined {
  if (origin === null || allowedOrigins.length === 0) return undefined;
  const o = normalise(origin);
  return allowedOrigins.some((a) => normalise(a) === o) ? origin : undefined;
}

export function cors(o: { allowedOrigins: readonly string[] }) {
  const plugin = new Elysia({ name: 'cors', seed: o });
  if (o.allowedOrigins.length === 0) return plugin;
  return plugin.use(
    elysiaCors({
      origin: (request: Request) => corsOrigin(request.headers.get('origin'), o.allowedOrigins) !== undefined,
      methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowedHeaders: ALLOW_HEADERS,
      exposeHeaders: EXPOSE_HEADERS,
      credentials: false,
      maxAge: 600,
    }),
  );
}
