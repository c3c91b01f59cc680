import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import { sameAsAsked } from '../../src/tools/asked.ts';

describe('sameAsAsked', () => {
  it('lets an unconfirmed call through, and a confirmed one whose object is the one shown', () => {
    expect(() => sameAsAsked(undefined, 'id', 'b', 'container web')).not.toThrow();
    expect(() => sameAsAsked({ id: 'a' }, 'id', 'a', 'container web')).not.toThrow();
    expect(() => sameAsAsked({ created: null }, 'created', null, 'volume v')).not.toThrow();
  });

  it('refuses a confirmed call whose name now holds another object, saying nothing changed', () => {
    let e: unknown;
    try {
      sameAsAsked({ id: 'a' }, 'id', 'b', "container 'web'");
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(ToolError);
    expect((e as ToolError).kind).toBe('conflict');
    expect((e as ToolError).message).toBe(
      "container 'web' is not what the user was asked about (a then, b now); nothing changed",
    );
    expect((e as ToolError).retryable).toBe(false);
    // A plan without the key (not one this tool made) is no match either.
    expect(() => sameAsAsked({}, 'id', 'b', 'x')).toThrow(ToolError);
  });
});
