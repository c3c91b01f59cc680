/**
 * The Bun runtime each cross-compiled binary is built on, from the npm registry only (no GitHub
 * download, so CI and air-gapped builders need nothing but npm). The trust root is package-lock.json:
 * it pins each `@oven/bun-*` package's version and sha512, and a fetched tarball must match it.
 * Tarballs are cached under node_modules/.cache/bun-runtimes/ and re-verified on every use.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Target } from './targets.ts';

const ROOT = resolve(import.meta.dir, '..');
export const RUNTIME_CACHE = join(ROOT, 'node_modules/.cache/bun-runtimes');

interface LockEntry {
  version: string;
  integrity: string;
}

/** The pinned version and integrity of `pkg` from package-lock.json. */
export function lockedPackage(pkg: string, lockText = readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) {
  const lock = JSON.parse(lockText) as { packages: Record<string, Partial<LockEntry>> };
  const entry = lock.packages[`node_modules/${pkg}`];
  if (!entry?.version || !entry.integrity?.startsWith('sha512-'))
    throw new Error(`${pkg} is not pinned with a sha512 in package-lock.json: run \`npm install\` first`);
  return { version: entry.version, integrity: entry.integrity };
}

/** npm's integrity string (`sha512-<base64>`) of a file. */
export const integrityOf = (file: string) =>
  `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;

/** Path of the verified Bun executable for `target`, fetching it with `npm pack` when not cached. */
export function runtimeFor(target: Target): string {
  const { version, integrity } = lockedPackage(target.runtime);
  const dir = join(RUNTIME_CACHE, `${target.runtime.replace('/', '+')}-${version}`);
  const tgz = join(dir, 'package.tgz');
  const exe = join(dir, 'package/bin', target.os === 'windows' ? 'bun.exe' : 'bun');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(tgz) || integrityOf(tgz) !== integrity) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const packed = spawnSync(
      'npm',
      ['pack', `${target.runtime}@${version}`, '--json', '--pack-destination', dir],
      { encoding: 'utf8' },
    );
    if (packed.status !== 0) {
      const lines = packed.stderr.trim().split('\n');
      const why =
        lines
          .filter((l) => l.startsWith('npm error'))
          .slice(0, 2)
          .join(' ') || lines.at(-1);
      throw new Error(`npm pack ${target.runtime}@${version} failed (the npm registry is needed): ${why}`);
    }
    const [info] = JSON.parse(packed.stdout) as { filename: string }[];
    if (!info) throw new Error(`npm pack ${target.runtime}@${version} printed no file name`);
    renameSync(join(dir, info.filename), tgz);
    const got = integrityOf(tgz);
    if (got !== integrity) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `${target.runtime}@${version}: tarball sha512 ${got} does not match package-lock.json (${integrity}); refusing to build on it`,
      );
    }
  }
  if (!existsSync(exe)) {
    const rel = `package/bin/${target.os === 'windows' ? 'bun.exe' : 'bun'}`;
    const tar = spawnSync('tar', ['-xzf', tgz, '-C', dir, rel], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`extracting ${rel} from ${target.runtime}: ${tar.stderr.trim()}`);
  }
  return exe;
}
