import { describe, expect, it } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { dockerOptions } from '../../src/docker/client-options.ts';
import { nodeFileReader } from '../../src/docker/engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpd-tls-'));
for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `${f} contents`);
const tls = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };

describe('client options per kind of engine', () => {
  it('speaks https with the engine’s ca, cert and key for tcp:// with TLS, verifying by default', () => {
    const o = dockerOptions(
      { url: 'tcp://10.0.0.1:2376', source: 's', exclusive: true, tls: { ...tls, verify: true } },
      nodeFileReader,
    ) as Record<string, unknown>;
    expect(o).toMatchObject({ protocol: 'https', host: '10.0.0.1', port: 2376 });
    expect([o.ca, o.cert, o.key]).toEqual(['ca.pem contents', 'cert.pem contents', 'key.pem contents']);
    expect(o.agent).toBeUndefined();
  });

  it('with tlsVerify false, encrypts without checking the certificate', async () => {
    const o = dockerOptions(
      { url: 'tcp://10.0.0.1:2376', source: 's', exclusive: true, tls: { ...tls, verify: false } },
      nodeFileReader,
      { https: await import('node:https') },
    ) as { agent?: HttpsAgent; protocol?: string };
    expect(o.protocol).toBe('https');
    expect(o.agent).toBeInstanceOf(HttpsAgent);
    expect(
      (o.agent as unknown as { options: { rejectUnauthorized: boolean } }).options.rejectUnauthorized,
    ).toBe(false);
  });

  it('sends ssh:// through the engine’s own agent (our SSH transport), never docker-modem’s', () => {
    const agent = new HttpAgent();
    const o = dockerOptions({ url: 'ssh://u@h:2222', source: 's', exclusive: true }, nodeFileReader, {
      sshAgent: agent,
    });
    expect(o).toMatchObject({ protocol: 'http', agent });
    expect(() => dockerOptions({ url: 'ssh://u@h', source: 's', exclusive: true }, nodeFileReader)).toThrow();
  });

  it('keeps the DOCKER_HOST of the process out of an engine’s client', () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://10.9.9.9:2375';
    try {
      const docker = new Dockerode(
        dockerOptions({ url: 'unix:///run/other.sock', source: 's', exclusive: true }, nodeFileReader),
      );
      const modem = docker.modem as unknown as { socketPath?: string; host?: string };
      expect(modem.socketPath).toBe('/run/other.sock');
      expect(modem.host).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
