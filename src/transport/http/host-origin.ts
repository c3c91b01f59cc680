/**
 * DNS-rebinding defence: a browser page on evil.example that re-points its name at 127.0.0.1 still
 * sends `Host: evil.example`, and a cross-site page sends its own `Origin`. Both are checked before
 * anything else runs; non-browser clients send no Origin and pass that check.
 */
import { Elysia } from 'elysia';
import { isLoopbackHost } from './bind.ts';
import { jsonError } from './plugin.ts';
import { type OnRefused, screened } from './refusals.ts';

export interface HostOriginOptions {
  /** The server listens on loopback: loopback names are accepted besides the configured ones. */
  loopback: boolean;
  /** The port actually bound (a Host header that names another port is refused); 0 = not known. */
  port: () => number;
  /** HTTPS: a Host with no port means 443 (else 80). */
  tls?: boolean;
  /** `name` (any port) or `name:port`. */
  allowedHosts: readonly string[];
  /** Full origins, e.g. `https://app.example.com`. */
  allowedOrigins: readonly string[];
  /** Told of every refusal (audit, log: refusals.ts). */
  onRefused?: OnRefused;
}

/** `name[:port]` or `[v6][:port]` → lower-case name (brackets kept for v6) and port. */
export function parseHostHeader(value: string): { name: string; port?: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return undefined;
  const name = (m[1] as string).toLowerCase();
  return m[2] === undefined ? { name } : { name, port: Number(m[2]) };
}

export function checkHost(value: string | null, o: Omit<HostOriginOptions, 'allowedOrigins'>): boolean {
  if (value === null) return false;
  const host = parseHostHeader(value);
  if (!host) return false;
  for (const entry of o.allowedHosts) {
    const allowed = parseHostHeader(entry);
    if (allowed && allowed.name === host.name && (allowed.port === undefined || allowed.port === host.port))
      return true;
  }
  if (!o.loopback || !isLoopbackHost(host.name)) return false;
  const port = o.port();
  // No port means the scheme's default: another server, unless that is the port bound.
  const named = host.port ?? (o.tls ? 443 : 80);
  return port === 0 || named === port;
}

const normaliseOrigin = (origin: string) => origin.trim().toLowerCase().replace(/\/+$/, '');

export function checkOrigin(
  origin: string | null,
  o: Pick<HostOriginOptions, 'loopback' | 'allowedOrigins'>,
): boolean {
  if (origin === null) return true;
  const wanted = normaliseOrigin(origin);
  if (o.allowedOrigins.some((a) => normaliseOrigin(a) === wanted)) return true;
  if (!o.loopback) return false;
  try {
    const url = new URL(wanted);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
  } catch {
    return false; // includes the opaque origin "null"
  }
}

/**
 * The Host header, or the URL's host for in-process requests that never went through a socket; null
 * when there is neither (an HTTP/1.0 request without Host reaches us with a relative URL).
 */
const hostOf = (request: Request) => request.headers.get('host') ?? URL.parse(request.url)?.host ?? null;

export function hostOriginGuard(o: HostOriginOptions) {
  return new Elysia({ name: 'host-origin', seed: o }).onRequest(({ request }) => {
    const host = hostOf(request);
    if (host === null) return jsonError(400, 'Host header required: send the name you reach this server by');
    if (!checkHost(host, o)) {
      o.onRefused?.(request, { outcome: 'host_not_allowed', detail: `Host ${screened(host)} not allowed` });
      return jsonError(403, 'Host header not allowed; add it to --allowed-hosts if this name is yours');
    }
    const origin = request.headers.get('origin');
    if (!checkOrigin(origin, o)) {
      o.onRefused?.(request, {
        outcome: 'origin_not_allowed',
        detail: `Origin ${screened(origin ?? '')} not allowed`,
      });
      return jsonError(403, 'Origin not allowed; add it to --allowed-origins if this page is yours');
    }
    return undefined;
  });
}
