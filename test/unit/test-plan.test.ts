import { describe, expect, it } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { needsEngine, needsSwarm, PODMAN_SUBSET, wantsPodmanPass } from '../../scripts/test-plan.ts';

describe('npm test selection', () => {
  it('prepares nothing for unit tests alone', () => {
    expect(needsEngine(['test/unit'])).toBe(false);
    expect(needsEngine(['./test/unit/config.test.ts', 'test/unit/fence.test.ts'])).toBe(false);
    expect(needsEngine(['test/unit', '-t', 'test/e2e'])).toBe(false);
    expect(needsEngine(['--bail', 'test/unit/'])).toBe(false);
  });

  it('prepares the binary, engine and registries for the full run and anything beyond test/unit', () => {
    expect(needsEngine([])).toBe(true);
    expect(needsEngine(['-t', 'removes'])).toBe(true);
    expect(needsEngine(['test/unit', 'test/e2e/cli.test.ts'])).toBe(true);
    expect(needsEngine(['test/integration'])).toBe(true);
    expect(needsEngine(['test/browser/dashboard.test.ts'])).toBe(true);
    // A bare name filter may match any folder.
    expect(needsEngine(['config'])).toBe(true);
    expect(needsEngine(['test/unitary'])).toBe(true);
  });
});

describe('the Podman pass', () => {
  it('comes with the full run only, over suites that exist', () => {
    expect(wantsPodmanPass([])).toBe(true);
    expect(wantsPodmanPass(['test/integration/networks.test.ts'])).toBe(false);
    expect(wantsPodmanPass(['-t', 'removes'])).toBe(false);
    for (const file of PODMAN_SUBSET) expect(existsSync(join(import.meta.dir, '../..', file))).toBe(true);
  });
});

describe('the test Swarm', () => {
  it('comes up for the full run, a folder holding swarm or stack specs, or one of them', () => {
    expect(needsSwarm([])).toBe(true);
    expect(needsSwarm(['test/integration'])).toBe(true);
    expect(needsSwarm(['test/integration/swarm.test.ts'])).toBe(true);
    expect(needsSwarm(['./test/integration/stack-deploy.test.ts'])).toBe(true);
    expect(needsSwarm(['test/e2e/swarm.test.ts', '-t', 'drain'])).toBe(true);
    expect(needsSwarm(['swarm'])).toBe(true);
    // The security suite's swarm rows (test/security/swarm.test.ts).
    expect(needsSwarm(['test/security', '-t', 'swarm'])).toBe(true);
    expect(needsSwarm(['test/security/swarm.test.ts'])).toBe(true);
  });

  it('stays down for selections without them', () => {
    expect(needsSwarm(['test/integration/compose.test.ts'])).toBe(false);
    expect(needsSwarm(['test/unit'])).toBe(false);
    expect(needsSwarm(['test/security/security.test.ts'])).toBe(false);
  });
});
