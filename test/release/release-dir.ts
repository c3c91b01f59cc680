/**
 * Where the release tests find the all-target build: MCP_DOCKER_RELEASE_DIR or dist/release (written by
 * `bun build.ts --all`, which .ci/run does before the tests). Locally the artifact checks are skipped
 * when it is absent; in CI (CI=true) its absence fails them.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const RELEASE_DIR = resolve(process.env.MCP_DOCKER_RELEASE_DIR ?? 'dist/release');
export const HAVE_RELEASE = existsSync(join(RELEASE_DIR, 'checksums.txt'));
export const RELEASE_REQUIRED = process.env.CI === 'true';

export function requireRelease(): void {
  if (!HAVE_RELEASE)
    throw new Error(`no release build in ${RELEASE_DIR}: run \`bun build.ts --all\` first (.ci/run does)`);
}

/** Runs a command without blocking the event loop (tests serve HTTP from this process meanwhile). */
export async function sh(
  cmd: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(cmd, { ...opts, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
