/**
 * Shared pieces of the fuzz suites: how many runs (FUZZ_RUNS, raised by `npm run fuzz`), the seed
 * (FUZZ_SEED, to replay a failure), and what a well-formed tool error looks like.
 */
import { expect } from 'bun:test';
import type { ToolError } from '../../src/core/errors.ts';
import type { RecordedRequest } from './recording-engine.ts';

/** Runs per property: small in `npm test`, many more under `npm run fuzz`. */
export const fuzzRuns = (inTests: number): number => {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(n) && n > 0 ? Math.max(inTests, Math.round(n)) : inTests;
};

/** fast-check parameters: a replayable seed when FUZZ_SEED is set. */
export const fcParams = (inTests: number) => {
  const seed = Number(process.env.FUZZ_SEED);
  return { numRuns: fuzzRuns(inTests), ...(Number.isFinite(seed) && { seed }) };
};

/** Per-test timeout, scaled with the runs so `npm run fuzz` is not cut short. */
export const fuzzTimeout = (inTestsMs: number): number => {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(n) && n > 0 ? inTestsMs * Math.max(1, n / 20) : inTestsMs;
};

const KINDS = [
  'invalid_argument',
  'not_found',
  'conflict',
  'policy_denied',
  'engine_unreachable',
  'timeout',
  'cancelled',
  'registry_auth',
  'internal',
];

/**
 * A failure a user can act on: a known kind, a short message without stack frames or our own file
 * paths, never echoing a huge input back, and (for validation) naming the argument at fault.
 */
export function expectActionableError(error: ToolError, secrets: string[] = []): void {
  expect(KINDS).toContain(error.kind);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.message.length).toBeLessThan(4096);
  // The hint too: it may quote an argument ("Pull it first … (image: '…')").
  expect((error.hint ?? '').length).toBeLessThan(4096);
  const text = `${error.message}\n${error.hint ?? ''}`;
  expect(text).not.toMatch(/\n\s+at\s/);
  expect(text).not.toMatch(/\/work\/main|\/src\/[a-z-]+\/|node_modules/);
  for (const s of secrets) expect(text).not.toContain(s);
}

/** What a schema rejection must say: the argument, or that the arguments are not an object. */
export const NAMES_THE_FIELD = /argument '[^']*'|arguments must be a JSON object|missing required argument/;

/** No request path was steered to another endpoint by an argument ('..' or '.' segments). */
export function expectNoTraversal(requests: RecordedRequest[]): void {
  for (const r of requests) {
    const path = r.path.split('?')[0] ?? '';
    for (const segment of path.split('/')) {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // an undecodable segment is not a traversal
      }
      expect(['..', '.']).not.toContain(decoded);
    }
  }
}
