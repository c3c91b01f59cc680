import { describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleManifest, MCPB_TARGETS, USER_CONFIG_ENV, validateManifest } from '../../packaging/mcpb.ts';
import { FIELDS } from '../../src/config/fields.ts';
import { loadConfig } from '../../src/config/layers.ts';

const target = MCPB_TARGETS[0] as (typeof MCPB_TARGETS)[number];
const manifest = bundleManifest(target, '1.2.3') as {
  user_config: Record<string, { type: string; default: unknown; description: string }>;
  server: { mcp_config: { env: Record<string, string> } };
};

describe('the .mcpb manifest', () => {
  it('offers the confirmation settings, each passed as the variable the server reads', () => {
    expect(USER_CONFIG_ENV).toMatchObject({
      confirm: 'MCP_DOCKER_CONFIRM',
      confirm_fallback: 'MCP_DOCKER_CONFIRM_FALLBACK',
    });
    const envNames = new Set([...FIELDS].flatMap(([, f]) => (f as { env?: string[] }).env ?? []));
    for (const [key, env] of Object.entries(USER_CONFIG_ENV)) {
      expect(envNames.has(env)).toBe(true);
      expect(manifest.server.mcp_config.env[env]).toBe(`\${user_config.${key}}`);
      expect(manifest.user_config[key]).toBeDefined();
    }
  });

  it('its defaults, as the app passes them (empty strings, false), are the server’s defaults', () => {
    const env = Object.fromEntries(
      Object.entries(USER_CONFIG_ENV).map(([key, name]) => [
        name,
        String(manifest.user_config[key]?.default),
      ]),
    );
    const c = loadConfig([], env).config;
    expect([c.confirm, c.confirmFallback, c.readOnly, c.allowDestructive, c.dockerHost]).toEqual([
      'destructive',
      'allow',
      false,
      false,
      undefined,
    ]);
    expect(loadConfig([], { ...env, MCP_DOCKER_CONFIRM_FALLBACK: 'refuse' }).config.confirmFallback).toBe(
      'refuse',
    );
  });

  it('says that docker_host replaces DOCKER_HOST, since the manifest always sets it', () => {
    expect(manifest.server.mcp_config.env.DOCKER_HOST).toBe(`\${user_config.docker_host}`);
    expect(manifest.user_config.docker_host?.description).toContain('replaces DOCKER_HOST');
  });

  it('passes the mcpb CLI’s validation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-mcpb-'));
    try {
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      expect(validateManifest(join(dir, 'manifest.json'))).toContain('validation passes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
