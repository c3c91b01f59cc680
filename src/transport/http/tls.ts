/** Reads the HTTPS certificate and key up front, so a bad path fails at startup with the file named. */
import { readFileSync } from 'node:fs';

export class StartupError extends Error {
  override name = 'StartupError';
}

export interface TlsFiles {
  cert: string;
  key: string;
}

export function loadTls(o: { enabled: boolean; certFile?: string; keyFile?: string }): TlsFiles | undefined {
  if (!o.enabled) return undefined;
  if (!o.certFile || !o.keyFile)
    throw new StartupError(
      'TLS is on but --tls-cert and --tls-key (MCP_TLS_CERT_FILE, MCP_TLS_KEY_FILE) are not both set',
    );
  return {
    cert: readPem(o.certFile, 'certificate', '--tls-cert'),
    key: readPem(o.keyFile, 'key', '--tls-key'),
  };
}

function readPem(path: string, what: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new StartupError(`cannot read TLS ${what} file '${path}' (${flag}): ${why}`);
  }
  if (!text.includes('-----BEGIN '))
    throw new StartupError(`TLS ${what} file '${path}' (${flag}) is not PEM (no -----BEGIN line)`);
  return text;
}

/** Bun.serve's errors as a sentence naming the setting to change. */
export function explainListenError(e: unknown, o: { host: string; port: number; tls: boolean }): string {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  if (err.code === 'EADDRINUSE' || /in use/i.test(msg))
    return `port ${o.port} on ${o.host} is already in use: stop the other server or pick another --port`;
  if (err.code === 'EADDRNOTAVAIL' || /not available|cannot assign/i.test(msg))
    return `cannot listen on ${o.host}: no such local address; check --host`;
  if (err.code === 'EACCES' || /permission/i.test(msg))
    return `not allowed to listen on ${o.host}:${o.port}: ports below 1024 need privileges; pick another --port`;
  if (o.tls && /key|cert|ssl|tls|pem/i.test(msg))
    return `TLS certificate and key were rejected (${msg.split('\n')[0]}): check that --tls-key is the private key of --tls-cert`;
  return `cannot listen on ${o.host}:${o.port}: ${msg.split('\n')[0]}`;
}
