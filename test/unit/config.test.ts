import { describe, expect, it } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, win32 } from 'node:path';
import { helpText } from '../../src/config/help.ts';
import { inDir } from '../../src/config/host.ts';
import { loadConfig } from '../../src/config/layers.ts';
import { ConfigError } from '../../src/config/meta.ts';
import { splitCommandArgv } from '../../src/config/parse.ts';
import { runtimeOf } from '../../src/config/runtime.ts';

const load = (argv: string[], env: Record<string, string> = {}) => loadConfig(argv, env).config;

describe('config', () => {
  it('has the seed defaults: moderate on, destructive off, privileged off, 256 KiB cap', () => {
    const c = load([]);
    expect(c.allowModerate).toBe(true);
    expect(c.allowDestructive).toBe(false);
    expect(c.allowPrivileged).toBe(false);
    expect(c.maxResponseBytes).toBe(262_144);
    expect(c.transport).toBe('stdio');
  });

  it('reads the seed env names', () => {
    const c = load([], {
      SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'True',
      SAFETY_ALLOW_MODERATE_OPERATIONS: '0',
      SAFETY_DENIED_TOOLS: 'docker_remove_container, docker_kill_container',
      SAFETY_ALLOWED_TOOLS: '["docker_list_containers"]',
      SAFETY_MAX_RESPONSE_BYTES: '4096',
      DOCKER_BASE_URL: 'unix:///x.sock',
      MCP_LOG_LEVEL: 'WARNING',
    });
    expect(c.allowDestructive).toBe(true);
    expect(c.allowModerate).toBe(false);
    expect(c.deniedTools).toEqual(['docker_remove_container', 'docker_kill_container']);
    expect(c.allowedTools).toEqual(['docker_list_containers']);
    expect(c.maxResponseBytes).toBe(4096);
    expect(c.dockerHost).toBe('unix:///x.sock');
    expect(c.logLevel).toBe('warn');
  });

  it('prefers DOCKER_HOST over the seed DOCKER_BASE_URL', () => {
    expect(load([], { DOCKER_HOST: 'unix:///a', DOCKER_BASE_URL: 'unix:///b' }).dockerHost).toBe('unix:///a');
  });

  it('lets flags win over env, and env over the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpd-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ timeoutSeconds: 7, maxLogLines: 5, deniedTools: 'a,b' }));
    const c = load(['--config', file, '--timeout', '9'], {
      MCP_DOCKER_TIMEOUT: '8',
      SAFETY_MAX_LOG_LINES: '6',
    });
    expect(c.timeoutSeconds).toBe(9);
    expect(c.maxLogLines).toBe(6);
    expect(c.deniedTools).toEqual(['a', 'b']);
  });

  it('accepts --flag=value, bare boolean flags and --no-flag', () => {
    const c = load(['--read-only', '--no-allow-moderate', '--max-log-lines=50']);
    expect(c.readOnly).toBe(true);
    expect(c.allowModerate).toBe(false);
    expect(c.maxLogLines).toBe(50);
  });

  it('rejects an unknown flag, naming it and pointing at --help', () => {
    expect(() => load(['--bogus'])).toThrow(/unknown option '--bogus'.*--help/);
  });

  it('names the env var and the accepted values for a bad boolean', () => {
    expect(() => load([], { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'maybe' })).toThrow(
      /env SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: expected true or false, got 'maybe'/,
    );
  });

  it('names the setting and its layer when a value is out of range', () => {
    expect(() => load(['--max-response-bytes', '10'])).toThrow(
      /maxResponseBytes.*flag --max-response-bytes.*>= 1024, got 10/,
    );
    expect(() => load([], { MCP_LOG_LEVEL: 'loud' })).toThrow(/logLevel.*MCP_LOG_LEVEL.*one of/);
  });

  it('rejects an unknown key in the config file, listing the known ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpd-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ allowDestrucive: true }));
    expect(() => load(['--config', file])).toThrow(ConfigError);
    expect(() => load(['--config', file])).toThrow(/unknown setting 'allowDestrucive'.*allowDestructive/);
  });

  it('says so when the config file is missing', () => {
    expect(() => load(['--config', '/nonexistent/mcpd.json'])).toThrow(/file not found/);
  });

  it('generates --help from the schema: every flag with its env names and defaults', () => {
    const help = helpText('1.2.3');
    expect(help).toContain('mcp-docker 1.2.3');
    expect(help).toContain('--allow-destructive');
    expect(help).toContain('SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS');
    expect(help).toMatch(/--max-response-bytes <n>\s+Cap on one result, in bytes \[default: 262144\]/);
  });
});

describe('the default engine’s address (DOCKER_HOST, --docker-host, dockerHost)', () => {
  const refusal = (argv: string[], env: Record<string, string> = {}) => {
    try {
      loadConfig(argv, env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    return undefined;
  };

  it('accepts what the docker CLI and Docker’s SDKs connect to', () => {
    for (const url of [
      'unix:///var/run/docker.sock',
      'tcp://127.0.0.1:2375',
      'tcp://[::1]:2376',
      'ssh://me@build.example',
      'npipe:////./pipe/docker_engine',
      'http://localhost:2375',
      'https://docker.example:2376',
    ])
      expect(refusal([], { DOCKER_HOST: url })).toBeUndefined();
    expect(refusal([], { DOCKER_HOST: '' })).toBeUndefined(); // empty = unset (the .mcpb's default)
  });

  it('refuses a typo in the scheme, naming the setting, its source and the schemes', () => {
    expect(refusal(['--docker-host', 'tpc://localhost:2375'])).toBe(
      "setting 'dockerHost' (from flag --docker-host): unsupported scheme 'tpc://' in 'tpc://localhost:2375'. Use unix:///path, tcp://host:port, ssh://user@host, npipe:////./pipe/NAME, http:// or https://.",
    );
    expect(refusal([], { DOCKER_HOST: 'tpc://x' })).toContain(
      "(from env DOCKER_HOST): unsupported scheme 'tpc://'",
    );
  });

  it('reads a bare HOST:PORT as tcp://, as the docker CLI does', () => {
    expect(load([], { DOCKER_HOST: 'localhost:2375' }).dockerHost).toBe('tcp://localhost:2375');
    expect(load(['--docker-host', '[::1]:2376']).dockerHost).toBe('tcp://[::1]:2376');
  });

  it('does not keep --help or --version from answering', () => {
    expect(refusal(['--help'], { DOCKER_HOST: 'tpc://x' })).toBeUndefined();
    expect(refusal(['--version'], { DOCKER_HOST: 'tpc://x' })).toBeUndefined();
  });

  it('explains fd://, a missing scheme and a relative socket path', () => {
    expect(refusal([], { DOCKER_HOST: 'fd://' })).toContain("a daemon's listening address");
    expect(refusal([], { DOCKER_HOST: 'localhost' })).toContain('(no scheme)');
    expect(refusal([], { DOCKER_HOST: 'unix://docker.sock' })).toContain('needs an absolute socket path');
    expect(refusal([], { DOCKER_HOST: 'tcp://' })).toContain('names no host');
  });

  it('leaves it alone when configured engines replace the default one', () => {
    expect(refusal(['--engine', 'a=unix:///a.sock'], { DOCKER_HOST: 'tpc://x' })).toBeUndefined();
  });

  it('reports where it came from: a flag or file key in full, an env variable by name', () => {
    const settings = (argv: string[], env: Record<string, string> = {}) => {
      const { config, sources, host } = loadConfig(argv, env);
      return runtimeOf(config, host, sources).engineSettings.dockerHostSource;
    };
    expect(settings(['--docker-host', 'unix:///a.sock'])).toBe('flag --docker-host');
    expect(settings([], { DOCKER_HOST: 'unix:///a.sock' })).toBe('DOCKER_HOST');
  });
});

describe('subcommand arguments', () => {
  it('gives server options (with their values) to the config and the rest to the command', () => {
    const split = splitCommandArgv([
      '--json',
      '--docker-host',
      'unix:///x.sock',
      '--read-only',
      '--stdin',
      'claude-desktop',
      '--timeout=5',
      '--no-allow-moderate',
      '--tls',
      'false',
    ]);
    expect(split.config).toEqual([
      '--docker-host',
      'unix:///x.sock',
      '--read-only',
      '--timeout=5',
      '--no-allow-moderate',
      '--tls',
      'false',
    ]);
    expect(split.command).toEqual(['--json', '--stdin', 'claude-desktop']);
    expect(loadConfig(split.config, {}).config.readOnly).toBe(true);
  });
});

describe('config defaults', () => {
  // resolveConfig checks only what a layer set: the defaults must hold to the schema on their own.
  it('satisfy the whole schema, so a server started with no settings needs no check', async () => {
    const { Value } = await import('typebox/value');
    const { ConfigSchema } = await import('../../src/config/schema.ts');
    const { FIELDS } = await import('../../src/config/fields.ts');
    const defaults = Object.fromEntries(
      FIELDS.filter(([, s]) => 'default' in s).map(([k, s]) => [k, (s as { default: unknown }).default]),
    );
    expect(Value.Check(ConfigSchema, defaults)).toBe(true);
    const { config } = loadConfig([], {});
    expect(Value.Check(ConfigSchema, config)).toBe(true);
  });

  it('are read from the schema as data, which is the TypeBox schema made JSON', async () => {
    const { ConfigSchema } = await import('../../src/config/schema.ts');
    const { CONFIG_SCHEMA } = await import('../../src/config/fields.ts');
    expect(CONFIG_SCHEMA).toEqual(JSON.parse(JSON.stringify(ConfigSchema)));
    expect(Object.keys(CONFIG_SCHEMA.properties)).toEqual(Object.keys(ConfigSchema.properties));
  });
});

describe('a file in a directory without node:path', () => {
  it('is where path.join puts it, on POSIX and on Windows', () => {
    for (const home of ['/root', '/home/user/', '/home/user//', '/', '/Users/A B'])
      expect([home, inDir(home, '.docker', 'linux')]).toEqual([home, posix.join(home, '.docker')]);
    for (const home of ['C:\\Users\\me', 'C:\\Users\\me\\', 'C:\\', 'D:\\a b/'])
      expect([home, inDir(home, '.docker', 'win32')]).toEqual([home, win32.join(home, '.docker')]);
  });

  it('is the default Docker config directory', () => {
    const { config, host } = loadConfig([], { HOME: '/home/someone/' });
    expect(host.home).toBe('/home/someone/');
    expect(runtimeOf(config, host).pipeline.dockerConfigDir).toBe(join('/home/someone', '.docker'));
  });
});
