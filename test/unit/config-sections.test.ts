import { describe, expect, it } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionsTable } from '../../scripts/docs.ts';
import { FIELDS } from '../../src/config/fields.ts';
import { fieldsBySection, helpText } from '../../src/config/help.ts';
import { loadConfig } from '../../src/config/layers.ts';
import { SECTIONS } from '../../src/config/meta.ts';
import { runtimeOf } from '../../src/config/runtime.ts';

describe('config sections', () => {
  it('puts every field in a known section, and no description repeats its section as a prefix', () => {
    for (const [key, s] of FIELDS) {
      expect(Object.keys(SECTIONS), key).toContain(s.section);
      expect(s.description, key).not.toMatch(/^HTTP:/);
    }
  });

  it('groups --help by section, each option under its own heading', () => {
    const help = helpText('1.2.3');
    const at = (text: string) => help.indexOf(text);
    let last = -1;
    for (const title of Object.values(SECTIONS)) {
      expect(at(`\n${title}:\n`), title).toBeGreaterThan(last);
      last = at(`\n${title}:\n`);
    }
    // Each option sits after its section heading and before the next one.
    const sections = fieldsBySection();
    sections.forEach(([section, fields], i) => {
      const next = sections[i + 1];
      const end = next ? at(`\n${SECTIONS[next[0]]}:\n`) : help.length;
      for (const [, s] of fields) {
        expect(at(`\n  ${s.flag} `), s.flag).toBeGreaterThan(at(`\n${SECTIONS[section]}:\n`));
        expect(at(`\n  ${s.flag} `), s.flag).toBeLessThan(end);
      }
    });
    expect(help).toMatch(
      /HTTP \(--transport http\):\n {2}--host <value>\s+Address to listen on \[default: 127\.0\.0\.1\]/,
    );
  });

  it("names each option's env variables and its flat config file key in --help", () => {
    const help = helpText('1.2.3');
    expect(help).toContain('env: MCP_DOCKER_TOOLSETS; config file key: toolsets\n');
    expect(help).toContain('env: MCP_DOCKER_HTTP_PORT, MCP_PORT; config file key: port\n');
    expect(help).toContain('env: MCP_DOCKER_CONFIG\n');
  });

  it('groups the README options table by section, with flat camelCase file keys', () => {
    const table = optionsTable();
    for (const title of Object.values(SECTIONS)) expect(table).toContain(`**${title}**`);
    expect(table).toContain('| `--port` | `MCP_DOCKER_HTTP_PORT`, `MCP_PORT` | `port` | `8000` |');
    expect(table).toContain('| `--toolsets` | `MCP_DOCKER_TOOLSETS` | `toolsets` |');
  });

  it('keeps config file keys flat whatever the section', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpd-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 9001, rateLimitRpm: 5, toolsets: ['containers'] }));
    const { config, sources } = loadConfig(['--config', file], {});
    expect(config.port).toBe(9001);
    expect(config.rateLimitRpm).toBe(5);
    expect(sources.port).toBe(`file ${file}: port`);
    writeFileSync(file, JSON.stringify({ http: { port: 9001 } }));
    expect(() => loadConfig(['--config', file], {})).toThrow(/unknown setting 'http'/);
  });
});

describe('runtimeOf', () => {
  it('turns the settings into the pipeline, engine and content pieces', () => {
    const { config, host } = loadConfig(
      [
        '--read-only',
        '--max-log-lines=7',
        '--timeout=3',
        '--allow-privileged',
        '--mount-allowlist=/srv',
        '--log-filter=drop',
        '--allowed-prompts=a',
        '--docker-host=unix:///x.sock',
        '--tls-verify',
      ],
      { HOME: '/home/u' },
    );
    const rt = runtimeOf(config, host);
    expect(rt.pipeline.profile).toEqual({
      allowModerate: true,
      allowDestructive: false,
      readOnly: true,
      allowedTools: [],
      deniedTools: [],
      toolsets: ['containers', 'images', 'networks', 'volumes', 'system', 'compose'],
    });
    expect(rt.pipeline.policy).toEqual({
      allowPrivileged: true,
      mountAllowlist: ['/srv'],
      mountBlocklist: [],
    });
    expect(rt.pipeline.limits).toEqual({
      maxResponseBytes: 262_144,
      maxExecOutputBytes: 1_048_576,
      maxLogLines: 7,
      maxListResults: 1000,
    });
    expect(rt.pipeline.defaultTimeoutMs).toBe(3000);
    expect(rt.pipeline.logFilter).toBe('drop');
    expect(rt.pipeline.dockerConfigDir).toBe('/home/u/.docker');
    expect(rt.engineSettings).toMatchObject({
      dockerHost: 'unix:///x.sock',
      dockerConfigDir: '/home/u/.docker',
      tlsVerify: true,
      home: '/home/u',
    });
    expect(rt.content).toEqual({ allowedPrompts: ['a'], allowedResources: [], outputSchemas: 'lean' });
  });

  it('reads the Docker config directory from DOCKER_CONFIG when set', () => {
    const { config, host } = loadConfig([], { HOME: '/home/u', DOCKER_CONFIG: '/etc/dc' });
    const rt = runtimeOf(config, host);
    expect(rt.pipeline.dockerConfigDir).toBe('/etc/dc');
    expect(rt.engineSettings.dockerConfigDir).toBe('/etc/dc');
  });
});
