import { describe, expect, it } from 'bun:test';
import { loadConfig } from '../../src/config/layers.ts';
import { runtimeOf } from '../../src/config/runtime.ts';
import { resolveAuthFile } from '../../src/transport/http/credentials.ts';
import { testProfile } from '../helpers/stub-engine.ts';

const load = (argv: string[], env: Record<string, string> = {}) => loadConfig(argv, env).config;

describe('--confirm, --confirm-fallback, --confirm-timeout', () => {
  it('default to destructive, allow and five minutes', () => {
    const c = load([]);
    expect([c.confirm, c.confirmFallback, c.confirmTimeoutSeconds]).toEqual(['destructive', 'allow', 300]);
  });

  it('come from flags over env, and reach the pipeline settings', () => {
    const env = {
      MCP_DOCKER_CONFIRM: 'none',
      MCP_DOCKER_CONFIRM_FALLBACK: 'refuse',
      MCP_DOCKER_CONFIRM_TIMEOUT: '60',
    };
    expect(load([], env).confirm).toBe('none');
    const c = load(['--confirm', 'all', '--confirm-timeout', '30'], env);
    expect(c.confirm).toBe('all');
    expect(runtimeOf(c, { home: '/h' } as never).pipeline.confirm).toEqual({
      mode: 'all',
      fallback: 'refuse',
      timeoutSeconds: 30,
    });
  });

  it('refuse a value they do not know, naming the key', () => {
    expect(() => load(['--confirm', 'sometimes'])).toThrow(/confirm/);
    expect(() => load([], { MCP_DOCKER_CONFIRM_FALLBACK: 'ask' })).toThrow(
      /MCP_DOCKER_CONFIRM_FALLBACK|confirmFallback/,
    );
  });
});

describe("an auth-file profile's confirm", () => {
  const file = (confirm: unknown) => ({
    profiles: { unattended: { base: 'full', confirm } },
    clients: { robot: { profile: 'unattended' } },
  });

  it('is carried to the credential’s profile; absent, the server’s setting applies', () => {
    const auth = resolveAuthFile(file('none'), testProfile({ allowDestructive: true }));
    expect(auth.clients.get('robot')?.profile.confirm).toBe('none');
    const plain = resolveAuthFile(
      { clients: { robot: { profile: 'full' } } },
      testProfile({ allowDestructive: true }),
    );
    expect(plain.clients.get('robot')?.profile.confirm).toBeUndefined();
  });

  it('is refused when it is not destructive, all or none', () => {
    expect(() => resolveAuthFile(file('maybe'), testProfile())).toThrow(/confirm/);
  });
});
