/**
 * A tcp:// engine with TLS: the test engine's unix socket behind a TLS terminator on 127.0.0.1 that
 * demands a client certificate (as `dockerd --tlsverify` does), with a CA, server and client
 * certificates made here with openssl. The real engine answers; only the transport is TLS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import type { DiscoveryInput } from '../../src/docker/discovery.ts';
import type { Engine } from '../../src/docker/engine.ts';
import { configuredEngines } from '../../src/docker/engines.ts';
import { type EngineCall, setRequestGuard } from '../../src/docker/request.ts';
import { testDocker, testSocket } from '../helpers/engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-tls-'));
const socket = testSocket();
let server: Server;
let port = 0;
const opened: Engine[] = [];
const base: DiscoveryInput = {
  dockerConfigDir: join(dir, '.docker'),
  tlsVerify: false,
  home: dir,
  platform: 'linux',
};

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
/** A CA, and a certificate it signs (`ext` adds extensions, e.g. the server's SAN). */
function makeCa(name: string) {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.pem`,
  );
}
function makeCert(ca: string, name: string, ext?: string) {
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.csr`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}-key.pem`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.pem`,
    ...(ext ? ['-extfile', ext] : []),
  );
}
/** A tlsDir as the Docker CLI lays it out: ca.pem, cert.pem, key.pem. */
function tlsDir(name: string, ca: string, client: string) {
  const d = join(dir, name);
  mkdirSync(d);
  copyFileSync(join(dir, `${ca}.pem`), join(d, 'ca.pem'));
  copyFileSync(join(dir, `${client}.pem`), join(d, 'cert.pem'));
  copyFileSync(join(dir, `${client}-key.pem`), join(d, 'key.pem'));
  return d;
}
const tlsEngine = (name: string, tlsDirPath: string, tlsVerify?: boolean) => {
  const engine = configuredEngines(
    [{ name, url: `tcp://127.0.0.1:${port}`, source: 'test', tlsDir: tlsDirPath, tlsVerify }],
    base,
  ).resolve();
  opened.push(engine);
  return engine;
};

beforeAll(async () => {
  makeCa('ca');
  makeCa('other-ca');
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${join(dir, 'san.ext')}`]);
  makeCert('ca', 'server', join(dir, 'san.ext'));
  makeCert('ca', 'client');
  makeCert('other-ca', 'stranger');
  server = createServer(
    {
      key: readFileSync(join(dir, 'server-key.pem')),
      cert: readFileSync(join(dir, 'server.pem')),
      ca: readFileSync(join(dir, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (tls) => {
      const engine = connect(socket);
      tls.pipe(engine).pipe(tls);
      tls.on('error', () => engine.destroy());
      engine.on('error', () => tls.destroy());
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(() => {
  for (const e of opened) e.close();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a tcp:// engine with TLS', () => {
  it('answers over https with the tlsDir certificates, through the request guard', async () => {
    const seen: EngineCall[] = [];
    setRequestGuard((call) => {
      seen.push(call);
    });
    try {
      const engine = tlsEngine('tls', tlsDir('good', 'ca', 'client'));
      const docker = await engine.client(AbortSignal.timeout(10_000));
      expect((await docker.version()).Version).toBe((await testDocker().version()).Version);
      await docker.listContainers({ limit: 1 });
      expect(engine.info()?.url).toBe(`tcp://127.0.0.1:${port}`);
      expect(engine.facts.sharesFilesystem).toBe(false);
      // Plain calls went through dockerode's https transport and the guard (no unix fetch path here).
      expect(seen.map((c) => `${c.method} ${c.path}`)).toContain('GET /containers/json');
    } finally {
      setRequestGuard(undefined);
    }
  });

  it('refuses an engine whose certificate its ca.pem did not sign', async () => {
    const engine = tlsEngine('wrong-ca', tlsDir('wrong-ca', 'other-ca', 'client'));
    const err = await engine.client(AbortSignal.timeout(10_000)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(
      `tcp://127.0.0.1:${port}: TLS: the engine's certificate is not trusted by ca.pem`,
    );
    expect(engine.info()).toBeUndefined();
  });

  it('with tlsVerify false, connects without checking the engine certificate', async () => {
    const engine = tlsEngine('no-verify', tlsDir('no-verify', 'other-ca', 'client'), false);
    const docker = await engine.client(AbortSignal.timeout(10_000));
    expect((await docker.ping()).toString()).toBe('OK');
  });

  it('is refused by the engine when its client certificate is not the engine CA’s', async () => {
    const engine = tlsEngine('stranger', tlsDir('stranger', 'ca', 'stranger'));
    const err = await engine.client(AbortSignal.timeout(10_000)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain('does it accept the client certificate in tlsDir?');
    expect(engine.info()).toBeUndefined();
  });
});
