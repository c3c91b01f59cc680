/**
 * TLS material for a private engine on tcp://127.0.0.1, made with openssl the way Docker's docs do:
 * a CA, a server certificate for IP:127.0.0.1 signed by it, and a client certificate for the server's
 * side of the connection. The client directory holds ca.pem, cert.pem and key.pem (DOCKER_CERT_PATH's
 * layout), the shape an engine's `tlsDir` expects.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  /** The daemon's --tlscacert, --tlscert, --tlskey. */
  server: { ca: string; cert: string; key: string };
  /** ca.pem, cert.pem, key.pem: what a client's tlsDir holds. */
  clientDir: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the engine. */
  strangerCaDir: string;
}

const openssl = (cwd: string, ...args: string[]) =>
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function makeCa(dir: string, name: string): void {
  openssl(dir, 'genrsa', '-out', 'ca-key.pem', '2048');
  openssl(
    dir,
    'req',
    '-new',
    '-x509',
    '-days',
    '2',
    '-key',
    'ca-key.pem',
    '-subj',
    `/CN=${name}`,
    '-out',
    'ca.pem',
  );
}

function sign(dir: string, name: string, cn: string, ext: string): void {
  openssl(dir, 'genrsa', '-out', `${name}-key.pem`, '2048');
  openssl(dir, 'req', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    dir,
    'x509',
    '-req',
    '-days',
    '2',
    '-sha256',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  );
}

/** Makes the CA, server and client certificates under `dir` (created). */
export function makeTls(dir: string): TlsFiles {
  mkdirSync(dir, { recursive: true });
  makeCa(dir, 'mcp-docker test CA');
  sign(dir, 'server', '127.0.0.1', 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
  sign(dir, 'client', 'mcp-docker-test-client', 'extendedKeyUsage = clientAuth\n');
  const clientDir = join(dir, 'client');
  mkdirSync(clientDir, { recursive: true });
  execFileSync('cp', [join(dir, 'ca.pem'), join(clientDir, 'ca.pem')]);
  execFileSync('cp', [join(dir, 'client.pem'), join(clientDir, 'cert.pem')]);
  execFileSync('cp', [join(dir, 'client-key.pem'), join(clientDir, 'key.pem')]);
  const strangerCaDir = join(dir, 'stranger');
  mkdirSync(strangerCaDir, { recursive: true });
  makeCa(strangerCaDir, 'a CA nobody uses');
  execFileSync('cp', [join(dir, 'client.pem'), join(strangerCaDir, 'cert.pem')]);
  execFileSync('cp', [join(dir, 'client-key.pem'), join(strangerCaDir, 'key.pem')]);
  return {
    server: { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') },
    clientDir,
    strangerCaDir,
  };
}
