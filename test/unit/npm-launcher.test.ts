/**
 * The npm launcher's decisions (packaging/npm/launcher.cjs), and the launcher itself run by node over a
 * stand-in binary in an npm-like tree: no release build, no macOS (a preload plays the platform).
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launcherManifest } from '../../packaging/npm.ts';
import { TARGETS } from '../../packaging/targets.ts';

interface Launcher {
  candidates(platform?: string, arch?: string, musl?: boolean): string[];
  noBinaryMessage(wanted: string[], published: string[], platform?: string, arch?: string): string;
  signalMessage(signal: string | null, binary: string, platform?: string): string | undefined;
}
const LAUNCHER = join(import.meta.dir, '../../packaging/npm/launcher.cjs');
const launcher = createRequire(import.meta.url)(LAUNCHER) as Launcher;
const published = Object.keys(launcherManifest('0.0.0').optionalDependencies as Record<string, string>);

describe('npm launcher: no binary installed', () => {
  it.each([
    ['freebsd', 'x64'],
    ['linux', 'ia32'],
    ['win32', 'arm64'],
  ])('%s-%s has no build: says so and lists the platforms that do, not --omit=optional', (os, arch) => {
    const text = launcher.noBinaryMessage(launcher.candidates(os, arch, false), published, os, arch);
    expect(text).toStartWith(`mcp-docker: there is no build for ${os}-${arch}; builds exist for `);
    for (const t of TARGETS) expect(text).toContain(t.name);
    expect(text).toContain('build it from source');
    expect(text).not.toContain('--omit=optional');
  });

  it('a platform we build for whose package is missing gets how to fetch it again (npm and npx)', () => {
    const text = launcher.noBinaryMessage(
      launcher.candidates('linux', 'x64', false),
      published,
      'linux',
      'x64',
    );
    expect(text).toContain('the platform package @mcp-docker/linux-x64 is not installed');
    expect(text).toContain('--omit=optional');
    expect(text).toContain('its download failed');
    expect(text).toContain('_npx');
    expect(text).not.toContain('no build for');
  });

  it('looks for this libc’s package first on Linux, and the other one after', () => {
    expect(launcher.candidates('linux', 'arm64', true)).toEqual([
      '@mcp-docker/linux-arm64-musl',
      '@mcp-docker/linux-arm64',
    ]);
    expect(launcher.candidates('win32', 'x64', false)).toEqual(['@mcp-docker/windows-x64']);
  });
});

describe('npm launcher: the binary ended by a signal', () => {
  it('SIGKILL on macOS names the signature as the likely cause and the codesign command', () => {
    const text = launcher.signalMessage('SIGKILL', '/n/m/bin/mcp-docker', 'darwin') ?? '';
    expect(text).toContain('was ended by SIGKILL');
    expect(text).toContain("codesign --force -s - '/n/m/bin/mcp-docker'");
  });

  it('elsewhere SIGKILL and a crash are named without the macOS advice', () => {
    expect(launcher.signalMessage('SIGKILL', 'b', 'linux')).not.toContain('codesign');
    expect(launcher.signalMessage('SIGSEGV', 'b', 'linux')).toContain('crashed');
    expect(launcher.signalMessage(null, 'b', 'linux')).toBeUndefined();
  });
});

describe('npm launcher run by node over a stand-in binary', () => {
  const root = mkdtempSync(join(tmpdir(), 'mcpt-launcher-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const pkg = join(root, 'node_modules/mcp-docker');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  copyFileSync(LAUNCHER, join(pkg, 'bin/mcp-docker.cjs'));
  writeFileSync(join(pkg, 'package.json'), JSON.stringify(launcherManifest('0.0.0')));
  /** A stand-in binary in the platform package `name`, running `script`. */
  const standIn = (name: string, script: string) => {
    const dir = join(root, 'node_modules/@mcp-docker', name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: `@mcp-docker/${name}`, version: '0.0.0' }),
    );
    writeFileSync(join(dir, 'bin/mcp-docker'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(dir, 'bin/mcp-docker'), 0o755);
    return join(dir, 'bin/mcp-docker');
  };
  /** Plays another platform: node reports it from the start (the launcher reads it at load). */
  const playing = (platform: string, arch: string) => {
    const preload = join(root, `play-${platform}-${arch}.cjs`);
    writeFileSync(
      preload,
      `Object.defineProperty(process, 'platform', { value: '${platform}' });\nObject.defineProperty(process, 'arch', { value: '${arch}' });\n`,
    );
    return ['-r', preload];
  };
  const run = (args: string[] = [], timeout = 10_000) =>
    spawnSync('node', [...args, join(pkg, 'bin/mcp-docker.cjs')], { encoding: 'utf8', timeout });
  const host = launcher.candidates()[0]?.replace('@mcp-docker/', '') ?? '';

  it('a binary killed by SIGKILL: the launcher says which signal and ends by it', () => {
    const bin = standIn(host, 'kill -KILL $$');
    const r = run();
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`mcp-docker: the server (${bin}) was ended by SIGKILL.`);
  });

  it('on macOS the same death comes with the codesign fix', () => {
    const bin = standIn('darwin-x64', 'kill -KILL $$');
    const r = run(playing('darwin', 'x64'));
    expect(r.signal).toBe('SIGKILL');
    expect(r.stderr).toContain(`codesign --force -s - '${bin}'`);
  });

  it('a binary that exits passes its code through and the launcher says nothing', () => {
    standIn(host, 'exit 3');
    const r = run();
    expect([r.status, r.stdout, r.stderr]).toEqual([3, '', '']);
  });

  it('a SIGTERM the launcher passed on ends both, with no message', async () => {
    standIn(host, 'exec sleep 30');
    const proc = Bun.spawn(['node', join(pkg, 'bin/mcp-docker.cjs')], { stdout: 'pipe', stderr: 'pipe' });
    await Bun.sleep(500);
    proc.kill('SIGTERM');
    const [stderr] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(proc.signalCode).toBe('SIGTERM');
    expect(stderr).toBe('');
  });

  it('no package for the platform: “no build”, or “not installed” where there is one, exit 1', () => {
    rmSync(join(root, 'node_modules/@mcp-docker'), { recursive: true, force: true });
    const freebsd = run(playing('freebsd', 'x64'));
    expect(freebsd.status).toBe(1);
    expect(freebsd.stderr).toContain('there is no build for freebsd-x64');
    const missing = run();
    expect(missing.status).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain(`the platform package @mcp-docker/${host} is not installed`);
  });
});
