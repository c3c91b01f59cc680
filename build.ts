/**
 * Compiles the self-contained binary.
 *   bun build.ts [outfile]                  this machine's target → dist/mcp-docker
 *   bun build.ts --target linux-arm64 [outfile]
 *   bun build.ts --all [--out dist/release] [--version v1.2.3]
 *                                           every target, archives, checksums.txt and build-info.json
 *                                           (packaging/; the test runner uses this host's binary from it)
 *                                           plus the distribution packages below
 *   bun build.ts --npm | --mcpb | --image | --registry [--out dist/release] [--version v1.2.3]
 *                                           only that packaging step, from the binaries already in --out:
 *                                           npm/ (launcher + one package per target), *.mcpb (validated and
 *                                           packed with @anthropic-ai/mcpb), image/ (rootfs.tar + Dockerfile,
 *                                           host glibc target), server.json (needs every .mcpb)
 *   bun build.ts --target bun-linux-x64 --outfile PATH src/main.ts   (how GoReleaser's Bun builder calls it)
 * Version: --version, else the tag in GITHUB_REF (refs/tags/v1.2.3), else package.json.
 * Cross targets are built on the Bun runtime from its npm package (packaging/runtimes.ts), so a build
 * needs the npm registry and nothing else.
 *
 * compileOptions() is the ONE place compile choices live, used for every target:
 * - cpu-features is an optional native addon of ssh2 (via docker-modem) we never need: external.
 * - dockerode's BuildKit session module pulls in gRPC and protobufjs (~20 ms of start-up, ~25 MB of
 *   RSS) for `buildImage({ version: '2' })` only; we use the classic builder, so the binary gets a
 *   stub that says so if it is ever reached.
 * - docker-modem loads ssh2 at import for its own ssh:// dialer, which we never use (ssh:// engines go
 *   through src/docker/ssh/, which imports ssh2 on first use); dockerode's BuildKit progress decoder
 *   loads protobufjs: both are stubs, so a session's first call loads ~340 KB less code.
 * - bytecode: without it start-up is ~80 ms slower. --smol (more frequent GC) lowers peak RSS ~15 MB
 *   after many calls at no measurable start-up cost.
 * - The bytecode is laid out by packaging/bytecode-order.txt, the functions a recorded stdio session ran
 *   (`npm run bytecode-order`, scripts/bytecode-order.ts), so a session touches fewer of the binary's
 *   pages: peak RSS after 1,000 calls 2–3 MiB lower. A stale order still applies where functions match.
 * - The binary never reads .env or bunfig.toml from the directory it is started in: a server's
 *   settings come from its flags, env and --config only.
 * - The dashboard's view (ui/, an MCP App) is bundled first into one HTML string and compiled in.
 * - A darwin binary whose code signature does not match (darwin-x64: Bun keeps its runtime's) is signed
 *   again ad hoc (packaging/macho-sign.ts), so every channel ships one macOS runs.
 * - Each tool's input check is compiled in as code (packaging/input-checks.ts), so no schema is compiled
 *   at run time, and schemas are built without TypeBox's type engine (packaging/schema-literals.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import pkg from './package.json' with { type: 'json' };
import { writeArchive, writeChecksums } from './packaging/archive.ts';
import { sourceDigest, writeBuildInfo } from './packaging/build-info.ts';
import { EXEC_ARGV } from './packaging/exec-argv.ts';
import { writeImageContext } from './packaging/image.ts';
import { configCheckModule, GROUP_PREFIX, inputCheckModules } from './packaging/input-checks.ts';
import { ensureValidSignature } from './packaging/macho-sign.ts';
import { writeBundles } from './packaging/mcpb.ts';
import { writeNpmPackages } from './packaging/npm.ts';
import { lockedPackage, runtimeFor } from './packaging/runtimes.ts';
import { writeServerJson } from './packaging/server-json.ts';
import { binaryName, hostTarget, TARGETS, type Target } from './packaging/targets.ts';
import { FIELDS } from './src/config/fields.ts';
import { catalogue } from './src/tools/index.ts';
import { PART_OF } from './src/tools/parts.ts';
import { buildDashboardHtml } from './ui/build.ts';

/** A module that throws when used: for dependency code paths mcp-docker never takes. */
const refusing = (message: string) => `() => { throw new Error(${JSON.stringify(message)}); }`;

const plugins: Bun.BunPlugin[] = [
  {
    name: 'no-buildkit',
    setup(build) {
      // dockerode's BuildKit session (gRPC, protobufjs) and its BuildKit progress decoder (protobufjs).
      build.onResolve({ filter: /^\.\/(session|buildkit)$/ }, (args) =>
        args.importer.includes('dockerode')
          ? { path: `dockerode-${args.path.slice(2)}`, namespace: 'stub' }
          : undefined,
      );
      build.onResolve({ filter: /^\.\/ssh$/ }, (args) =>
        args.importer.includes('docker-modem') ? { path: 'docker-modem-ssh', namespace: 'stub' } : undefined,
      );
      build.onLoad({ filter: /^dockerode-session$/, namespace: 'stub' }, () => ({
        loader: 'js',
        contents:
          "module.exports = (_d, _a, cb) => cb(new Error('BuildKit sessions are not supported: mcp-docker uses the classic builder'));",
      }));
      build.onLoad({ filter: /^dockerode-buildkit$/, namespace: 'stub' }, () => ({
        loader: 'js',
        contents: `module.exports = { followProgress: ${refusing('BuildKit progress is not decoded: mcp-docker uses the classic builder')} };`,
      }));
      // docker-modem dials ssh:// itself only for protocol 'ssh'; ssh:// engines go through our own SSH
      // transport (src/docker/ssh/, protocol 'http' over its agent), which loads ssh2 when first used.
      build.onLoad({ filter: /^docker-modem-ssh$/, namespace: 'stub' }, () => ({
        loader: 'js',
        contents: `module.exports = ${refusing("docker-modem's own ssh:// dialer is not used: mcp-docker dials ssh:// engines itself")};`,
      }));
    },
  },
];

/**
 * The dashboard's MCP App view goes in as one string: src/resources/dashboard/html.ts, which builds it from
 * ui/ when running from source, is replaced by the page ui/build.ts made (bundled, inline, hashed CSP).
 */
const dashboardView = (html: string): Bun.BunPlugin => ({
  name: 'dashboard-html',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]resources[\\/]dashboard[\\/]html\.ts$/ }, () => ({
      loader: 'js',
      contents: `export const dashboardHtml = () => Promise.resolve(${JSON.stringify(html)});`,
    }));
  },
});

/**
 * Each tool's input check and each config field's check as code (packaging/input-checks.ts), in place
 * of src/pipeline/checks.ts and src/config/checks.ts: the binary never compiles a schema, nor loads
 * TypeBox's validator to check one. Made once per build, the same for every target.
 */
let checkModules: (ReturnType<typeof inputCheckModules> & { config: string }) | undefined;
const inputChecks = (): Bun.BunPlugin => ({
  name: 'input-checks',
  setup(build) {
    checkModules ??= { ...inputCheckModules(catalogue, PART_OF), config: configCheckModule(FIELDS) };
    const { index, groups, config } = checkModules;
    build.onLoad({ filter: /[\\/]src[\\/]pipeline[\\/]checks\.ts$/ }, () => ({
      loader: 'js',
      contents: index,
    }));
    build.onLoad({ filter: /[\\/]src[\\/]config[\\/]checks\.ts$/ }, () => ({
      loader: 'js',
      contents: config,
    }));
    build.onResolve({ filter: new RegExp(`^${GROUP_PREFIX}`) }, (args) => ({
      path: args.path.slice(GROUP_PREFIX.length),
      namespace: 'input-checks',
    }));
    build.onLoad({ filter: /.*/, namespace: 'input-checks' }, (args) => ({
      loader: 'js',
      contents: groups[args.path] ?? '',
    }));
  },
});

/**
 * TypeBox's `Type`, wherever src/ builds schemas with it, is packaging/schema-literals.ts in the binary:
 * the same schema objects, without loading and running TypeBox's type engine on a session's first call.
 */
export const schemaLiterals = (): Bun.BunPlugin => ({
  name: 'schema-literals',
  setup(build) {
    const ours = join(import.meta.dir, 'src', sep);
    build.onResolve({ filter: /^typebox$/ }, (args) =>
      args.importer.startsWith(ours)
        ? { path: join(import.meta.dir, 'packaging/schema-literals.ts') }
        : undefined,
    );
  },
});

/** The functions a recorded session ran, first in the binary's bytecode (scripts/bytecode-order.ts). */
export const BYTECODE_ORDER = join(import.meta.dir, 'packaging/bytecode-order.txt');

/**
 * Bun.build options for one binary. `cross` names a target built on its npm runtime; omitted = this
 * machine. `dashboardHtml` is the view's page (buildDashboardHtml()), built once for every target.
 */
export function compileOptions(
  outfile: string,
  version: string,
  dashboardHtml: string,
  cross?: Target,
): Bun.BuildConfig {
  return {
    entrypoints: ['src/main.ts'],
    compile: {
      outfile,
      execArgv: EXEC_ARGV,
      bytecodeOrder: existsSync(BYTECODE_ORDER) && BYTECODE_ORDER,
      autoloadDotenv: false,
      autoloadBunfig: false,
      ...(cross && { target: cross.bunTarget, executablePath: runtimeFor(cross) }),
    },
    // Split ESM: modules reached only through import() (the MCP SDK, the tool catalogue, the HTTP stack,
    // dockerode, subcommands) become chunks loaded when first imported, not at start. Measured against
    // one bundle: cold start to initialize 20.9 -> 16.1 ms, RSS after initialize 50.3 -> 46.2 MiB.
    format: 'esm',
    splitting: true,
    minify: true,
    bytecode: true,
    sourcemap: 'none',
    external: ['cpu-features'],
    plugins: [...plugins, dashboardView(dashboardHtml), inputChecks(), schemaLiterals()],
    define: { MCP_DOCKER_VERSION: JSON.stringify(version) },
  };
}

/** `v1.2.3` / `1.2.3-rc.1` → `1.2.3…`; refuses anything that is not a semantic version. */
export function releaseVersion(explicit: string | undefined, githubRef: string | undefined): string {
  const tag = githubRef?.startsWith('refs/tags/') ? githubRef.slice('refs/tags/'.length) : undefined;
  const v = (explicit ?? tag ?? pkg.version).replace(/^v/, '');
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(v))
    throw new Error(
      `version '${v}' is not a semantic version like 1.2.3 (from --version, the git tag or package.json)`,
    );
  return v;
}

let dashboardPage: Promise<string> | undefined;

/**
 * The name every binary is compiled under. Its entry module is named after the file
 * (`/$bunfs/root/mcp-docker`), and the bytecode order names functions by their module: compiled under
 * another name (`mcp-docker-linux-x64`), the entry module's functions missed their place in the order.
 * Compiled under this one, the host's release binary is byte for byte the one `bun build.ts` makes.
 */
export const COMPILED_NAME = 'mcp-docker';

async function compile(outfile: string, version: string, cross?: Target): Promise<void> {
  mkdirSync(dirname(outfile), { recursive: true });
  const name = `${COMPILED_NAME}${outfile.endsWith('.exe') ? '.exe' : ''}`;
  // Another name: compiled as `name` in a directory of its own beside the outfile, then moved there.
  const scratch = basename(outfile) === name ? undefined : mkdtempSync(join(dirname(outfile), '.compile-'));
  const target = scratch ? join(scratch, name) : outfile;
  try {
    // Bun.build throws on a failed bundle (an AggregateError whose message is only "Bundle failed"): print why.
    dashboardPage ??= buildDashboardHtml();
    const result = await Bun.build(compileOptions(target, version, await dashboardPage, cross)).catch(
      (e: Error) => {
        for (const log of (e as AggregateError).errors ?? []) console.error(log);
        throw new Error(`compiling ${outfile} failed: ${e.message}`);
      },
    );
    if (!result.success) {
      for (const log of result.logs) console.error(log);
      throw new Error(`compiling ${outfile} failed`);
    }
    // Bun leaves darwin-x64 with its runtime's signature, which no longer matches: macOS would kill it.
    const resigned = ensureValidSignature(target);
    if (resigned) console.error(`signed ${outfile} ad hoc (Bun's signature: ${resigned})`);
    if (scratch) renameSync(target, outfile);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** Takes `--name value` or `--name=value` out of args. */
function flag(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const arg = args[i] as string;
  const inline = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : undefined;
  const value = inline ?? args[i + 1];
  if (!value || value.startsWith('--')) throw new Error(`${name} needs a value`);
  args.splice(i, inline === undefined ? 2 : 1);
  return value;
}

async function main(args: string[]): Promise<void> {
  const version = releaseVersion(flag(args, '--version'), process.env.GITHUB_REF);
  const targetName = flag(args, '--target');
  const outDir = flag(args, '--out') ?? 'dist/release';
  const all = args.includes('--all');
  const steps = PACKAGING.filter((step) => all || args.includes(`--${step}`));
  if (!all && steps.length > 0) return packaging(outDir, version, steps);
  // GoReleaser's Bun builder calls `bun build.ts … --target bun-linux-x64 --outfile PATH src/main.ts`.
  const outfile = flag(args, '--outfile') ?? args.find((a) => !a.startsWith('--') && a !== 'src/main.ts');
  if (!all) {
    const cross = targetName
      ? TARGETS.find((t) => t.name === targetName || t.bunTarget === targetName)
      : undefined;
    if (targetName && !cross)
      throw new Error(`unknown target '${targetName}'. Targets: ${TARGETS.map((t) => t.name).join(', ')}`);
    const out = outfile ?? (cross ? join('dist', binaryName(cross)) : 'dist/mcp-docker');
    await compile(out, version, cross);
    console.error(`built ${out} (${version}${cross ? `, ${cross.name}` : ''})`);
    return;
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // Taken before compiling: a source edited during the build makes the recorded build stale, never current.
  const sources = sourceDigest();
  // This machine's own target (libc included: the musl Bun on Alpine) is built on the running Bun when that
  // is the pinned version (`npm ci` installed it from the same @oven/bun-* package); every other target,
  // and this one under another Bun, on its runtime from npm.
  const host = hostTarget();
  const onRunningBun = (t: Target) => t === host && Bun.version === lockedPackage(t.runtime).version;
  const archives: Promise<void>[] = [];
  for (const t of TARGETS) {
    const started = performance.now();
    const out = join(outDir, binaryName(t));
    await compile(out, version, onRunningBun(t) ? undefined : t);
    const mb = (statSync(out).size / 1e6).toFixed(1);
    const s = ((performance.now() - started) / 1000).toFixed(1);
    console.error(`built ${out} (${mb} MB, ${s} s)`);
    // Compressing (~4 s a target) overlaps the next compile.
    archives.push(writeArchive(t, out, version, outDir).then((a) => console.error(`wrote ${a}`)));
  }
  await Promise.all(archives);
  writeChecksums(outDir);
  console.error(`wrote ${join(outDir, 'checksums.txt')} (${version})`);
  // What the test runner checks before it runs the end-to-end suite against this host's artifact.
  if (host) writeBuildInfo(outDir, version, sources, host);
  await packaging(outDir, version, steps);
}

const PACKAGING = ['npm', 'mcpb', 'image', 'registry'] as const;

/** The distribution packages made from the binaries in outDir (docs/RELEASING.md). */
async function packaging(outDir: string, version: string, steps: readonly string[]): Promise<void> {
  if (steps.includes('npm')) {
    const dirs = writeNpmPackages(outDir, version);
    console.error(`wrote ${dirs.length} npm package directories under ${join(outDir, 'npm')}`);
  }
  if (steps.includes('mcpb'))
    for (const bundle of writeBundles(outDir, version)) console.error(`wrote ${bundle} (validated)`);
  const host = hostTarget();
  if (steps.includes('image')) {
    if (host?.os === 'linux' && !host.libc)
      console.error(`wrote ${writeImageContext(outDir, version, host)}`);
    else
      console.error(`no image context: it is made on a Linux glibc host, this is ${host?.name ?? 'unknown'}`);
  }
  if (steps.includes('registry')) console.error(`wrote ${await writeServerJson(outDir, version)}`);
}

if (import.meta.main) {
  await main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`build: ${e.message}`);
    process.exit(1);
  });
}
