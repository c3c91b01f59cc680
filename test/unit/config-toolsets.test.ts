import { describe, expect, it } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/layers.ts';
import { ConfigError } from '../../src/config/meta.ts';
import { runtimeOf } from '../../src/config/runtime.ts';
import { resolveToolsets } from '../../src/config/toolsets.ts';
import { DEFAULT_TOOLSETS, TOOLSETS } from '../../src/core/toolsets.ts';

const toolsetsOf = (argv: string[], env: Record<string, string> = {}) => {
  const { config, host } = loadConfig(argv, env);
  return runtimeOf(config, host).pipeline.profile.toolsets;
};

describe('toolsets setting', () => {
  it('defaults to the default set, swarm off', () => {
    expect(toolsetsOf([])).toEqual([...DEFAULT_TOOLSETS]);
    expect(toolsetsOf([])).not.toContain('swarm');
  });

  it('expands the keywords default and all, keeps catalogue order and drops repeats', () => {
    expect(toolsetsOf(['--toolsets', 'default,swarm'])).toEqual([...DEFAULT_TOOLSETS, 'swarm']);
    expect(toolsetsOf(['--toolsets=all'])).toEqual([...TOOLSETS]);
    expect(toolsetsOf(['--toolsets', 'volumes,containers,volumes'])).toEqual(['containers', 'volumes']);
    expect(resolveToolsets([' Images '])).toEqual(['images']);
  });

  it('reads MCP_DOCKER_TOOLSETS and the config file key, flags winning over env over file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpd-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ toolsets: ['images'] }));
    expect(toolsetsOf(['--config', file])).toEqual(['images']);
    expect(toolsetsOf(['--config', file], { MCP_DOCKER_TOOLSETS: 'networks' })).toEqual(['networks']);
    expect(
      toolsetsOf(['--config', file, '--toolsets', 'swarm'], { MCP_DOCKER_TOOLSETS: 'networks' }),
    ).toEqual(['swarm']);
    writeFileSync(file, JSON.stringify({ toolsets: 'default,swarm' }));
    expect(toolsetsOf(['--config', file])).toContain('swarm');
  });

  it('stops start-up on an unknown name, naming it, its layer and every known toolset', () => {
    const refuse = (argv: string[], env: Record<string, string> = {}) => {
      try {
        loadConfig(argv, env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('loaded');
    };
    const message = refuse(['--toolsets', 'default,swarms']);
    expect(message).toContain("setting 'toolsets' (from flag --toolsets): unknown toolset 'swarms'");
    for (const name of [...TOOLSETS, 'default', 'all']) expect(message).toContain(name);
    expect(refuse([], { MCP_DOCKER_TOOLSETS: 'kubernetes' })).toMatch(
      /from env MCP_DOCKER_TOOLSETS\): unknown toolset 'kubernetes'/,
    );
  });

  it('refuses an empty list given as a flag, which would switch every tool off', () => {
    expect(() => loadConfig(['--toolsets='], {})).toThrow(/toolsets.*names no toolset/);
    expect(() => loadConfig(['--toolsets='], {})).toThrow(ConfigError);
  });

  it('reads an empty MCP_DOCKER_TOOLSETS as unset, as every other empty variable', () => {
    const { config, sources } = loadConfig([], { MCP_DOCKER_TOOLSETS: '' });
    expect(config.toolsets).toEqual(['default']);
    expect(sources.toolsets).toBeUndefined();
  });
});
