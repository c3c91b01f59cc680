import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The release targets: one row per binary we ship. Our names (x64/arm64, `-musl`) follow what users
 * type; `bunTarget` is the compiler's name and `runtime` the npm package holding that Bun runtime.
 */
export interface Target {
  /** Binary name suffix and `--target` value: `linux-x64`, `linux-arm64-musl`, `windows-x64`. */
  name: string;
  os: 'linux' | 'darwin' | 'windows';
  arch: 'x64' | 'arm64';
  libc?: 'musl';
  bunTarget: Bun.Build.CompileTarget;
  /** npm package of the Bun runtime the binary is built on (optional dependency of `bun`). */
  runtime: string;
}

const row = (os: Target['os'], arch: Target['arch'], libc?: 'musl'): Target => {
  const bunArch = arch === 'arm64' ? 'aarch64' : 'x64';
  const suffix = libc ? `-${libc}` : '';
  return {
    name: `${os}-${arch}${suffix}`,
    os,
    arch,
    libc,
    bunTarget: `bun-${os}-${arch}${libc ? '-musl' : ''}` as Bun.Build.CompileTarget,
    runtime: `@oven/bun-${os}-${bunArch}${suffix}`,
  };
};

export const TARGETS: readonly Target[] = [
  row('linux', 'x64'),
  row('linux', 'arm64'),
  row('linux', 'x64', 'musl'),
  row('linux', 'arm64', 'musl'),
  row('darwin', 'x64'),
  row('darwin', 'arm64'),
  row('windows', 'x64'),
];

/** `mcp-docker-linux-arm64`, `mcp-docker-windows-x64.exe`. */
export const binaryName = (t: Target) => `mcp-docker-${t.name}${t.os === 'windows' ? '.exe' : ''}`;

/** `mcp-docker_1.2.3_linux_arm64_musl.tar.gz`, `mcp-docker_1.2.3_windows_x64.zip` (install.sh builds the same). */
export const archiveName = (t: Target, version: string) =>
  `mcp-docker_${version}_${t.os}_${t.arch}${t.libc ? `_${t.libc}` : ''}.${t.os === 'windows' ? 'zip' : 'tar.gz'}`;

/**
 * The program interpreter an ELF executable asks for (PT_INTERP), e.g. `/lib64/ld-linux-x86-64.so.2` or
 * `/lib/ld-musl-aarch64.so.1`; undefined for anything else (not ELF64 little-endian, statically linked).
 */
export function elfInterpreter(file: string): string | undefined {
  const fd = openSync(file, 'r');
  try {
    const read = (at: number, n: number) => {
      const buf = Buffer.alloc(n);
      return buf.subarray(0, readSync(fd, buf, 0, n, at));
    };
    const ident = read(0, 64);
    // ELF magic, ELFCLASS64, little-endian (every target we build on).
    if (ident.length < 64 || ident.readUInt32BE(0) !== 0x7f454c46 || ident[4] !== 2 || ident[5] !== 1)
      return undefined;
    const phoff = Number(ident.readBigUInt64LE(0x20));
    const phentsize = ident.readUInt16LE(0x36);
    const phnum = ident.readUInt16LE(0x38);
    for (let i = 0; i < phnum; i++) {
      const ph = read(phoff + i * phentsize, 56);
      if (ph.length < 56 || ph.readUInt32LE(0) !== 3) continue; // PT_INTERP
      const path = read(Number(ph.readBigUInt64LE(8)), Math.min(Number(ph.readBigUInt64LE(32)), 4096));
      return path.toString('latin1').replace(/\0.*$/s, '');
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether this process runs on musl (Alpine): the running executable's loader is `ld-musl-*`. Without a
 * loader to read, glibc's runtime version in the process report decides (musl builds report none).
 */
export function runningOnMusl(): boolean {
  if (process.platform !== 'linux') return false;
  const loader = elfInterpreter(process.execPath);
  if (loader !== undefined) return loader.includes('/ld-musl-');
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return header?.glibcVersionRuntime === undefined;
}

/** The target this process runs on: OS, CPU and, on Linux, the libc of the running executable. */
export function hostTarget(musl = runningOnMusl()): Target | undefined {
  const arch = process.arch === 'arm64' ? 'arm64' : process.arch === 'x64' ? 'x64' : undefined;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return TARGETS.find(
    (t) => t.os === os && t.arch === arch && (t.libc === 'musl') === (musl && os === 'linux'),
  );
}
