/** Where the server may listen: loopback freely; anything else only behind TLS and an explicit override. */

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

/** True for localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  if (LOOPBACK_NAMES.has(h)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface BindRequest {
  host: string;
  tls: boolean;
  allowInsecureBind: boolean;
  allowedHosts: readonly string[];
}

export type BindDecision = { ok: true; loopback: boolean; warning?: string } | { ok: false; error: string };

/**
 * Authentication does not exist yet, so every non-loopback bind exposes the engine to whoever can
 * reach the port: it needs TLS (no tokens or results in clear text later either) and the override.
 */
export function checkBind({ host, tls, allowInsecureBind, allowedHosts }: BindRequest): BindDecision {
  if (isLoopbackHost(host)) return { ok: true, loopback: true };
  if (!tls)
    return {
      ok: false,
      error: `refusing to listen on non-loopback address '${host}' without TLS: set --tls with --tls-cert and --tls-key (MCP_TLS_ENABLED, MCP_TLS_CERT_FILE, MCP_TLS_KEY_FILE), or use --host 127.0.0.1`,
    };
  if (!allowInsecureBind)
    return {
      ok: false,
      error: `refusing to listen on non-loopback address '${host}': clients are not authenticated, so anyone who can reach the port controls the Docker engine. Add --allow-insecure-bind (MCP_DOCKER_ALLOW_INSECURE_BIND=true) to accept that, or use --host 127.0.0.1`,
    };
  // Off loopback only configured names pass the Host check: without any, every request would be refused.
  if (allowedHosts.length === 0)
    return {
      ok: false,
      error: `listening on '${host}' needs --allowed-hosts (MCP_DOCKER_ALLOWED_HOSTS): the names clients use to reach this server, e.g. mcp.example.com`,
    };
  return {
    ok: true,
    loopback: false,
    warning: `INSECURE: listening on '${host}' without client authentication (--allow-insecure-bind); anyone who can reach this port controls the Docker engine`,
  };
}
