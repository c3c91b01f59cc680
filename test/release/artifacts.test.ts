/**
 * The all-target build (`bun build.ts --all`, run by .ci/run before the tests): every binary exists, is
 * a plausible size and is an executable for its OS and CPU, a darwin one with a code signature that
 * checks; archives hold the renamed binary, LICENSE and README.md, flat, and match checksums.txt; the
 * linux-x64 binary runs here and the linux-arm64 one under qemu-user-static. Skipped locally without a
 * build; in CI a missing build fails.
 */
import { beforeAll, describe, expect, it } from 'bun:test';
import {
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeArchive } from '../../packaging/archive.ts';
import { signatureProblem } from '../../packaging/macho-sign.ts';
import { archiveName, binaryName, elfInterpreter, TARGETS, type Target } from '../../packaging/targets.ts';
import { HAVE_RELEASE, RELEASE_DIR, RELEASE_REQUIRED, requireRelease, sh } from './release-dir.ts';

const MB = 1_000_000;
let version: string;

/** First bytes of a file (headers and, for Linux, the program interpreter path). */
function head(file: string, n = 4096): Buffer {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(n);
  readSync(fd, buf, 0, n, 0);
  return buf;
}

/** What the file header says: 'linux-x64', 'linux-arm64-musl', 'darwin-arm64', 'windows-x64'… */
function platformOf(file: string): string {
  const b = head(file);
  if (b.readUInt32BE(0) === 0x7f454c46) {
    const machine = b.readUInt16LE(18);
    const arch = machine === 0x3e ? 'x64' : machine === 0xb7 ? 'arm64' : `machine-${machine}`;
    return `linux-${arch}${elfInterpreter(file)?.includes('/ld-musl-') ? '-musl' : ''}`;
  }
  if (b.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = b.readUInt32LE(4);
    return `darwin-${cpu === 0x01000007 ? 'x64' : cpu === 0x0100000c ? 'arm64' : `cpu-${cpu}`}`;
  }
  if (b.toString('latin1', 0, 2) === 'MZ') {
    const pe = b.readUInt32LE(0x3c);
    return `windows-${b.readUInt16LE(pe + 4) === 0x8664 ? 'x64' : 'other'}`;
  }
  return 'unknown';
}

describe.skipIf(!HAVE_RELEASE && !RELEASE_REQUIRED)(`all-target build in ${RELEASE_DIR}`, () => {
  beforeAll(async () => {
    requireRelease();
    version =
      (await sh([join(RELEASE_DIR, 'mcp-docker-linux-x64'), '--version'])).stdout.trim().split(' ')[1] ?? '';
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each(TARGETS.map((t) => [t.name, t] as [string, Target]))(
    '%s: a binary for its OS and CPU, 50-250 MB',
    (_n, t) => {
      const file = join(RELEASE_DIR, binaryName(t));
      expect(existsSync(file)).toBe(true);
      const size = statSync(file).size;
      expect(size).toBeGreaterThan(50 * MB);
      expect(size).toBeLessThan(250 * MB);
      expect(platformOf(file)).toBe(t.name);
    },
  );

  it.each(TARGETS.map((t) => [t.name, t] as [string, Target]))(
    '%s: compiled as mcp-docker, the name the bytecode order was recorded under',
    async (_n, t) => {
      const bytes = Buffer.from(await Bun.file(join(RELEASE_DIR, binaryName(t))).arrayBuffer());
      // The entry module's path in the binary's own filesystem (Windows drops the .exe there).
      const root = t.os === 'windows' ? 'B:/~BUN/root/' : '/$bunfs/root/';
      expect(bytes.includes(`${root}mcp-docker`)).toBe(true);
      expect(bytes.includes(`${root}mcp-docker-`)).toBe(false);
    },
  );

  it.each(TARGETS.filter((t) => t.os === 'darwin').map((t) => [t.name, t] as [string, Target]))(
    '%s: its code signature matches every byte before it (macOS kills a binary whose does not)',
    (_n, t) => {
      // The npm package and the .mcpb hold this very file (npm.test.ts, mcpb.test.ts).
      expect(signatureProblem(readFileSync(join(RELEASE_DIR, binaryName(t))))).toBeUndefined();
    },
  );

  it('checksums.txt lists every archive once and each matches (sha256sum -c)', async () => {
    const r = await sh(['sha256sum', '-c', '--strict', 'checksums.txt'], { cwd: RELEASE_DIR });
    expect(r.code).toBe(0);
    const listed = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.replace(/: OK$/, ''));
    expect(listed.sort()).toEqual(TARGETS.map((t) => archiveName(t, version)).sort());
  });

  it.each(TARGETS.map((t) => [t.name, t] as [string, Target]))(
    '%s: archive holds exactly mcp-docker renamed, LICENSE and README.md',
    async (_n, t) => {
      const file = join(RELEASE_DIR, archiveName(t, version));
      const list = t.os === 'windows' ? await sh(['unzip', '-Z1', file]) : await sh(['tar', '-tzf', file]);
      expect(list.code).toBe(0);
      const names = list.stdout.trim().split('\n');
      const exe = t.os === 'windows' ? 'mcp-docker.exe' : 'mcp-docker';
      expect(names.sort()).toEqual([exe, 'LICENSE', 'README.md'].sort());
    },
  );

  it('the linux-x64 binary runs here and reports the release version', async () => {
    const r = await sh([join(RELEASE_DIR, 'mcp-docker-linux-x64'), '--version']);
    expect(r).toMatchObject({ code: 0, stdout: `mcp-docker ${version}\n` });
  });

  it('the linux-arm64 binary runs under qemu-user-static and reports the same version', async () => {
    // -L: the arm64 glibc loader and libraries from Debian's libc6-arm64-cross.
    const r = await sh([
      'qemu-aarch64-static',
      '-L',
      '/usr/aarch64-linux-gnu',
      join(RELEASE_DIR, 'mcp-docker-linux-arm64'),
      '--version',
    ]);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: `mcp-docker ${version}\n` });
  });
});

describe('writeArchive', () => {
  it('fails the build when LICENSE is missing instead of shipping an archive without it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mcpt-archive-'));
    try {
      writeFileSync(join(root, 'README.md'), '# readme\n');
      writeFileSync(join(root, 'bin'), '#!/bin/sh\n');
      const target = TARGETS.find((t) => t.name === 'linux-x64') as Target;
      await expect(writeArchive(target, join(root, 'bin'), '1.2.3', root, root)).rejects.toThrow(
        `LICENSE is missing from ${root}`,
      );
      expect(existsSync(join(root, archiveName(target, '1.2.3')))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
