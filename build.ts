/**
 * Compiles the self-contained binary for this machine: `bun build.ts` → dist/mcp-docker.
 * cpu-features is an optional native addon of ssh2 (via docker-modem) we never need: keep it external.
 */
import { mkdirSync } from 'node:fs';
import pkg from './package.json' with { type: 'json' };

const outfile = process.argv[2] ?? 'dist/mcp-docker';
mkdirSync('dist', { recursive: true });
const result = await Bun.build({
  entrypoints: ['src/main.ts'],
  compile: { outfile },
  minify: true,
  bytecode: true,
  sourcemap: 'none',
  external: ['cpu-features'],
  define: { MCP_DOCKER_VERSION: JSON.stringify(pkg.version) },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.error(`built ${outfile} (${pkg.version})`);
