import { describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { type DiscoveryInput, discoverCandidates, type FileReader } from '../../src/docker/discovery.ts';
import { negotiate } from '../../src/docker/engine.ts';

const base: DiscoveryInput = {
  dockerConfigDir: '/home/u/.docker',
  tlsVerify: false,
  home: '/home/u',
  platform: 'linux',
  uid: 1000,
};
const files = (map: Record<string, string>): FileReader => ({
  readText: (p) => map[p],
  exists: (p) => p in map || Object.keys(map).some((k) => k.startsWith(`${p}/`)),
});
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const contextMeta = (name: string, host: string) => ({
  [`/home/u/.docker/contexts/meta/${sha(name)}/meta.json`]: JSON.stringify({
    Name: name,
    Endpoints: { docker: { Host: host } },
  }),
});

describe('engine discovery', () => {
  it('uses DOCKER_HOST alone when it is set', () => {
    const c = discoverCandidates({ ...base, dockerHost: 'tcp://10.0.0.1:2375' }, files({}));
    expect(c).toEqual([
      { url: 'tcp://10.0.0.1:2375', source: 'DOCKER_HOST', tls: undefined, exclusive: true },
    ]);
  });

  it('picks up TLS files from DOCKER_CERT_PATH for tcp:// with DOCKER_TLS_VERIFY', () => {
    const fs = files({ '/certs/ca.pem': 'x', '/certs/cert.pem': 'x', '/certs/key.pem': 'x' });
    const [c] = discoverCandidates(
      { ...base, dockerHost: 'tcp://h:2376', tlsVerify: true, certPath: '/certs' },
      fs,
    );
    expect(c?.tls).toEqual({
      ca: '/certs/ca.pem',
      cert: '/certs/cert.pem',
      key: '/certs/key.pem',
      verify: true,
    });
  });

  it("follows config.json's current context", () => {
    const fs = files({
      '/home/u/.docker/config.json': JSON.stringify({ currentContext: 'colima' }),
      ...contextMeta('colima', 'unix:///home/u/.colima/default/docker.sock'),
    });
    expect(discoverCandidates(base, fs)).toEqual([
      {
        url: 'unix:///home/u/.colima/default/docker.sock',
        source: "Docker context 'colima'",
        tls: undefined,
        exclusive: true,
      },
    ]);
  });

  it('lets DOCKER_CONTEXT win over the current context', () => {
    const fs = files({
      '/home/u/.docker/config.json': JSON.stringify({ currentContext: 'colima' }),
      ...contextMeta('colima', 'unix:///colima.sock'),
      ...contextMeta('remote', 'tcp://r:2376'),
    });
    expect(discoverCandidates({ ...base, dockerContext: 'remote' }, fs)[0]?.url).toBe('tcp://r:2376');
  });

  it('explains a selected context whose metadata is missing', () => {
    expect(() => discoverCandidates({ ...base, dockerContext: 'gone' }, files({}))).toThrow(
      /context 'gone'.*docker context ls/,
    );
  });

  it('falls back to known sockets in order when the context is default', () => {
    const fs = files({ '/home/u/.docker/config.json': JSON.stringify({ currentContext: 'default' }) });
    const urls = discoverCandidates({ ...base, xdgRuntimeDir: '/run/user/1000' }, fs).map((c) => c.url);
    expect(urls.slice(0, 3)).toEqual([
      'unix:///var/run/docker.sock',
      'unix:///run/user/1000/docker.sock',
      'unix:///home/u/.docker/run/docker.sock',
    ]);
    for (const s of [
      '.colima/default/docker.sock',
      '.orbstack/run/docker.sock',
      '.rd/docker.sock',
      'podman/podman.sock',
    ])
      expect(urls.some((u) => u.endsWith(s))).toBe(true);
  });

  it('ignores a broken config.json rather than failing discovery', () => {
    const urls = discoverCandidates(base, files({ '/home/u/.docker/config.json': '{not json' })).map(
      (c) => c.url,
    );
    expect(urls[0]).toBe('unix:///var/run/docker.sock');
  });

  it('tries the Windows named pipe first on Windows', () => {
    expect(discoverCandidates({ ...base, platform: 'win32' }, files({}))[0]?.url).toBe(
      'npipe:////./pipe/docker_engine',
    );
  });

  it('speaks the older of the engine API version and ours', () => {
    expect(negotiate('1.41')).toBe('1.41');
    expect(negotiate('1.99')).toBe('1.47');
    expect(negotiate('1.9')).toBe('1.9');
  });
});
