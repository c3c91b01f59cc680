/**
 * Configuring several engines, through the binary: bad settings stop start-up with exit 2 naming the
 * flag, variable or file key and the fix; `doctor` reports every engine, where its settings came from,
 * what was tried, and the settings it ignores.
 */
import { describe, expect, it } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVER_BIN } from '../helpers/client.ts';

const BIN = resolve(SERVER_BIN);
const dir = mkdtempSync(join(tmpdir(), 'mcpt-engines-'));

async function mcpDocker(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
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

const engine = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';

describe('engine settings', () => {
  it.each([
    [['--engine', 'Prod=unix:///x'], "option '--engine': invalid engine name 'Prod'"],
    [['--engine', 'a=unix:///x', '--engine', 'a=unix:///y'], "engine 'a' is given twice"],
    [['--engine', 'a=ftp://h'], "unsupported engine URL 'ftp://h'. Use unix://"],
    [['--engine', 'a=tcp://10.0.0.1:2375'], "Set 'tlsDir'"],
    [
      ['--engine', 'a=ssh://root:S3cretPassw0rd@127.0.0.1:22'],
      "'ssh://root:***@127.0.0.1:22' holds a password",
    ],
    [
      ['--engine', 'a=tcp://admin:TcpPassw0rd@127.0.0.1:1'],
      "'tcp://admin:***@127.0.0.1:1' holds a user and password",
    ],
    [
      ['--engine', 'a=context:nosuch'],
      "engine 'a' (flag --engine): Docker context 'nosuch' was selected but its metadata is missing",
    ],
  ])('refuses %p at start-up with exit 2', async (args, message) => {
    const r = await mcpDocker(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain('Passw0rd');
  });

  it('names the env variable and the file key in their errors', async () => {
    const env = await mcpDocker([], { MCP_DOCKER_ENGINES: 'a=unix:///x,a=unix:///y' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("env MCP_DOCKER_ENGINES: engine 'a' is given twice");
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ engines: { a: { url: 'unix:///x', tlsdir: '/t' } } }));
    const fromFile = await mcpDocker(['--config', file]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain(`config file '${file}': engines, engine 'a': unknown key 'tlsdir'`);
    const missing = join(dir, 'missing.json');
    writeFileSync(missing, JSON.stringify({ engines: { a: { url: 'tcp://h:2376', tlsDir: dir } } }));
    const noTls = await mcpDocker(['--config', missing]);
    expect(noTls.code).toBe(2);
    expect(noTls.stderr).toContain(`engine 'a' (file ${missing}: engines): ${join(dir, 'ca.pem')}, `);
    expect(noTls.stderr).toContain("not found. 'tlsDir' must hold ca.pem, cert.pem, key.pem");
  });
});

describe('mcp-docker doctor with several engines', () => {
  it('reports each engine, where its settings came from and what was tried; exit 1 when one is down', async () => {
    const file = join(dir, 'engines.json');
    writeFileSync(
      file,
      JSON.stringify({
        engines: { up: { description: 'the test engine', readOnly: true }, unused: 'unix:///x' },
      }),
    );
    const r = await mcpDocker(
      [
        'doctor',
        '--config',
        file,
        '--engine',
        `up=${engine}`,
        '--engine',
        'down=unix:///nonexistent/mcpt.sock',
      ],
      { DOCKER_HOST: engine },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Engines (2, from flag --engine)');
    expect(r.stdout).toContain('  up (default, read-only) — the test engine');
    expect(r.stdout).toContain(
      `    ok      ${engine} (flag --engine; other settings from file ${file}: engines)`,
    );
    expect(r.stdout).toContain('  down\n');
    expect(r.stdout).not.toContain('unused');
    expect(r.stdout).toContain(`    from    flag --engine; other settings from file ${file}: engines\n`);
    expect(r.stdout).toContain('    tried   unix:///nonexistent/mcpt.sock (flag --engine): no socket there');
    expect(r.stdout).toContain('WARN    DOCKER_HOST/--docker-host (from env DOCKER_HOST) is ignored');
  });

  it('masks a password in an engine URL, as tool errors do', async () => {
    const host = 'tcp://admin:TcpPassw0rd@127.0.0.1:1';
    const text = await mcpDocker(['doctor'], { DOCKER_HOST: host });
    const json = await mcpDocker(['doctor', '--json'], { DOCKER_HOST: host });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('tcp://admin:***@127.0.0.1:1');
    expect(json.stdout).toContain('tcp://admin:***@127.0.0.1:1');
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr])
      expect(out).not.toContain('TcpPassw0rd');
  });

  it('--json lists every engine with its name, ceiling, source and reachability', async () => {
    const r = await mcpDocker(
      ['doctor', '--json', '--engine', `a=${engine}`, '--engine', 'default=unix:///nonexistent/mcpt.sock'],
      {},
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.configured).toBe(true);
    expect(report.healthy).toBe(false);
    expect(
      report.engines.map((e: { name: string; default: boolean; reachable: boolean }) => [
        e.name,
        e.default,
        e.reachable,
      ]),
    ).toEqual([
      ['a', false, true],
      ['default', true, false],
    ]);
    expect(report.engines[0]).toMatchObject({
      settingsFrom: 'flag --engine',
      ceiling: { readOnly: false, allowDestructive: true },
      url: engine,
    });
    // `engine` stays the default engine's report, as before several engines.
    expect(report.engine).toMatchObject({ reachable: false, chosenBy: 'flag --engine' });
  });

  it('stays as before with no engine configured: one engine, named default', async () => {
    const r = await mcpDocker(['doctor', '--json'], { DOCKER_HOST: engine });
    const report = JSON.parse(r.stdout);
    expect(report.configured).toBe(false);
    expect(report.engines).toHaveLength(1);
    expect(report.engines[0]).toMatchObject({ name: 'default', default: true, reachable: true, url: engine });
    expect(report.warnings).toEqual([]);
  });
});
