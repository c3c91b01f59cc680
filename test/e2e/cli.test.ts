/**
 * The binary's own subcommands, run as a user would: `doctor` (human and --json, healthy and with no
 * engine) and `config <client>` (snippets carry the binary's absolute path and the flags given, and the
 * Claude Desktop snippet really starts a server a client can use).
 */
import { describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVER_BIN, startServer } from '../helpers/client.ts';

const BIN = resolve(SERVER_BIN);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the binary with only PATH, HOME and the given env (no settings leak in from the test's shell). */
async function mcpDocker(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const proc = Bun.spawn([BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

const engineEnv = () => ({ DOCKER_HOST: process.env.DOCKER_HOST ?? '' });

describe('mcp-docker doctor', () => {
  it('reports the engine it reached, how it was chosen, its versions and the safety mode, and exits 0', async () => {
    const r = await mcpDocker(['doctor'], engineEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ok      ${process.env.DOCKER_HOST} (DOCKER_HOST)`);
    expect(r.stdout).toContain('chosen  by env DOCKER_HOST');
    expect(r.stdout).toMatch(/engine {2}Docker \S+ on linux\/\w+, API 1\.\d+/);
    expect(r.stdout).toContain('tiers       safe + moderate\n');
  });

  it('--json gives the same facts to scripts, with each setting and where it came from', async () => {
    const r = await mcpDocker(
      ['doctor', '--json', '--read-only', '--denied-tools', 'docker_events'],
      engineEnv(),
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.healthy).toBe(true);
    expect(report.engine).toMatchObject({
      reachable: true,
      url: process.env.DOCKER_HOST,
      chosenBy: 'env DOCKER_HOST',
    });
    expect(report.engine.apiVersion).toMatch(/^1\.\d+$/);
    expect(report.engine.engineVersion).toMatch(/^\d+\.\d+/);
    expect(report.safety).toMatchObject({
      readOnly: true,
      tiers: { safe: true, moderate: false, destructive: false },
      deniedTools: ['docker_events'],
    });
    expect(report.safety.toolsListed).toBeLessThan(report.safety.toolsTotal);
    expect(report.config.sources).toMatchObject({
      readOnly: 'flag --read-only',
      dockerHost: 'env DOCKER_HOST',
    });
    expect(report.transport).toEqual({ mode: 'stdio' });
  });

  it('warns about an allowed or denied tool name that matches no tool', async () => {
    const r = await mcpDocker(['doctor', '--allowed-tools', 'docker_list_container'], engineEnv());
    expect(r.stdout).toContain(
      "WARN        setting 'allowedTools' (from flag --allowed-tools): names no tool 'docker_list_container' (did you mean 'docker_list_containers'?); correct it or remove it (the server does not start with it)",
    );
    const json = JSON.parse(
      (await mcpDocker(['doctor', '--json', '--denied-tools', 'docker_events'], engineEnv())).stdout,
    );
    expect(json.safety.unknownTools).toEqual([]);
  });

  it('lists the HTTP transport settings when serving over HTTP', async () => {
    const r = await mcpDocker(['doctor', '--json', '--transport', 'http', '--port', '9123'], engineEnv());
    expect(JSON.parse(r.stdout).transport).toMatchObject({
      mode: 'http',
      listen: 'http://127.0.0.1:9123',
      auth: ['none'],
      tls: false,
    });
  });

  it('exits 1 with advice naming the endpoint when no engine answers there', async () => {
    const r = await mcpDocker(['doctor'], { DOCKER_HOST: 'unix:///nonexistent/mcpt-docker.sock' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL    no engine at unix:///nonexistent/mcpt-docker.sock');
    expect(r.stdout).toContain('is Docker running there?');
    expect(r.stdout).toContain('tried   unix:///nonexistent/mcpt-docker.sock (DOCKER_HOST): no socket there');
    const json = JSON.parse(
      (await mcpDocker(['doctor', '--json'], { DOCKER_HOST: 'unix:///nonexistent/x.sock' })).stdout,
    );
    expect(json).toMatchObject({ healthy: false, engine: { reachable: false } });
    expect(json.engine.advice).toContain('no engine at unix:///nonexistent/x.sock');
  });

  it('shows the toolsets switched on, and the settings it was given grouped by section', async () => {
    const args = ['doctor', '--toolsets', 'default,swarm', '--read-only'];
    const r = await mcpDocker(args, engineEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('toolsets    containers, images, networks, volumes, system, compose, swarm\n');
    expect(r.stdout).toContain(
      [
        'Config (settings not listed are defaults)',
        '  Engine',
        '    dockerHost               env DOCKER_HOST',
        '  Safety',
        '    toolsets                 flag --toolsets',
        '    readOnly                 flag --read-only',
      ].join('\n'),
    );
    const json = JSON.parse((await mcpDocker([...args, '--json'], engineEnv())).stdout);
    expect(json.safety.toolsets).toEqual([
      'containers',
      'images',
      'networks',
      'volumes',
      'system',
      'compose',
      'swarm',
    ]);
    expect(json.config.sections).toEqual([
      { section: 'Engine', keys: ['dockerHost'] },
      { section: 'Safety', keys: ['toolsets', 'readOnly'] },
    ]);
  });

  it('refuses an argument it does not know, with its usage', async () => {
    const r = await mcpDocker(['doctor', 'extra']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: mcp-docker doctor [--json]');
  });
});

describe('mcp-docker config <client>', () => {
  it('prints claude_desktop_config.json with the absolute path of this binary and the flags given', async () => {
    const r = await mcpDocker(['config', 'claude-desktop', '--read-only', '--timeout', '30']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      mcpServers: { docker: { command: BIN, args: ['--read-only', '--timeout=30'] } },
    });
    expect(r.stderr).toContain('claude_desktop_config.json');
  });

  it('gives a Claude Desktop snippet that starts a server honouring the carried flags', async () => {
    const r = await mcpDocker(['config', 'claude-desktop', '--read-only']);
    const { command, args } = JSON.parse(r.stdout).mcpServers.docker;
    expect(command).toBe(BIN);
    const server = await startServer({ args });
    try {
      const names = (await server.client.listTools()).map((t) => t.name);
      expect(names).toContain('docker_list_containers');
      expect(names).not.toContain('docker_create_container');
    } finally {
      await server.close();
    }
  });

  it('prints the claude mcp add command for Claude Code, shell-quoted', async () => {
    const r = await mcpDocker(['config', 'claude-code', '--no-allow-moderate', '--denied-tools', 'a,b']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`claude mcp add docker -- ${BIN} --no-allow-moderate --denied-tools=a,b\n`);
  });

  it('prints VS Code and Codex formats, and makes a relative config file path absolute', async () => {
    const vscode = JSON.parse((await mcpDocker(['config', 'vscode'])).stdout);
    expect(vscode).toEqual({ servers: { docker: { type: 'stdio', command: BIN, args: [] } } });
    const codex = await mcpDocker(['config', 'codex', '--audit-log', 'audit.jsonl']);
    expect(codex.stdout).toBe(
      `[mcp_servers.docker]\ncommand = ${JSON.stringify(BIN)}\nargs = [${JSON.stringify(`--audit-log=${resolve('audit.jsonl')}`)}]\n`,
    );
  });

  it('carries the engine’s address from the environment, so a client with only PATH and HOME reaches it', async () => {
    const r = await mcpDocker(['config', 'claude-desktop', '--read-only'], engineEnv());
    const { command, args, env } = JSON.parse(r.stdout).mcpServers.docker;
    expect(env).toEqual({ DOCKER_HOST: process.env.DOCKER_HOST });
    expect(r.stderr).toContain(
      'Carried over from your environment, so the client finds the same engine: DOCKER_HOST',
    );
    expect(r.stderr).not.toContain('Not carried over');
    // What the client runs: the snippet's command, args and env, nothing else from this shell.
    expect(command).toBe(BIN);
    const doctor = await mcpDocker(['doctor', ...args], env);
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(doctor.stdout).toContain(`ok      ${process.env.DOCKER_HOST} (DOCKER_HOST)`);
    const code = await mcpDocker(['config', 'claude-code'], engineEnv());
    expect(code.stdout).toBe(`claude mcp add docker -e DOCKER_HOST=${process.env.DOCKER_HOST} -- ${BIN}\n`);
  });

  it('says which settings from the environment are not carried over', async () => {
    const r = await mcpDocker(['config', 'cursor'], { MCP_DOCKER_READ_ONLY: 'true' });
    expect(JSON.parse(r.stdout).mcpServers.docker.args).toBeUndefined();
    expect(r.stderr).toContain(
      'Not carried over (set in your environment, the client will not have it): MCP_DOCKER_READ_ONLY',
    );
  });

  it('lists the known clients for an unknown one and exits 2', async () => {
    const r = await mcpDocker(['config', 'notepad']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown client 'notepad'");
    expect(r.stderr).toContain('claude-desktop, claude-code, cursor, vscode');
  });
});

describe('start-up settings', () => {
  it('stops with exit 2 on an engine address no call could use, naming where it came from and the schemes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-cli-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, '{ "dockerHost": "tpc://localhost:2375" }');
    const cases: [string[], Record<string, string>, string][] = [
      [['--docker-host', 'tpc://localhost:2375'], {}, 'flag --docker-host'],
      [[], { DOCKER_HOST: 'tpc://localhost:2375' }, 'env DOCKER_HOST'],
      [['--config', file], {}, `file ${file}: dockerHost`],
    ];
    try {
      for (const [args, env, source] of cases) {
        // The server itself, with stdin open: it used to start and answer every call "start Docker".
        const r = await mcpDocker(args, env);
        expect([r.code, r.stdout]).toEqual([2, '']);
        expect(r.stderr).toContain(
          `setting 'dockerHost' (from ${source}): unsupported scheme 'tpc://' in 'tpc://localhost:2375'`,
        );
        expect(r.stderr).toContain('unix:///path, tcp://host:port, ssh://user@host');
        expect((await mcpDocker(['doctor', ...args], env)).code).toBe(2);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const fd = await mcpDocker([], { DOCKER_HOST: 'fd://' });
    expect(fd.code).toBe(2);
    expect(fd.stderr).toContain('a client cannot connect to it');
  });

  it('doctor names a --docker-host value by its flag in what it tried', async () => {
    const r = await mcpDocker(['doctor', '--docker-host', 'unix:///nonexistent/mcpt-flag.sock']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'tried   unix:///nonexistent/mcpt-flag.sock (flag --docker-host): no socket there',
    );
  });

  it('reads a bare host:port as tcp://, and prints no dependency deprecation notice for it', async () => {
    const r = await mcpDocker(['doctor'], { DOCKER_HOST: '127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('tried   tcp://127.0.0.1:1 (DOCKER_HOST)');
    expect(r.stderr).not.toContain('DeprecationWarning');
  });

  it('answers --help and --version whatever DOCKER_HOST says', async () => {
    for (const flag of ['--help', '--version'])
      expect((await mcpDocker([flag], { DOCKER_HOST: 'tpc://x' })).code).toBe(0);
  });

  it('groups --help by section and documents --toolsets', async () => {
    const r = await mcpDocker(['--help']);
    expect(r.code).toBe(0);
    const order = [
      '\nServer:\n',
      '\nEngine:\n',
      '\nSafety:\n',
      '\nLimits:\n',
      '\nHTTP (--transport http):\n',
    ];
    const at = order.map((h) => r.stdout.indexOf(h));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(r.stdout).toMatch(
      /--toolsets <a,b> +Toolsets switched on.*\[default: default \(containers, images/,
    );
    expect(r.stdout).toContain('env: MCP_DOCKER_TOOLSETS');
  });

  it('stops with exit 2 on an unknown toolset, naming it, where it came from and the known ones', async () => {
    const flag = await mcpDocker(['--toolsets', 'default,swarms']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("setting 'toolsets' (from flag --toolsets): unknown toolset 'swarms'");
    expect(flag.stderr).toContain('containers, images, networks, volumes, system, compose, swarm');
    expect(flag.stdout).toBe('');
    const env = await mcpDocker(['doctor'], { ...engineEnv(), MCP_DOCKER_TOOLSETS: 'kubernetes' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("(from env MCP_DOCKER_TOOLSETS): unknown toolset 'kubernetes'");
  });
});
