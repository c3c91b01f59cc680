import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import { lineMatcher } from '../../src/tools/containers/match.ts';

const refusal = async (pattern: string, field = 'grep') => {
  try {
    await lineMatcher(pattern, field);
  } catch (e) {
    return e as ToolError;
  }
  throw new Error(`'${pattern}' compiled`);
};

describe('lineMatcher', () => {
  it('matches plain text as a substring, regex characters included', async () => {
    const m = await lineMatcher('a.b(', 'grep');
    expect(m('x a.b( y')).toBe(true);
    expect(m('axb(')).toBe(false);
  });

  it('keeps the /regex/flags semantics users rely on', async () => {
    expect((await lineMatcher('/^err(or)?:\\s+\\d+$/', 'grep'))('error: 42')).toBe(true);
    expect((await lineMatcher('/^err(or)?:\\s+\\d+$/', 'grep'))('ERROR: 42')).toBe(false);
    expect((await lineMatcher('/^err(or)?:\\s+\\d+$/i', 'grep'))('ERROR: 42')).toBe(true);
    expect((await lineMatcher('/a.b/s', 'grep'))('a\nb')).toBe(true);
    expect((await lineMatcher('/^b$/m', 'grep'))('a\nb')).toBe(true);
    expect((await lineMatcher('/caf\u00e9|\\bwarn\\b/u', 'grep'))('café')).toBe(true);
    expect((await lineMatcher('/(?<level>warn|error)/', 'grep'))('an error')).toBe(true);
    expect((await lineMatcher('/http:\\/\\/x/', 'grep'))('see http://x')).toBe(true);
    expect((await lineMatcher('/a{2,3}/', 'grep'))('baab')).toBe(true);
  });

  it('answers a catastrophic-backtracking pattern on a long line (RE2 is linear)', async () => {
    const line = `${'a'.repeat(100_000)}b`;
    expect((await lineMatcher('/(a+)+$/', 'grep'))(line)).toBe(false);
    expect((await lineMatcher('/^(a|aa)*c$/', 'pattern'))(line)).toBe(false);
    expect((await lineMatcher('/(a+)+b$/', 'grep'))(line)).toBe(true);
  });

  it('names the field and what RE2 does not support', async () => {
    for (const [pattern, what] of [
      ['/(a)\\1/', 'backreferences'],
      ['/(?<n>a)\\k<n>/', 'backreferences'],
      ['/foo(?=bar)/', 'lookaround'],
      ['/foo(?!bar)/', 'lookaround'],
      ['/(?<=x)foo/', 'lookaround'],
      ['/(?<!x)foo/', 'lookaround'],
    ] as const) {
      const e = await refusal(pattern, 'pattern');
      expect(e).toBeInstanceOf(ToolError);
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toContain("'pattern'");
      expect(e.message).toContain(what);
      expect(e.hint).toContain('RE2');
    }
  });

  it('reports a malformed regex as invalid_argument with RE2s reason', async () => {
    const e = await refusal('/[a-/');
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("invalid argument 'grep'");
    expect(e.message).toContain('missing closing ]');
  });

  it('does not take an escaped backslash before a digit for a backreference', async () => {
    expect((await lineMatcher('/\\\\1/', 'grep'))('C:\\1')).toBe(true);
  });
});
