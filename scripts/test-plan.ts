/** What a `npm test -- …` selection needs prepared (scripts/test.ts); a module of its own so it can be unit-tested. */

// `bun test` options whose value is the next argument (a value is not a path).
const VALUE_OPTIONS = new Set([
  '-t',
  '--test-name-pattern',
  '--timeout',
  '--rerun-each',
  '--preload',
  '--reporter',
  '--reporter-outfile',
  '--coverage-reporter',
  '--coverage-dir',
  '--seed',
]);

/**
 * Whether the selected tests need the binary, an engine and the registries: not when every path
 * given is under test/unit/ (pure functions); yes for anything else, a name filter, or no path (all).
 * The full run includes test/browser/ (the dashboard view in Debian's chromium, which CI installs).
 */
export function needsEngine(args: string[]): boolean {
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) paths.push(arg.replace(/^\.\//, ''));
  }
  return paths.length === 0 || !paths.every((p) => p === 'test/unit' || p.startsWith('test/unit/'));
}

/** The spec files that run on the test Swarm (test/helpers/swarm-cluster.ts) are named so; a bare name filter too. */
const SWARM_NAME = /(?:^|\/)(?:swarm|stack)[^/]*$/;
/** Folders that hold such files: naming one selects them. */
const SWARM_DIRS = new Set([
  'test',
  'test/',
  'test/integration',
  'test/integration/',
  'test/e2e',
  'test/e2e/',
  'test/security',
  'test/security/',
]);

/**
 * Whether the selection runs tests on the test Swarm, so the runner brings one cluster up for all of
 * them: the full run, a folder holding them, or a swarm or stack spec file.
 */
export function needsSwarm(args: string[]): boolean {
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) paths.push(arg.replace(/^\.\//, ''));
  }
  return paths.length === 0 || paths.some((p) => SWARM_DIRS.has(p) || SWARM_NAME.test(p));
}

/**
 * The suites the full run (CI) runs a second time against a private Podman service: the tools Podman
 * supports, with its exceptions named in each file (test/helpers/podman.ts). `MCP_DOCKER_TEST_ENGINE=podman
 * npm test -- FILES` runs any other selection against Podman by hand.
 */
export const PODMAN_SUBSET = [
  'test/integration/engine-kind.test.ts',
  'test/integration/containers-create.test.ts',
  'test/integration/containers-io.test.ts',
  'test/integration/containers-lifecycle.test.ts',
  'test/integration/containers-list.test.ts',
  'test/integration/images-local.test.ts',
  'test/integration/networks.test.ts',
  'test/integration/prompts.test.ts',
  'test/integration/resources.test.ts',
  'test/integration/volumes.test.ts',
  'test/integration/system.test.ts',
];

/** Whether this selection gets the Podman pass: only the full run (no path and no name filter). */
export const wantsPodmanPass = (args: string[]): boolean => args.length === 0;
