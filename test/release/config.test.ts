/**
 * The release configuration agrees with itself: GoReleaser builds every target build.ts knows and names
 * archives the way install.sh looks for them; every target's Bun runtime is pinned with a sha512;
 * install.sh is POSIX sh that shellcheck passes. (goreleaser itself cannot be installed here: its npm
 * wrapper downloads the binary from GitHub, so `goreleaser check` runs in the release job instead.)
 */
import { describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BYTECODE_ORDER, compileOptions, releaseVersion } from '../../build.ts';
import pkg from '../../package.json' with { type: 'json' };
import { integrityOf, lockedPackage } from '../../packaging/runtimes.ts';
import {
  archiveName,
  binaryName,
  elfInterpreter,
  hostTarget,
  runningOnMusl,
  TARGETS,
} from '../../packaging/targets.ts';
import { sh } from './release-dir.ts';

interface Build {
  id: string;
  builder: string;
  binary: string;
  tool: string;
  command: string;
  main: string;
  flags: string[];
  targets: string[];
}
interface Archive {
  id: string;
  ids: string[];
  formats: string[];
  name_template: string;
  format_overrides?: { goos: string; formats: string[] }[];
  files: string[];
}
const gr = parse(readFileSync('.goreleaser.yaml', 'utf8')) as {
  version: number;
  dist: string;
  builds: Build[];
  archives: Archive[];
  checksum: { name_template: string; algorithm: string };
  release: { extra_files: { glob: string }[]; footer: string };
  brews: { ids: string[]; install: string; test: string; directory: string; repository: { name: string } }[];
};

/** Expands the small subset of Go templates our name_template uses, for one GoReleaser Bun target. */
function expand(template: string, target: string, version: string): string {
  const [os = '', arch = ''] = target.split('-');
  const goarch = arch === 'x64' ? 'amd64' : arch;
  return template
    .trim()
    .replace('{{ .ProjectName }}', 'mcp-docker')
    .replace('{{ .Version }}', version)
    .replace('{{ .Os }}', os)
    .replace(
      '{{ if eq .Arch "amd64" }}x64{{ else }}{{ .Arch }}{{ end }}',
      goarch === 'amd64' ? 'x64' : goarch,
    );
}

describe('.goreleaser.yaml', () => {
  it('is a version 2 config whose dist directory is its own (dist/ holds the test binary)', () => {
    expect(gr.version).toBe(2);
    expect(gr.dist).toBe('dist/goreleaser');
  });

  it('builds exactly the targets build.ts knows, each through build.ts on the pinned bun', () => {
    const built = gr.builds.flatMap((b) => b.targets.map((t) => `bun-${t}`)).sort();
    expect(built).toEqual(TARGETS.map((t) => t.bunTarget).sort());
    for (const b of gr.builds) {
      expect(b).toMatchObject({ builder: 'bun', binary: 'mcp-docker', tool: './node_modules/.bin/bun' });
      expect(b).toMatchObject({
        command: 'build.ts',
        main: 'src/main.ts',
        flags: ['--version={{ .Version }}'],
      });
    }
  });

  it('names every archive as build.ts and install.sh do, zip on Windows, with LICENSE and README', () => {
    for (const t of TARGETS) {
      const build = gr.builds.find((b) => b.targets.includes(t.name)) as Build;
      const archive = gr.archives.find((a) => a.ids.includes(build.id)) as Archive;
      const format = archive.format_overrides?.find((o) => o.goos === t.os)?.formats[0] ?? archive.formats[0];
      expect(`${expand(archive.name_template, t.name, '1.2.3')}.${format}`).toBe(archiveName(t, '1.2.3'));
      expect(archive.files).toEqual(['LICENSE', 'README.md']);
    }
  });

  it('writes sha256 checksums.txt and attaches install.sh to the release', () => {
    expect(gr.checksum).toEqual({ name_template: 'checksums.txt', algorithm: 'sha256' });
    expect(gr.release.extra_files).toEqual([{ glob: './install.sh' }]);
    expect(gr.release.footer).toContain('--archive');
  });

  it('publishes a Homebrew formula (glibc archives) that re-signs on Intel Macs and tests --version', () => {
    const [brew] = gr.brews;
    expect(brew?.ids).toEqual(['default']);
    expect(brew?.directory).toBe('Formula');
    expect(brew?.repository.name).toBe('homebrew-tap');
    expect(brew?.install).toContain('bin.install "mcp-docker"');
    expect(brew?.install).toMatch(
      /Hardware::CPU\.intel\?[\s\S]*codesign", "--remove-signature"[\s\S]*"--sign", "-"/,
    );
    expect(brew?.test.trim()).toBe('system "#{bin}/mcp-docker", "--version"');
  });
});

describe('the bytecode layout', () => {
  it('comes from the recorded order in packaging/, for every target', () => {
    const order = readFileSync(BYTECODE_ORDER, 'utf8');
    // Bun's order file: a version line, then one function or module per line.
    expect(order.startsWith('v2\n')).toBe(true);
    expect(order.split('\n').length).toBeGreaterThan(1000);
    for (const cross of [undefined, ...TARGETS]) {
      const options = compileOptions('out', '0.0.0', '', cross);
      expect(options.bytecode).toBe(true);
      expect((options.compile as Bun.CompileBuildOptions).bytecodeOrder).toBe(BYTECODE_ORDER);
    }
  });
});

describe('build targets', () => {
  it('names binaries and archives the way users type them', () => {
    expect(TARGETS.map(binaryName)).toEqual([
      'mcp-docker-linux-x64',
      'mcp-docker-linux-arm64',
      'mcp-docker-linux-x64-musl',
      'mcp-docker-linux-arm64-musl',
      'mcp-docker-darwin-x64',
      'mcp-docker-darwin-arm64',
      'mcp-docker-windows-x64.exe',
    ]);
    expect(TARGETS.map((t) => archiveName(t, '0.1.0'))).toContain('mcp-docker_0.1.0_linux_arm64_musl.tar.gz');
    expect(TARGETS.map((t) => archiveName(t, '0.1.0'))).toContain('mcp-docker_0.1.0_windows_x64.zip');
  });

  it('takes every runtime from package-lock.json at the bun version package.json pins, with a sha512', () => {
    for (const t of TARGETS) {
      const locked = lockedPackage(t.runtime);
      expect(locked.version).toBe(pkg.dependencies.bun);
      expect(locked.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    }
  });

  it("reads the host's libc from the running executable's loader instead of assuming glibc", () => {
    /** A minimal ELF64 little-endian header with one PT_INTERP program header naming `loader`. */
    const elf = (loader: string) => {
      const b = Buffer.alloc(64 + 56 + loader.length + 1);
      b.writeUInt32BE(0x7f454c46, 0);
      b[4] = 2; // ELFCLASS64
      b[5] = 1; // little-endian
      b.writeBigUInt64LE(64n, 0x20); // e_phoff
      b.writeUInt16LE(56, 0x36); // e_phentsize
      b.writeUInt16LE(1, 0x38); // e_phnum
      b.writeUInt32LE(3, 64); // PT_INTERP
      b.writeBigUInt64LE(120n, 64 + 8); // p_offset
      b.writeBigUInt64LE(BigInt(loader.length + 1), 64 + 32); // p_filesz
      b.write(loader, 120, 'latin1');
      return b;
    };
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-elf-'));
    try {
      writeFileSync(join(dir, 'musl'), elf('/lib/ld-musl-aarch64.so.1'));
      writeFileSync(join(dir, 'script'), '#!/bin/sh\n');
      expect(elfInterpreter(join(dir, 'musl'))).toBe('/lib/ld-musl-aarch64.so.1');
      expect(elfInterpreter(join(dir, 'script'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (process.platform !== 'linux') return;
    const loader = elfInterpreter(process.execPath) ?? '';
    expect(loader).toMatch(/\/ld-(linux|musl)-/);
    expect(runningOnMusl()).toBe(loader.includes('/ld-musl-'));
    expect(hostTarget()?.libc).toBe(runningOnMusl() ? 'musl' : undefined);
  });

  it('refuses a runtime the lockfile does not pin', () => {
    const lock = JSON.stringify({ packages: { 'node_modules/@oven/bun-linux-x64': { version: '1.4.5' } } });
    expect(() => lockedPackage('@oven/bun-linux-x64', lock)).toThrow('not pinned with a sha512');
  });

  it('computes npm integrity strings (sha512, base64)', () => {
    const file = `${import.meta.dir}/../../package.json`;
    const expected = `sha512-${new Bun.CryptoHasher('sha512').update(readFileSync(file)).digest('base64')}`;
    expect(integrityOf(file)).toBe(expected);
  });

  it('takes the version from --version, else the git tag in GITHUB_REF, else package.json', () => {
    expect(releaseVersion('v1.2.3', 'refs/tags/v9.9.9')).toBe('1.2.3');
    expect(releaseVersion(undefined, 'refs/tags/v2.0.0-rc.1')).toBe('2.0.0-rc.1');
    expect(releaseVersion(undefined, 'refs/heads/main')).toBe(pkg.version);
    expect(() => releaseVersion('latest', undefined)).toThrow('not a semantic version');
  });
});

describe('install.sh', () => {
  it('passes shellcheck as POSIX sh', async () => {
    const r = await sh(['shellcheck', '--shell=sh', '--severity=style', 'install.sh']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('starts with a POSIX shebang and uses no bashisms dash rejects', async () => {
    expect(readFileSync('install.sh', 'utf8').split('\n')[0]).toBe('#!/bin/sh');
    const r = await sh(['dash', '-n', 'install.sh']);
    expect(r.code).toBe(0);
  });
});
