/**
 * The engine transport writes query strings itself rather than loading node:querystring in every
 * session; these hold it to the bytes docker-modem's stringify (node:querystring) writes.
 */
import { describe, expect, it } from 'bun:test';
import { stringify } from 'node:querystring';
import { querystring } from '../../src/docker/fetch-transport.ts';

/** docker-modem's rule before node:querystring: nested objects JSON-encoded. */
const modem = (opts: Record<string, unknown>) =>
  stringify(
    Object.fromEntries(
      Object.entries(opts).map(([k, v]) => [
        k,
        v && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v,
      ]),
    ) as Record<string, string>,
  );

const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

describe('query strings for the engine', () => {
  const cases: Record<string, Record<string, unknown>> = {
    'filters as JSON, flags and numbers': {
      all: true,
      filters: { label: ['app=web', 'tier=front end'], status: ['running'] },
      limit: 1000,
      size: false,
    },
    'every printable ASCII character, in keys and values': { [ascii]: ascii, 'a b': 'c&d=e' },
    'non-ASCII text': { name: 'café-数据-🐳', ключ: 'значение' },
    'arrays repeat the key; an empty one writes nothing': { t: ['a', 'b c'], e: [], after: 'x' },
    'what is no string, finite number or boolean is empty': {
      n: null,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      big: 12345678901234567890n,
      neg: -1.5,
      inArray: [1, true, null, { a: 1 }, 'x'],
    },
    'no keys': {},
  };
  for (const [name, opts] of Object.entries(cases))
    it(`writes what docker-modem's stringify writes: ${name}`, () =>
      expect(querystring(opts)).toBe(modem(opts)));
});
