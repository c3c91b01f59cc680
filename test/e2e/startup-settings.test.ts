/**
 * Settings the server cannot start with, through the compiled binary: each stops start-up with exit 2
 * and one stderr line naming the setting, where it came from and the fix (a server that started would
 * exit 0 here, its stdin being closed). And the commands that need no engine, or take their own flags
 * after server options.
 */
import { describe, expect, it } from 'bun:test';
import { freePort, spawnBinary } from '../helpers/http-binary.ts';

async function run(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnBinary(args, { env, stdin: input === undefined ? 'ignore' : 'pipe' });
  if (r.stdin) {
    r.stdin.write(input ?? '');
    await r.stdin.end();
  }
  const code = await r.proc.exited;
  await Bun.sleep(20);
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

describe('start-up refuses a list entry that would match nothing', () => {
  const cases: [string[], string][] = [
    [
      ['--denied-tools', 'docker_exec_comand'],
      "setting 'deniedTools' (from flag --denied-tools): names no tool 'docker_exec_comand' (did you mean 'docker_exec_command'?); correct it or remove it",
    ],
    [
      ['--allowed-prompts', 'bogus'],
      "setting 'allowedPrompts' (from flag --allowed-prompts): names no prompt 'bogus'",
    ],
    [
      ['--allowed-resources', 'container_log'],
      "names no resource 'container_log' (did you mean 'container_logs'?)",
    ],
    [
      ['--allowed-origins', 'notaurl'],
      "setting 'allowedOrigins' (from flag --allowed-origins): 'notaurl' is not an origin",
    ],
    [['--allowed-hosts', 'a_b:99999'], "'a_b:99999' names port 99999; a port is 1 to 65535"],
    [
      ['--mount-allowlist', 'relative/path'],
      "setting 'volumeMountAllowlist' (from flag --mount-allowlist): 'relative/path' is not an absolute path",
    ],
  ];
  for (const [args, message] of cases)
    it(`exits 2 for ${args.join(' ')}, naming the setting and the fix`, async () => {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toStartWith('mcp-docker: ');
      expect(r.stderr).toContain(message);
    });

  it('names a typo in an environment variable by its name', async () => {
    const r = await run([], { SAFETY_DENIED_TOOLS: 'docker_exec_comand' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("setting 'deniedTools' (from env SAFETY_DENIED_TOOLS): names no tool");
  });
});

describe('start-up refuses a bad HTTP setting with exit 2, like every bad setting', () => {
  const http = async (...args: string[]) => [
    '--transport',
    'http',
    '--port',
    String(await freePort()),
    ...args,
  ];
  const cases: [string, string[], string][] = [
    ['a bad CIDR', ['--allowed-client-ips', '10.0.0.0/33'], 'allowedClientIps'],
    [
      'a missing TLS file',
      ['--tls', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem'],
      '--tls-cert',
    ],
    ['--oauth without an issuer', ['--oauth'], '--oauth-issuer'],
    ['a missing SSH keys file', ['--ssh-authorized-keys', '/nonexistent/keys'], '/nonexistent/keys'],
  ];
  for (const [what, args, named] of cases)
    it(`exits 2 for ${what}`, async () => {
      const r = await run(await http(...args));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(named);
    });
});

describe('empty environment values', () => {
  it('read an empty MCP_DOCKER_TOOLSETS as unset: the server starts', async () => {
    const r = await run([], { MCP_DOCKER_TOOLSETS: '' }, '{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.split('\n')[0] as string)).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
  });
});

describe('commands after server options', () => {
  it('doctor takes --json after a server flag', async () => {
    const r = await run(['--read-only', 'doctor', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).safety.readOnly).toBe(true);
  });

  it('hash-token answers under a DOCKER_HOST no engine could use', async () => {
    const made = await run(['hash-token'], { DOCKER_HOST: 'tpc://x' });
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^token: \S+\nhash: +sha256:[0-9a-f]{64}\n/);
    const piped = await run(['--read-only', 'hash-token', '--stdin'], { DOCKER_HOST: 'tpc://x' }, 'abc');
    expect(piped).toMatchObject({
      code: 0,
      stdout: 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n',
    });
  });

  it('config <client> answers under a bad DOCKER_HOST, and says the server will not start with it', async () => {
    const r = await run(['--read-only', 'config', 'codex'], { DOCKER_HOST: 'tpc://x' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('args = ["--read-only"]');
    expect(r.stderr).toContain(
      "Warning: the server will not start with this: setting 'dockerHost' (from env DOCKER_HOST)",
    );
    expect((await run(['doctor'], { DOCKER_HOST: 'tpc://x' })).code).toBe(2);
  });
});
