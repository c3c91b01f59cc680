/**
 * Release archives and their checksums: each archive holds the binary renamed to `mcp-docker[.exe]`
 * plus LICENSE and README.md, flat (the same layout GoReleaser's `archives` writes, so install.sh reads
 * both). `.tar.gz` via tar, `.zip` for Windows via zip (Debian package `zip`).
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { archiveName, type Target } from './targets.ts';

const ROOT = resolve(import.meta.dir, '..');
/** Files shipped next to the binary in every archive: a missing one fails the build, never a silent drop. */
const EXTRA_FILES = ['LICENSE', 'README.md'];

/** Runs without blocking, so build.ts compresses one target while it compiles the next. */
async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  if (!Bun.which(cmd)) throw new Error(`${cmd} is not installed; it is needed to write archives`);
  const proc = Bun.spawn([cmd, ...args], { cwd, stdout: 'ignore', stderr: 'pipe' });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim()}`);
}

/** Writes `outDir/<archiveName>` for `target` from the built binary, with LICENSE and README.md from `root`. */
export async function writeArchive(
  target: Target,
  binary: string,
  version: string,
  outDir: string,
  root = ROOT,
): Promise<string> {
  const stage = mkdtempSync(join(tmpdir(), 'mcp-docker-archive-'));
  try {
    const exe = target.os === 'windows' ? 'mcp-docker.exe' : 'mcp-docker';
    copyFileSync(binary, join(stage, exe));
    const files = [exe];
    for (const f of EXTRA_FILES) {
      if (!existsSync(join(root, f)))
        throw new Error(`${f} is missing from ${root}: every archive ships it next to the binary`);
      copyFileSync(join(root, f), join(stage, f));
      files.push(f);
    }
    const out = join(resolve(outDir), archiveName(target, version));
    rmSync(out, { force: true });
    if (target.os === 'windows') await run('zip', ['-q', '-X', out, ...files], stage);
    else await run('tar', ['-czf', out, '--owner=0', '--group=0', '--numeric-owner', ...files], stage);
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export const sha256Of = (file: string) =>
  new Bun.CryptoHasher('sha256').update(readFileSync(file)).digest('hex');

/** Writes `checksums.txt` (`sha256sum -c` format) over every archive in `dir`; returns its path. */
export function writeChecksums(dir: string): string {
  const archives = readdirSync(dir)
    .filter((f) => f.endsWith('.tar.gz') || f.endsWith('.zip'))
    .sort();
  const lines = archives.map((f) => `${sha256Of(join(dir, f))}  ${basename(f)}\n`);
  const out = join(dir, 'checksums.txt');
  writeFileSync(out, lines.join(''));
  return out;
}
