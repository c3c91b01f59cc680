/**
 * A plain tcp:// engine that answers like a TLS-only dockerd: Go's TLS listener answers a plain HTTP
 * request with a 400 saying so. The failure says to set tlsDir, not "not a Docker engine".
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { configuredEngines } from '../../src/docker/engines.ts';

// What Go's net/http server writes to a plain HTTP request on a TLS port.
const tlsOnly = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch: () => new Response('Client sent an HTTP request to an HTTPS server.\n', { status: 400 }),
});
const other = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch: () => new Response('nope', { status: 400 }),
});
afterAll(() => {
  tlsOnly.stop(true);
  other.stop(true);
});

const failure = (port: number) =>
  configuredEngines([{ name: 'a', url: `tcp://127.0.0.1:${port}`, source: 'test' }], {
    dockerConfigDir: '/nonexistent/.docker',
    tlsVerify: false,
    home: '/nonexistent',
    platform: 'linux',
  })
    .resolve()
    .client(AbortSignal.timeout(5000))
    .then(
      () => '',
      (e: Error) => e.message,
    );

describe('plain tcp:// to an engine that wants TLS', () => {
  it('is told to set tlsDir, not that it is no Docker engine', async () => {
    const message = await failure(tlsOnly.port as number);
    expect(message).toContain(`tcp://127.0.0.1:${tlsOnly.port}: it wants TLS`);
    expect(message).toContain("set 'tlsDir' for this engine");
    expect(message).not.toContain('not a Docker engine');
  });

  it('leaves another 400 as it was', async () => {
    expect(await failure(other.port as number)).toContain('answered HTTP 400, not a Docker engine');
  });
});
