/** The argument depth limit: checked before anything recursive walks a call's arguments. */
import { describe, expect, it } from 'bun:test';
import { MAX_ARG_DEPTH, nestsDeeperThan, tooDeepArgument } from '../../src/pipeline/validate.ts';

describe('nestsDeeperThan', () => {
  it('finds nesting past the limit without recursing, and passes what stays within it', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nestsDeeperThan({ a: deep }, MAX_ARG_DEPTH)).toBe(true);
    expect(nestsDeeperThan({ a: { b: [1, { c: 'x' }] } }, 4)).toBe(false);
    expect(nestsDeeperThan({ a: { b: [1, { c: {} }] } }, 4)).toBe(true);
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(tooDeepArgument({ image: 'x', labels: deep })).toBe('labels');
    expect(tooDeepArgument({ image: 'x', labels: { a: 'b' } })).toBeUndefined();
  });
});
