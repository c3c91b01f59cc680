import { describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from '../../scripts/docs.ts';

describe('README', () => {
  it('has option and tool tables generated from the code (run `npm run docs` to refresh)', () => {
    const readme = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain('<!-- tools:start -->');
    expect(readme).toContain('<!-- options:start -->');
    expect(render(readme)).toBe(readme);
  });
});
