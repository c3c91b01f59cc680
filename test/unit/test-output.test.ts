import { afterAll, describe, expect, it } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failureRecap, parseSummary } from '../../scripts/test-output.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcp-docker-test-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * What this Bun prints for a real run (not a copy of it): a failed test, a skipped one, a file that fails
 * to load, and many passing tests after them.
 */
function bunTestOutput(): string {
  writeFileSync(
    join(dir, 'alpha.test.ts'),
    [
      "import { expect, test } from 'bun:test';",
      "test('keeps the order', () => expect(1).toBe(1));",
      "test('answers not_found for a missing container', () => expect({ kind: 'conflict' }).toEqual({ kind: 'not_found' }));",
      "test.skip('comes later', () => {});",
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'beta.test.ts'),
    [
      "import { expect, test } from 'bun:test';",
      "test('waits', async () => { await Bun.sleep(5); expect(2).toBe(2); });",
      "throw new Error('the file failed to load');",
    ].join('\n'),
  );
  // Enough passing tests after the failures that bun adds its own list of them ('2 tests failed:').
  writeFileSync(
    join(dir, 'gamma.test.ts'),
    [
      "import { expect, test } from 'bun:test';",
      ...Array.from({ length: 200 }, (_, i) => `test('passes ${i}', () => expect(${i}).toBe(${i}));`),
    ].join('\n'),
  );
  const run = spawnSync(process.execPath, ['test'], { cwd: dir, encoding: 'utf8' });
  return `${run.stdout}${run.stderr}`;
}

describe('reading bun test output', () => {
  const output = bunTestOutput();

  it('counts passes and failures from the closing summary', () => {
    const counts = parseSummary(output);
    // The failed test and the file that failed to load; its test never ran.
    expect(counts).toEqual({ passed: 201, failed: 2, skipped: 1 });
    expect(parseSummary('no summary here')).toBeUndefined();
  });

  it('repeats each failed test with its file and error, and nothing that passed', () => {
    const recap = failureRecap(output).join('\n');
    expect(recap).toContain('alpha.test.ts > answers not_found for a missing container');
    expect(recap).toContain('error: expect(received).toEqual(expected)');
    expect(recap).toContain('"not_found"');
    expect(recap).not.toContain('keeps the order');
    expect(recap).not.toContain('waits');
    expect(recap).not.toContain('passes 1');
  });

  it("lists each failure once, leaving out bun's own list of them", () => {
    expect(output).toMatch(/^\d+ tests? failed:$/m);
    const recap = failureRecap(output);
    expect(recap.filter((line) => line.includes('answers not_found for a missing container'))).toEqual([
      expect.stringMatching(/^alpha\.test\.ts > answers not_found/),
    ]);
    expect(recap.join('\n')).not.toContain('tests failed:');
  });

  it('repeats an error outside any test, with its file', () => {
    const recap = failureRecap(output).join('\n');
    expect(recap).toContain('beta.test.ts > Unhandled error between tests');
    expect(recap).toContain('error: the file failed to load');
  });

  it('is empty when everything passed', () => {
    expect(failureRecap('a.test.ts:\n(pass) one [1ms]\n\n 1 pass\n 0 fail\n')).toEqual([]);
  });

  it('shortens a long error and says how much it left out', () => {
    const error = Array.from({ length: 40 }, (_, i) => `line ${i}`);
    const recap = failureRecap(['x.test.ts:', 'error: boom', ...error, '(fail) big [3ms]'].join('\n'));
    expect(recap[0]).toBe('x.test.ts > big [3ms]');
    expect(recap.length).toBeLessThan(28);
    expect(recap.at(-1)).toContain('more lines above');
  });
});
