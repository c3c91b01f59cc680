/**
 * install.sh's choices on hosts this machine is not: stub `uname`, `ldd`, `sysctl` and `codesign` first on
 * PATH play Linux (glibc, musl) and macOS (Intel, Apple silicon, an x64 shell under Rosetta), and a
 * release server on loopback records which archive install.sh asks for. The archives hold a stand-in
 * `mcp-docker` script, so the install runs to the end (verify, extract, re-sign, copy, --version) on any
 * of them. Also: the default prefix, --version with an offline archive, and Ctrl-C/TERM stopping the script.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sha256Of } from '../../packaging/archive.ts';
import { archiveName, TARGETS } from '../../packaging/targets.ts';
import { sh } from './release-dir.ts';

const INSTALL_SH = resolve('install.sh');
const VERSION = '9.8.7';
const work = mkdtempSync(join(tmpdir(), 'mcpt-install-platform-'));
const releaseDir = join(work, 'release');
const requests: string[] = [];
let stall: (() => void) | undefined; // set: the next archive download hangs and this is called
let server: ReturnType<typeof Bun.serve>;

interface Host {
  os: 'Linux' | 'Darwin' | 'FreeBSD';
  machine: string;
  libc?: 'glibc' | 'musl';
  rosetta?: boolean;
}

const script = (path: string, body: string) => {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
};

/** A directory of stubs that make install.sh see `host`; codesign appends its arguments to `codesign.log`. */
function stubs(name: string, host: Host): string {
  const dir = join(work, 'stubs', name);
  mkdirSync(dir, { recursive: true });
  script(join(dir, 'uname'), `case $1 in -m) echo ${host.machine} ;; *) echo ${host.os} ;; esac`);
  if (host.libc === 'musl')
    // musl's ldd prints its banner on stderr and exits 1 for --version.
    script(join(dir, 'ldd'), "echo 'musl libc (x86_64)' >&2; echo 'Version 1.2.5' >&2; exit 1");
  else script(join(dir, 'ldd'), "echo 'ldd (Debian GLIBC 2.36-9+deb12u10) 2.36'");
  // macOS: sysctl.proc_translated is 1 in a process translated by Rosetta, 0 in a native one.
  script(join(dir, 'sysctl'), `[ "$2" = sysctl.proc_translated ] && echo ${host.rosetta ? 1 : 0}`);
  script(join(dir, 'codesign'), `echo "$*" >> '${join(dir, 'codesign.log')}'`);
  return dir;
}

function install(stubDir: string, args: string[], env: Record<string, string> = {}) {
  return sh(['sh', INSTALL_SH, ...args], {
    env: {
      PATH: `${stubDir}:${process.env.PATH ?? ''}`,
      HOME: join(stubDir, 'home'),
      MCP_DOCKER_RELEASE_URL: `http://127.0.0.1:${server.port}`,
      MCP_DOCKER_SYSTEM_PREFIX: join(stubDir, 'no-such-dir/usr-local'),
      ...env,
    },
  });
}

beforeAll(async () => {
  // One archive per Unix target, all holding the same stand-in binary (so one sha256 serves them all).
  const stage = join(work, 'stage');
  mkdirSync(stage, { recursive: true });
  mkdirSync(releaseDir);
  script(join(stage, 'mcp-docker'), `echo 'mcp-docker ${VERSION}'`);
  const tgz = join(work, 'stand-in.tar.gz');
  expect((await sh(['tar', '-czf', tgz, 'mcp-docker'], { cwd: stage })).code).toBe(0);
  const sums: string[] = [];
  for (const t of TARGETS) {
    const name = archiveName(t, VERSION);
    if (t.os !== 'windows') writeFileSync(join(releaseDir, name), readFileSync(tgz));
    sums.push(`${t.os === 'windows' ? 'f'.repeat(64) : sha256Of(tgz)}  ${name}\n`);
  }
  writeFileSync(join(releaseDir, 'checksums.txt'), sums.join(''));
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      requests.push(path);
      const file = join(releaseDir, path.replace(/^\/latest\/download\//, ''));
      if (!path.startsWith('/latest/download/') || !existsSync(file))
        return new Response('not found', { status: 404 });
      if (stall && file.endsWith('.tar.gz')) {
        stall();
        return new Response(new ReadableStream({ start: (c) => c.enqueue(new Uint8Array(1024)) }));
      }
      return new Response(Bun.file(file));
    },
  });
});

afterAll(() => {
  server?.stop(true);
  rmSync(work, { recursive: true, force: true });
});

describe('install.sh picks the archive for the host', () => {
  const cases: [string, string, Host][] = [
    ['Linux x86_64, glibc', 'linux_x64', { os: 'Linux', machine: 'x86_64', libc: 'glibc' }],
    ['Linux aarch64, glibc', 'linux_arm64', { os: 'Linux', machine: 'aarch64', libc: 'glibc' }],
    ['Linux x86_64, musl (Alpine)', 'linux_x64_musl', { os: 'Linux', machine: 'x86_64', libc: 'musl' }],
    ['Linux aarch64, musl (Alpine)', 'linux_arm64_musl', { os: 'Linux', machine: 'aarch64', libc: 'musl' }],
    ['macOS on Intel', 'darwin_x64', { os: 'Darwin', machine: 'x86_64' }],
    ['macOS on Apple silicon', 'darwin_arm64', { os: 'Darwin', machine: 'arm64' }],
    ['macOS, an x64 shell under Rosetta', 'darwin_arm64', { os: 'Darwin', machine: 'x86_64', rosetta: true }],
  ];

  it.each(cases)('%s → %s', async (label, platform, host) => {
    const dir = stubs(label.replace(/\W+/g, '-'), host);
    const prefix = join(dir, 'prefix');
    requests.length = 0;
    const r = await install(dir, ['--prefix', prefix]);
    expect(r.stderr).toContain(`installed mcp-docker ${VERSION} to ${prefix}/bin/mcp-docker`);
    expect(r.code).toBe(0);
    const archive = `mcp-docker_${VERSION}_${platform}.tar.gz`;
    expect(requests).toEqual(['/latest/download/checksums.txt', `/latest/download/${archive}`]);
    // Every Mac re-signs the binary before it is installed (Bun's darwin-x64 signature is invalid); Linux never.
    const log = join(dir, 'codesign.log');
    if (host.os === 'Darwin') {
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      expect(calls).toHaveLength(2);
      expect(calls[0]).toMatch(/^--remove-signature \/.*\/x\/mcp-docker$/);
      expect(calls[1]).toMatch(/^-s - -f \/.*\/x\/mcp-docker$/);
    } else {
      expect(existsSync(log)).toBe(false);
    }
  });

  it('refuses an OS or CPU it has no build for, before downloading anything', async () => {
    requests.length = 0;
    const bsd = await install(stubs('freebsd', { os: 'FreeBSD', machine: 'amd64' }), []);
    expect(bsd.code).toBe(1);
    expect(bsd.stderr).toContain("unsupported OS 'FreeBSD'");
    const riscv = await install(stubs('riscv', { os: 'Linux', machine: 'riscv64', libc: 'glibc' }), []);
    expect(riscv.code).toBe(1);
    expect(riscv.stderr).toContain("unsupported architecture 'riscv64'");
    expect(requests).toEqual([]);
  });
});

describe('install.sh default prefix', () => {
  const linux: Host = { os: 'Linux', machine: 'x86_64', libc: 'glibc' };
  // These installs give no --prefix: an install.sh that ignored MCP_DOCKER_SYSTEM_PREFIX would write the
  // real /usr/local/bin (tests run as root). Refuse to run them at all then.
  const guarded = (...args: Parameters<typeof install>) => {
    if (!readFileSync(INSTALL_SH, 'utf8').includes('MCP_DOCKER_SYSTEM_PREFIX:-/usr/local'))
      throw new Error('install.sh does not take MCP_DOCKER_SYSTEM_PREFIX: not running it without --prefix');
    return install(...args);
  };

  it('installs to the system prefix (/usr/local) when its bin is writable', async () => {
    const dir = stubs('prefix-writable', linux);
    const system = join(dir, 'usr-local');
    mkdirSync(join(system, 'bin'), { recursive: true });
    const r = await guarded(dir, [], { MCP_DOCKER_SYSTEM_PREFIX: system });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`to ${system}/bin/mcp-docker`);
    expect(existsSync(join(dir, 'home/.local/bin/mcp-docker'))).toBe(false);
  });

  it('creates the bin directory under a writable system prefix that lacks one', async () => {
    const dir = stubs('prefix-no-bin', linux);
    const system = join(dir, 'usr-local');
    mkdirSync(system, { recursive: true });
    const r = await guarded(dir, [], { MCP_DOCKER_SYSTEM_PREFIX: system });
    expect(r.code).toBe(0);
    expect(existsSync(join(system, 'bin/mcp-docker'))).toBe(true);
  });

  it('falls back to ~/.local/bin when the system prefix cannot be written, and says to add it to PATH', async () => {
    const dir = stubs('prefix-fallback', linux);
    // A prefix that does not exist is not writable even for root (who passes any permission check).
    const r = await guarded(dir, []);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`to ${dir}/home/.local/bin/mcp-docker`);
    expect(r.stderr).toContain(`${dir}/home/.local/bin is not on your PATH`);
    expect(r.stdout).toBe(`mcp-docker ${VERSION}\n`);
  });
});

describe('install.sh --version with an offline archive', () => {
  const linux: Host = { os: 'Linux', machine: 'x86_64', libc: 'glibc' };
  const offline = (version: string) => {
    const dir = stubs(`offline-${version}`, linux);
    return install(dir, [
      '--archive',
      join(releaseDir, `mcp-docker_${VERSION}_linux_x64.tar.gz`),
      '--checksums',
      join(releaseDir, 'checksums.txt'),
      '--version',
      version,
      '--prefix',
      join(dir, 'prefix'),
    ]);
  };

  it("installs when it is the archive's version, with or without the v", async () => {
    for (const v of [VERSION, `v${VERSION}`]) {
      const r = await offline(v);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`mcp-docker ${VERSION}\n`);
    }
  });

  it('refuses another version instead of ignoring it', async () => {
    const r = await offline('v1.0.0');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `--version v1.0.0 does not match mcp-docker_${VERSION}_linux_x64.tar.gz (version ${VERSION})`,
    );
  });
});

describe('install.sh interrupted', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    'stops at %s during the download (exit %d), leaving no temp files and installing nothing',
    async (signal, status) => {
      const dir = stubs(`signal-${signal}`, { os: 'Linux', machine: 'x86_64', libc: 'glibc' });
      const temp = join(dir, 'tmp');
      mkdirSync(temp, { recursive: true });
      const downloading = new Promise<void>((ok) => {
        stall = ok;
      });
      // Its own process group, as a terminal's Ctrl-C reaches the shell and curl alike.
      const child = spawn('sh', [INSTALL_SH, '--prefix', join(dir, 'prefix')], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: `${dir}:${process.env.PATH ?? ''}`,
          HOME: join(dir, 'home'),
          TMPDIR: temp,
          MCP_DOCKER_RELEASE_URL: `http://127.0.0.1:${server.port}`,
        },
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      try {
        await downloading;
        await Bun.sleep(200);
        process.kill(-(child.pid as number), signal);
        expect(await exited).toBe(status);
      } finally {
        stall = undefined;
        if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL');
      }
      expect(stderr).not.toContain('download failed');
      expect(readdirSync(temp)).toEqual([]);
      expect(existsSync(join(dir, 'prefix'))).toBe(false);
    },
  );
});
