/** Where the server may listen: loopback freely; anything else only with TLS and authentication, or an override. */

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
  /** Some authentication method is configured. */
  auth: boolean;
  allowInsecureBind: boolean;
  allowedHosts: readonly string[];
}

export type BindDecision = { ok: true; loopback: boolean; warning?: string } | { ok: false; error: string };

const TLS_FIX = '--tls with --tls-cert and --tls-key (MCP_TLS_ENABLED, MCP_TLS_CERT_FILE, MCP_TLS_KEY_FILE)';
const AUTH_FIX = '--auth-file, --ssh-authorized-keys or --oauth (see docs/SECURITY.md)';

/**
 * Off loopback, whoever reaches the port controls the Docker engine: that needs TLS (credentials and
 * results never in clear text) and authentication, or an explicit override that is logged loudly.
 */
export function checkBind({ host, tls, auth, allowInsecureBind, allowedHosts }: BindRequest): BindDecision {
  if (isLoopbackHost(host)) return { ok: true, loopback: true };
  const missing = [...(tls ? [] : ['TLS']), ...(auth ? [] : ['authentication'])];
  if (missing.length > 0 && !allowInsecureBind) {
    const fixes = [...(tls ? [] : [TLS_FIX]), ...(auth ? [] : [AUTH_FIX])].join(', and ');
    return {
      ok: false,
      error: `refusing to listen on non-loopback address '${host}' without ${missing.join(' and ')}: set ${fixes}; or use --host 127.0.0.1 (--allow-insecure-bind overrides, at your risk)`,
    };
  }
  // Off loopback only configured names pass the Host check: without any, every request would be refused.
  if (allowedHosts.length === 0)
    return {
      ok: false,
      error: `listening on '${host}' needs --allowed-hosts (MCP_DOCKER_ALLOWED_HOSTS): the names clients use to reach this server, e.g. mcp.example.com`,
    };
  if (missing.length === 0) return { ok: true, loopback: false };
  const what = missing.includes('authentication')
    ? 'anyone who can reach this port controls the Docker engine'
    : 'credentials and results cross the network in clear text';
  return {
    ok: true,
    loopback: false,
    warning: `INSECURE: listening on '${host}' without ${missing.join(' and ')} (--allow-insecure-bind): ${what}`,
  };
}
