/**
 * What a bench part run alone (`bun bench/<part>.ts`) starts with: the binary built unless
 * `--no-build`, the binary's path (MCP_DOCKER_BIN or dist/mcp-docker), the environment it is given
 * (only the variables named), a numeric flag reader and a log line to stderr.
 */
import { join, resolve } from 'node:path';

export interface Standalone {
  root: string;
  bin: string;
  env: Record<string, string>;
  /** The number after `flag` on the command line, or `fallback`. */
  num: (flag: string, fallback: number) => number;
  log: (s: string) => void;
}

export function standalone(keepEnv: readonly string[]): Standalone {
  const root = resolve(import.meta.dir, '..');
  if (!process.argv.includes('--no-build')) {
    const b = Bun.spawnSync([process.execPath, 'build.ts'], {
      cwd: root,
      stdout: 'inherit',
      stderr: 'inherit',
    });
    if (b.exitCode !== 0) process.exit(1);
  }
  const env: Record<string, string> = {};
  for (const key of keepEnv) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  const bin = process.env.MCP_DOCKER_BIN
    ? resolve(process.env.MCP_DOCKER_BIN)
    : join(root, 'dist/mcp-docker');
  const num = (flag: string, fallback: number) => {
    const at = process.argv.indexOf(flag);
    return at >= 0 ? Number(process.argv[at + 1]) : fallback;
  };
  return { root, bin, env, num, log: (s) => console.error(`[bench] ${s}`) };
}
