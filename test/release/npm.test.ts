/**
 * The npm packages `bun build.ts --all` writes under <release>/npm/: the `mcp-docker` launcher and the
 * package of this host's target are packed with `npm pack` and installed from those tarballs into an
 * empty directory with `npm install --offline` and an empty cache, so no registry is involved. Through
 * them: `npx mcp-docker --version`, an initialize over stdio with nothing else on stdout, a signal sent to
 * the launcher reaching the binary, the binary's exit code and its death by a signal passing through.
 * The other targets' packages are only checked as manifests (npm would skip them on this host anyway).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NPM_LAUNCHER, npmPackageName } from '../../packaging/npm.ts';
import { binaryName, hostTarget, TARGETS } from '../../packaging/targets.ts';
import { RELEASE_DIR, RELEASE_REQUIRED, sh } from './release-dir.ts';
import { initialize, startStdio } from './stdio.ts';

const NPM_DIR = join(RELEASE_DIR, 'npm');
const HAVE_NPM = existsSync(join(NPM_DIR, NPM_LAUNCHER, 'package.json'));
const host = hostTarget();
const work = mkdtempSync(join(tmpdir(), 'mcpt-npm-'));
const app = join(work, 'app');
const launcher = join(app, 'node_modules/.bin/mcp-docker');
const env = {
  PATH: process.env.PATH ?? '',
  HOME: work,
  ...(process.env.DOCKER_HOST && { DOCKER_HOST: process.env.DOCKER_HOST }),
};
const manifest = (dir: string) => JSON.parse(readFileSync(join(NPM_DIR, dir, 'package.json'), 'utf8'));
let version: string;

/** The pid of the launcher's child (the binary), from /proc. */
function childOf(pid: number): number | undefined {
  const tasks = readdirSync(`/proc/${pid}/task`);
  const kids = tasks.flatMap((t) =>
    readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/),
  );
  const first = kids.find((k) => k !== '');
  return first ? Number(first) : undefined;
}
const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!HAVE_NPM && !RELEASE_REQUIRED)(`npm packages in ${NPM_DIR}`, () => {
  beforeAll(async () => {
    if (!HAVE_NPM)
      throw new Error(`no npm packages in ${NPM_DIR}: run \`bun build.ts --all\` first (.ci/run does)`);
    if (!host) throw new Error('this host is no release target');
    version = manifest(NPM_LAUNCHER).version;
    const packs = join(work, 'packs');
    mkdirSync(packs);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "name": "npm-release-check", "private": true }\n');
    const packed = await sh(
      [
        'npm',
        'pack',
        join(NPM_DIR, NPM_LAUNCHER),
        join(NPM_DIR, host.name),
        '--pack-destination',
        packs,
        '--json',
      ],
      { env: { ...env, npm_config_cache: join(work, 'cache') } },
    );
    expect(packed.code, packed.stderr).toBe(0);
    const tarballs = (JSON.parse(packed.stdout) as { filename: string }[]).map((p) =>
      join(packs, p.filename),
    );
    expect(tarballs).toHaveLength(2);
    // --offline with an empty cache: nothing may come from a registry. npm may warn about the other
    // targets' optional packages it cannot fetch; that is fine.
    const installed = await sh(
      ['npm', 'install', '--offline', '--no-audit', '--no-fund', '--cache', join(work, 'cache'), ...tarballs],
      { cwd: app, env },
    );
    expect(installed.code, installed.stderr).toBe(0);
  }, 120_000);

  it('the launcher depends on every target package, at its own version, as optional', () => {
    const m = manifest(NPM_LAUNCHER);
    expect(m.bin).toEqual({ 'mcp-docker': 'bin/mcp-docker.cjs' });
    expect(m.mcpName).toBe('io.github.mcp-docker/mcp-docker');
    expect(m.optionalDependencies).toEqual(
      Object.fromEntries(TARGETS.map((t) => [npmPackageName(t), version])),
    );
    expect(m.dependencies).toBeUndefined();
  });

  it('each target package claims its os, cpu and (Linux) libc, and holds its binary', () => {
    for (const t of TARGETS) {
      if (!existsSync(join(NPM_DIR, t.name))) {
        expect(RELEASE_REQUIRED && existsSync(join(RELEASE_DIR, binaryName(t)))).toBe(false);
        continue;
      }
      const m = manifest(t.name);
      expect(m.name).toBe(npmPackageName(t));
      expect(m.version).toBe(version);
      expect(m.os).toEqual([t.os === 'windows' ? 'win32' : t.os]);
      expect(m.cpu).toEqual([t.arch]);
      expect(m.libc).toEqual(t.os === 'linux' ? [t.libc ?? 'glibc'] : undefined);
      const exe = join(NPM_DIR, t.name, 'bin', t.os === 'windows' ? 'mcp-docker.exe' : 'mcp-docker');
      expect(readFileSync(exe)).toEqual(readFileSync(join(RELEASE_DIR, binaryName(t))));
    }
  });

  it('npm installed the launcher and only this host’s package from the tarballs', () => {
    expect(readdirSync(join(app, 'node_modules/@mcp-docker'))).toEqual([(host?.name ?? '').toString()]);
    expect(existsSync(launcher)).toBe(true);
  });

  it('npx mcp-docker --version prints the version, and nothing else', async () => {
    const r = await sh(['npx', '--offline', '--cache', join(work, 'cache'), 'mcp-docker', '--version'], {
      cwd: app,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`mcp-docker ${version}\n`);
  });

  it('npx mcp-docker answers initialize over stdio; stdout carries only JSON-RPC', async () => {
    const server = startStdio(['npx', '--offline', '--cache', join(work, 'cache'), 'mcp-docker'], {
      cwd: app,
      env,
    });
    const info = await initialize(server);
    expect(info).toMatchObject({ name: 'mcp-docker', version });
    const tools = await server.request('tools/list');
    expect((tools.result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
    server.child.stdin?.end();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.strays).toEqual([]);
  }, 30_000);

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to the launcher reaches the binary, which ends the way it ends when run directly',
    async (signal) => {
      const outcome = async (command: string[]) => {
        const server = startStdio(command, { env });
        await initialize(server);
        const binary = command[0] === launcher ? childOf(server.child.pid as number) : server.child.pid;
        expect(binary).toBeDefined();
        server.child.kill(signal);
        const end = await server.exited;
        // The binary itself is gone (the launcher forwarded the signal instead of leaving it orphaned).
        for (let i = 0; i < 50 && alive(binary as number); i++) await Bun.sleep(100);
        expect(alive(binary as number)).toBe(false);
        server.child.stdin?.end();
        return end;
      };
      const direct = await outcome([join(RELEASE_DIR, binaryName(host as NonNullable<typeof host>))]);
      expect(await outcome([launcher])).toEqual(direct);
    },
    30_000,
  );

  it('mcp-docker config, run from the npm install, gives the npx form, and that snippet starts a server', async () => {
    const r = await sh([launcher, 'config', 'claude-desktop', '--read-only'], { env });
    expect(r.code, r.stderr).toBe(0);
    const { command, args } = JSON.parse(r.stdout).mcpServers.docker;
    expect([command, ...args]).toEqual(['npx', '-y', 'mcp-docker', '--read-only']);
    // What the client runs (offline here: npx finds the package installed in app/).
    const server = startStdio([command, '--offline', '--cache', join(work, 'cache'), ...args], {
      cwd: app,
      env,
    });
    await initialize(server);
    const tools = (await server.request('tools/list')).result as { tools: { name: string }[] };
    expect(tools.tools.map((t) => t.name)).not.toContain('docker_create_container');
    server.child.stdin?.end();
    expect((await server.exited).code).toBe(0);
    // The binary run directly offers the same with --npx, and says so without it.
    const direct = join(RELEASE_DIR, binaryName(host as NonNullable<typeof host>));
    // The engine's address from this shell goes along (-e), so the client reaches the same engine.
    const engine = env.DOCKER_HOST ? `-e DOCKER_HOST=${env.DOCKER_HOST} ` : '';
    const plain = await sh([direct, 'config', 'claude-code'], { env });
    expect(plain.stdout).toBe(`claude mcp add docker ${engine}-- ${direct}\n`);
    expect(plain.stderr).toContain('mcp-docker config claude-code --npx');
    const viaNpx = await sh([direct, 'config', 'claude-code', '--npx', '--read-only'], { env });
    expect(viaNpx.stdout).toBe(`claude mcp add docker ${engine}-- npx -y mcp-docker --read-only\n`);
  }, 30_000);

  it("the binary's exit code passes through", async () => {
    const r = await sh([launcher, 'config', 'no-such-client'], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown client 'no-such-client'");
  });

  it('a binary killed by a signal takes the launcher with it, by the same signal', async () => {
    const server = startStdio([launcher], { env });
    await initialize(server);
    const binary = childOf(server.child.pid as number);
    process.kill(binary as number, 'SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
  }, 30_000);

  it('without its platform package the launcher says so on stderr and exits 1, stdout empty', async () => {
    const lonely = join(work, 'lonely');
    mkdirSync(lonely);
    copyFileSync(join(NPM_DIR, NPM_LAUNCHER, 'bin/mcp-docker.cjs'), join(lonely, 'mcp-docker.cjs'));
    const r = await sh(['node', join(lonely, 'mcp-docker.cjs'), '--version'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `the platform package ${npmPackageName(host as NonNullable<typeof host>)} is not installed`,
    );
  });
});
