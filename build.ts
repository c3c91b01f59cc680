/**
 * Compiles the self-contained binary for this machine: `bun build.ts [outfile]` → dist/mcp-docker.
 * - cpu-features is an optional native addon of ssh2 (via docker-modem) we never need: external.
 * - dockerode's BuildKit session module pulls in gRPC and protobufjs (~20 ms of start-up, ~25 MB of
 *   RSS) for `buildImage({ version: '2' })` only; we use the classic builder, so the binary gets a
 *   stub that says so if it is ever reached.
 * - docker-modem loads ssh2 (~15 MB RSS, ~30 ms) at import for ssh:// engines only: the binary loads
 *   it on first use instead.
 * - bytecode: without it start-up is ~80 ms slower. --smol (more frequent GC) lowers peak RSS ~15 MB
 *   after many calls at no measurable start-up cost.
 */
import { mkdirSync } from 'node:fs';
import pkg from './package.json' with { type: 'json' };

const outfile = process.argv[2] ?? 'dist/mcp-docker';
mkdirSync('dist', { recursive: true });
const result = await Bun.build({
  entrypoints: ['src/main.ts'],
  compile: { outfile, execArgv: ['--smol'] },
  minify: true,
  bytecode: true,
  sourcemap: 'none',
  external: ['cpu-features'],
  plugins: [
    {
      name: 'no-buildkit-session',
      setup(build) {
        build.onResolve({ filter: /^\.\/session$/ }, (args) =>
          args.importer.includes('dockerode') ? { path: 'dockerode-session', namespace: 'stub' } : undefined,
        );
        build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
          loader: 'js',
          contents:
            "module.exports = (_d, _a, cb) => cb(new Error('BuildKit sessions are not supported: mcp-docker uses the classic builder'));",
        }));
      },
    },
    {
      name: 'lazy-ssh2',
      setup(build) {
        build.onResolve({ filter: /^\.\/ssh$/ }, (args) =>
          args.importer.includes('docker-modem')
            ? { path: 'docker-modem-ssh', namespace: 'lazy' }
            : undefined,
        );
        build.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
          loader: 'js',
          contents: `module.exports = (opt) => require(${JSON.stringify(require.resolve('docker-modem/lib/ssh.js'))})(opt);`,
        }));
      },
    },
  ],
  define: { MCP_DOCKER_VERSION: JSON.stringify(pkg.version) },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.error(`built ${outfile} (${pkg.version})`);
