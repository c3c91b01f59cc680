/** List settings whose entries could match nothing stop start-up, naming the setting and the fix. */
import { describe, expect, it } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namesAnything, unknownNames } from '../../src/cli/names.ts';
import { loadConfig } from '../../src/config/layers.ts';
import { ConfigError } from '../../src/config/meta.ts';
import { firstPositional } from '../../src/config/parse.ts';

const refusal = (argv: string[], env: Record<string, string> = {}) => {
  try {
    loadConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
};

describe('list entries that could match nothing', () => {
  it('refuses an origin that is not scheme://host[:port]', () => {
    expect(refusal(['--allowed-origins', 'notaurl'])).toBe(
      "setting 'allowedOrigins' (from flag --allowed-origins): 'notaurl' is not an origin; write scheme://host[:port], e.g. https://app.example.com",
    );
    expect(refusal(['--allowed-origins', 'https://app.example.com/path'])).toMatch(/has a path/);
    expect(refusal(['--allowed-origins', 'ftp://app.example.com'])).toMatch(/is not an origin/);
    expect(
      loadConfig(['--allowed-origins', 'https://App.example.com:8443/'], {}).config.allowedOrigins,
    ).toEqual(['https://App.example.com:8443/']);
  });

  it('refuses a Host value with a bad port or a scheme, and takes name or name:port', () => {
    expect(refusal(['--allowed-hosts', 'a_b:99999'])).toBe(
      "setting 'allowedHosts' (from flag --allowed-hosts): 'a_b:99999' names port 99999; a port is 1 to 65535",
    );
    expect(refusal([], { MCP_DOCKER_ALLOWED_HOSTS: 'https://docker.example' })).toMatch(
      /^setting 'allowedHosts' \(from env MCP_DOCKER_ALLOWED_HOSTS\): 'https:\/\/docker.example' is not a Host value/,
    );
    expect(
      loadConfig(['--allowed-hosts', 'docker.example,docker.example:8000,[::1]:9000'], {}).config
        .allowedHosts,
    ).toHaveLength(3);
  });

  it('refuses a relative mount path, which would match nothing and drop the default roots', () => {
    expect(refusal(['--mount-allowlist', '/srv,relative/path'])).toBe(
      "setting 'volumeMountAllowlist' (from flag --mount-allowlist): 'relative/path' is not an absolute path, so it would match nothing; write it in full (e.g. /srv/project) or as ~/project",
    );
    expect(refusal([], { SAFETY_VOLUME_MOUNT_BLOCKLIST: 'secrets' })).toMatch(
      /volumeMountBlocklist.*'secrets'/,
    );
    const ok = loadConfig(['--mount-allowlist', '/srv,~,~/work,C:\\data'], {}).config;
    expect(ok.volumeMountAllowlist).toEqual(['/srv', '~', '~/work', 'C:\\data']);
  });
});

describe('empty environment values', () => {
  it('count as unset for lists too', () => {
    const { config, sources } = loadConfig([], {
      MCP_DOCKER_TOOLSETS: '',
      SAFETY_DENIED_TOOLS: '',
      MCP_DOCKER_ALLOWED_HOSTS: '',
    });
    expect(config.toolsets).toEqual(['default']);
    expect(sources).toEqual({});
  });
});

describe('the config file', () => {
  it("refuses a 'config' key without listing it as known", () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ config: '/tmp/other.json' }));
    const message = refusal(['--config', file]);
    expect(message).toStartWith(
      `config file '${file}': unknown setting 'config' (a config file cannot name another). Known: transport,`,
    );
    expect(message).not.toMatch(/Known: .*\bconfig\b/);
  });
});

describe('tool, prompt and resource names', () => {
  const names = async (argv: string[]) => {
    const { config, sources } = loadConfig(argv, {});
    return unknownNames(config, sources);
  };

  it('names a tool that matches nothing, with the closest one', async () => {
    expect(await names(['--denied-tools', 'docker_exec_comand'])).toEqual([
      "setting 'deniedTools' (from flag --denied-tools): names no tool 'docker_exec_comand' (did you mean 'docker_exec_command'?); correct it or remove it",
    ]);
  });

  it('names a prompt or resource that matches nothing, listing the known ones', async () => {
    const [prompt, resource] = await names([
      '--allowed-prompts',
      'bogus',
      '--allowed-resources',
      'container_log',
    ]);
    expect(prompt).toStartWith(
      "setting 'allowedPrompts' (from flag --allowed-prompts): names no prompt 'bogus';",
    );
    expect(prompt).toContain('troubleshoot_container');
    expect(resource).toStartWith(
      "setting 'allowedResources' (from flag --allowed-resources): names no resource 'container_log' (did you mean 'container_logs'?)",
    );
    expect(resource).toContain('dashboard_view');
  });

  it('takes known names, resource URIs and URI templates, and reads nothing when no list is set', async () => {
    expect(
      await names([
        '--allowed-tools',
        'docker_list_containers',
        '--allowed-prompts',
        'troubleshoot_container',
        '--allowed-resources',
        'containers,docker://containers,ui://mcp-docker/dashboard.html',
      ]),
    ).toEqual([]);
    expect(namesAnything(loadConfig([], {}).config)).toBe(false);
  });
});

describe('a command after server options', () => {
  it('is found past flags and their values', () => {
    expect(firstPositional(['--read-only', 'doctor', '--json'])).toBe(1);
    expect(firstPositional(['--port', '9000', '--read-only', 'true', 'doctor'])).toBe(4);
    expect(firstPositional(['--no-allow-moderate', 'hash-token'])).toBe(1);
    expect(firstPositional(['--config=f.json', 'config', 'codex'])).toBe(1);
    expect(firstPositional(['--read-only'])).toBe(-1);
  });
});
