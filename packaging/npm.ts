/**
 * The npm packages (`bun build.ts --all` or `--npm`): the launcher `mcp-docker`, whose command is
 * packaging/npm/launcher.cjs, and one `@mcp-docker/<target>` package per release target holding that
 * target's binary. The launcher lists every platform package as an exact-version optionalDependency; their
 * `os`/`cpu`/`libc` fields make npm install only the one that fits the machine (esbuild's scheme).
 * Written as directories under <release>/npm/, ready for `npm pack` / `npm publish`.
 */
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pkg from '../package.json' with { type: 'json' };
import { binaryName, TARGETS, type Target } from './targets.ts';

const ROOT = resolve(import.meta.dir, '..');
export const NPM_LAUNCHER = 'mcp-docker';
/** The name the MCP Registry checks in package.json to tie the npm package to the server entry. */
export const MCP_NAME = 'io.github.mcp-docker/mcp-docker';
const REPOSITORY = { type: 'git', url: 'git+https://github.com/mcp-docker/mcp-docker.git' };

/** `@mcp-docker/linux-arm64-musl`, `@mcp-docker/windows-x64`. */
export const npmPackageName = (t: Target) => `@mcp-docker/${t.name}`;
/** npm's `os` value: Node's process.platform. */
const npmOs = (t: Target) => (t.os === 'windows' ? 'win32' : t.os);

/** A hard link to the release binary (no second ~120 MB copy), a copy across file systems; executable. */
export function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
  chmodSync(to, 0o755);
}

const writeJson = (file: string, value: unknown) =>
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

export function platformManifest(t: Target, version: string): Record<string, unknown> {
  return {
    name: npmPackageName(t),
    version,
    description: `The mcp-docker binary for ${t.name} (installed by the mcp-docker package).`,
    license: pkg.license,
    repository: REPOSITORY,
    os: [npmOs(t)],
    cpu: [t.arch],
    // npm 10 skips a package whose libc does not match; only Linux has one.
    ...(t.os === 'linux' && { libc: [t.libc ?? 'glibc'] }),
    files: [`bin/${t.os === 'windows' ? 'mcp-docker.exe' : 'mcp-docker'}`],
    preferUnplugged: true,
  };
}

export function launcherManifest(version: string): Record<string, unknown> {
  return {
    name: NPM_LAUNCHER,
    version,
    description: pkg.description,
    license: pkg.license,
    repository: REPOSITORY,
    mcpName: MCP_NAME,
    keywords: ['mcp', 'docker', 'model-context-protocol'],
    bin: { 'mcp-docker': 'bin/mcp-docker.cjs' },
    files: ['bin/mcp-docker.cjs'],
    engines: { node: '>=18' },
    optionalDependencies: Object.fromEntries(TARGETS.map((t) => [npmPackageName(t), version])),
  };
}

/**
 * Writes <releaseDir>/npm/mcp-docker/ and <releaseDir>/npm/<target>/ for every target whose binary is in
 * releaseDir (a host-only build gets its own package; a release has them all). Returns the directories.
 */
export function writeNpmPackages(releaseDir: string, version: string): string[] {
  const root = join(releaseDir, 'npm');
  rmSync(root, { recursive: true, force: true });
  const dirs: string[] = [];
  const common = (dir: string) => {
    copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
  };
  const launcher = join(root, NPM_LAUNCHER);
  mkdirSync(join(launcher, 'bin'), { recursive: true });
  copyFileSync(join(import.meta.dir, 'npm/launcher.cjs'), join(launcher, 'bin/mcp-docker.cjs'));
  chmodSync(join(launcher, 'bin/mcp-docker.cjs'), 0o755);
  copyFileSync(join(ROOT, 'README.md'), join(launcher, 'README.md'));
  writeJson(join(launcher, 'package.json'), launcherManifest(version));
  common(launcher);
  dirs.push(launcher);
  for (const t of TARGETS) {
    const binary = join(releaseDir, binaryName(t));
    if (!existsSync(binary)) continue;
    const dir = join(root, t.name);
    const exe = join(dir, 'bin', t.os === 'windows' ? 'mcp-docker.exe' : 'mcp-docker');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    linkOrCopy(binary, exe);
    writeJson(join(dir, 'package.json'), platformManifest(t, version));
    writeFileSync(
      join(dir, 'README.md'),
      `# ${npmPackageName(t)}\n\nThe \`mcp-docker\` binary for ${t.name}. Install \`mcp-docker\` instead: it depends on this package\nand runs the binary (\`npx -y mcp-docker\`).\n`,
    );
    common(dir);
    dirs.push(dir);
  }
  return dirs;
}
