import { describe, expect, it } from 'bun:test';
import { needsEngine } from '../../scripts/test-plan.ts';

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
    // A bare name filter may match any folder.
    expect(needsEngine(['config'])).toBe(true);
    expect(needsEngine(['test/unitary'])).toBe(true);
  });
});
