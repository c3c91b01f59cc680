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

/** The target this process runs on (glibc assumed on Linux unless the musl loader is present). */
export function hostTarget(musl: boolean): Target | undefined {
  const arch = process.arch === 'arm64' ? 'arm64' : process.arch === 'x64' ? 'x64' : undefined;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return TARGETS.find(
    (t) => t.os === os && t.arch === arch && (t.libc === 'musl') === (musl && os === 'linux'),
  );
}
