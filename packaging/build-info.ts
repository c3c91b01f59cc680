/**
 * `build-info.json` next to an all-target build records what it was built from, so the test runner can
 * drive the end-to-end suite against the shipped artifact for this host (the binary that went into its
 * archive) instead of compiling a second one, but only when that artifact is current: same sources,
 * same Bun, same version, binary unchanged since. Anything else and the runner builds dist/mcp-docker.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { sha256Of } from './archive.ts';
import { binaryName, type Target } from './targets.ts';

const ROOT = resolve(import.meta.dir, '..');
export const BUILD_INFO = 'build-info.json';
/** Everything a compiled binary is made from (dependencies through the lockfile). */
const INPUTS = [
  'src',
  'ui',
  'build.ts',
  'packaging',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'bunfig.toml',
];

export interface BuildInfo {
  version: string;
  /** sha256 over the inputs' paths and contents, and the Bun that bundled them. */
  sources: string;
  /** The host's target when the build ran, its binary's file name and sha256. */
  host: string;
  binary: string;
  sha256: string;
}

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(join(path, name)));
}

/** sha256 of the build inputs under `root` and the running Bun's version and revision. */
export function sourceDigest(root = ROOT): string {
  const hash = new Bun.CryptoHasher('sha256').update(`bun ${Bun.version} ${Bun.revision}\0`);
  for (const file of INPUTS.flatMap((input) => files(join(root, input)))) {
    hash
      .update(`${relative(root, file)}\0`)
      .update(readFileSync(file))
      .update('\0');
  }
  return hash.digest('hex');
}

/** Writes `dir/build-info.json` for a finished all-target build, whose host binary is `host`'s. */
export function writeBuildInfo(dir: string, version: string, sources: string, host: Target): void {
  const binary = binaryName(host);
  const info: BuildInfo = { version, sources, host: host.name, binary, sha256: sha256Of(join(dir, binary)) };
  writeFileSync(join(dir, BUILD_INFO), `${JSON.stringify(info, null, 2)}\n`);
}

/**
 * The path of `host`'s binary in the all-target build in `dir` when it is current for `version` and this
 * source tree; otherwise why not, as `{ reason }`.
 */
export function currentHostBinary(
  dir: string,
  host: Target | undefined,
  version: string,
  root = ROOT,
): { path: string } | { reason: string } {
  const file = join(dir, BUILD_INFO);
  if (!existsSync(file)) return { reason: `no ${BUILD_INFO} in ${dir}` };
  let info: Partial<BuildInfo>;
  try {
    info = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { reason: `${file} is not JSON` };
  }
  if (!host || info.host !== host.name) return { reason: `it was built on ${info.host}, not this host` };
  if (info.version !== version)
    return { reason: `it is version ${info.version}, this build would be ${version}` };
  if (info.sources !== sourceDigest(root)) return { reason: 'the sources or Bun changed since it was built' };
  const path = join(dir, binaryName(host));
  if (!existsSync(path) || sha256Of(path) !== info.sha256)
    return { reason: `${binaryName(host)} is missing or changed since the build` };
  return { path };
}
