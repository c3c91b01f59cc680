import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import { parseTimePoint, timeWindow } from '../../src/tools/time.ts';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0); // 2024-05-01T12:00:00Z
const nowS = NOW / 1000;

describe('parseTimePoint', () => {
  it('reads unix seconds, with or without a fraction', () => {
    expect(parseTimePoint('1714564800', 'since', NOW)).toBe(1714564800);
    expect(parseTimePoint('1714564800.25', 'since', NOW)).toBe(1714564800.25);
  });

  it('reads RFC 3339 with Z, an offset, fractions, or no offset (UTC)', () => {
    expect(parseTimePoint('2024-05-01T12:00:00Z', 'since', NOW)).toBe(nowS);
    expect(parseTimePoint('2024-05-01T14:00:00+02:00', 'since', NOW)).toBe(nowS);
    expect(parseTimePoint('2024-05-01T14:00:00+0200', 'since', NOW)).toBe(nowS);
    expect(parseTimePoint('2024-05-01T12:00:00.123456789Z', 'since', NOW)).toBe(nowS + 0.123);
    expect(parseTimePoint('2024-05-01 12:00:00', 'since', NOW)).toBe(nowS);
    expect(parseTimePoint('2024-05-01', 'since', NOW)).toBe(nowS - 12 * 3600);
  });

  it('reads durations as that long ago', () => {
    expect(parseTimePoint('30s', 'since', NOW)).toBe(nowS - 30);
    expect(parseTimePoint('10m', 'since', NOW)).toBe(nowS - 600);
    expect(parseTimePoint('2h', 'since', NOW)).toBe(nowS - 7200);
    expect(parseTimePoint('1d', 'since', NOW)).toBe(nowS - 86_400);
    expect(parseTimePoint('1h30m', 'since', NOW)).toBe(nowS - 5400);
  });

  it('refuses anything else with invalid_argument naming the field and the accepted forms', () => {
    for (const bad of ['yesterday', '10 minutes', '-5m', '2024-13-45T99:99:99Z', '10x', '']) {
      let err: unknown;
      try {
        parseTimePoint(bad, 'until', NOW);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ToolError);
      expect((err as ToolError).kind).toBe('invalid_argument');
      expect((err as ToolError).message).toContain("'until'");
      expect((err as ToolError).hint).toContain('RFC 3339');
    }
  });
});

describe('timeWindow', () => {
  it('parses both ends against the same now', () => {
    expect(timeWindow({ since: '10m', until: '5m' }, NOW)).toEqual({ since: nowS - 600, until: nowS - 300 });
    expect(timeWindow({}, NOW)).toEqual({ since: undefined, until: undefined });
  });

  it('refuses until before since, naming until', () => {
    expect(() => timeWindow({ since: '1m', until: '2m' }, NOW)).toThrow(
      "invalid argument 'until': it is before 'since'",
    );
  });
});
