import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import { engineRegistry, sessionOf } from '../../src/docker/engines.ts';
import { callerEngines } from '../../src/pipeline/engine-choice.ts';
import { stubEngine, testProfile } from '../helpers/stub-engine.ts';

describe('sessionOf', () => {
  it('gives the same session for the same engine, client and view, and a new one when either changes', () => {
    const engine = stubEngine('default');
    const a = {} as Dockerode;
    const b = {} as Dockerode;
    const first = sessionOf(engine, a);
    expect(sessionOf(engine, a)).toBe(first);
    expect(first.docker).toBe(a);
    const other = sessionOf(engine, b);
    expect(other).not.toBe(first);
    expect(other.docker).toBe(b);
    // Another view of the connection (a remote caller's) is never shared.
    const view = { ...engine };
    const remote = sessionOf(engine, b, view);
    expect(remote).not.toBe(other);
    expect(sessionOf(engine, b, view)).not.toBe(remote);
    expect(sessionOf(engine, b)).toBe(other);
  });
});

describe('callerEngines', () => {
  it('is every configured engine, in order, for an unlimited caller, and only its own for a limited one', () => {
    const registry = engineRegistry([stubEngine('a'), stubEngine('b'), stubEngine('c')]);
    expect(callerEngines(registry, testProfile())).toEqual(['a', 'b', 'c']);
    expect(callerEngines(registry, { ...testProfile(), engines: ['c', 'a'] })).toEqual(['a', 'c']);
  });
});
