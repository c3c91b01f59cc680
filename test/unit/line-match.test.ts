import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import { lineMatcher } from '../../src/tools/containers/match.ts';

const refusal = (pattern: string, field = 'grep') => {
  try {
    lineMatcher(pattern, field);
  } catch (e) {
    return e as ToolError;
  }
  throw new Error(`'${pattern}' compiled`);
};

describe('lineMatcher', () => {
  it('matches plain text as a substring, regex characters included', () => {
    const m = lineMatcher('a.b(', 'grep');
    expect(m('x a.b( y')).toBe(true);
    expect(m('axb(')).toBe(false);
  });

  it('keeps the /regex/flags semantics users rely on', () => {
    expect(lineMatcher('/^err(or)?:\\s+\\d+$/', 'grep')('error: 42')).toBe(true);
    expect(lineMatcher('/^err(or)?:\\s+\\d+$/', 'grep')('ERROR: 42')).toBe(false);
    expect(lineMatcher('/^err(or)?:\\s+\\d+$/i', 'grep')('ERROR: 42')).toBe(true);
    expect(lineMatcher('/a.b/s', 'grep')('a\nb')).toBe(true);
    expect(lineMatcher('/^b$/m', 'grep')('a\nb')).toBe(true);
    expect(lineMatcher('/caf\u00e9|\\bwarn\\b/u', 'grep')('café')).toBe(true);
    expect(lineMatcher('/(?<level>warn|error)/', 'grep')('an error')).toBe(true);
    expect(lineMatcher('/http:\\/\\/x/', 'grep')('see http://x')).toBe(true);
    expect(lineMatcher('/a{2,3}/', 'grep')('baab')).toBe(true);
  });

  it('answers a catastrophic-backtracking pattern on a long line (RE2 is linear)', () => {
    const line = `${'a'.repeat(100_000)}b`;
    expect(lineMatcher('/(a+)+$/', 'grep')(line)).toBe(false);
    expect(lineMatcher('/^(a|aa)*c$/', 'pattern')(line)).toBe(false);
    expect(lineMatcher('/(a+)+b$/', 'grep')(line)).toBe(true);
  });

  it('names the field and what RE2 does not support', () => {
    for (const [pattern, what] of [
      ['/(a)\\1/', 'backreferences'],
      ['/(?<n>a)\\k<n>/', 'backreferences'],
      ['/foo(?=bar)/', 'lookaround'],
      ['/foo(?!bar)/', 'lookaround'],
      ['/(?<=x)foo/', 'lookaround'],
      ['/(?<!x)foo/', 'lookaround'],
    ] as const) {
      const e = refusal(pattern, 'pattern');
      expect(e).toBeInstanceOf(ToolError);
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toContain("'pattern'");
      expect(e.message).toContain(what);
      expect(e.hint).toContain('RE2');
    }
  });

  it('reports a malformed regex as invalid_argument with RE2s reason', () => {
    const e = refusal('/[a-/');
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("invalid argument 'grep'");
    expect(e.message).toContain('missing closing ]');
  });

  it('does not take an escaped backslash before a digit for a backreference', () => {
    expect(lineMatcher('/\\\\1/', 'grep')('C:\\1')).toBe(true);
  });
});
