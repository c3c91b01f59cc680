import { describe, expect, it } from 'bun:test';
import { toYaml, type YamlValue } from '../../src/prompts/yaml.ts';

// Scalars YAML 1.1 or 1.2 parsers read as something other than a string when left plain.
const TRICKY = [
  '',
  ' lead',
  'trail ',
  'a: b',
  '#x',
  'x #y',
  '- a',
  '*alias',
  '&anchor',
  '!tag',
  '%dir',
  '@x',
  '`x',
  '{a}',
  '[a]',
  'null',
  'Null',
  '~',
  'true',
  'no',
  'off',
  'on',
  'y',
  '0x1F',
  '1e3',
  '.inf',
  '012',
  '1_000',
  '12:30',
  '2024-01-01',
  'multi\nline',
  'tab\tx',
  'quote"s',
  "apo's",
  'back\\slash',
  '$${X}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose placeholder, literally
  '${X}',
  'ünï 日本',
  '\u0007bell\u007fdel\u0085nel',
  'line\u2028sep',
  '\ufeffbom',
  '? q',
  '|',
  '>',
  'a,b',
  '"',
  "'",
  '-',
  '---',
  '...',
  '<<',
  '\ud800lone',
];

/** What a careful parser reads back: the same strings (a lone surrogate becomes U+FFFD). */
const expected = (s: string) => s.replace(/[\ud800-\udfff]/gu, '\ufffd');

describe('toYaml', () => {
  it('writes every string so it reads back as that exact string', () => {
    const doc = { env: Object.fromEntries(TRICKY.map((t, i) => [`K${i}`, t])), list: TRICKY };
    const back = Bun.YAML.parse(toYaml(doc)) as { env: Record<string, string>; list: string[] };
    expect(back.list).toEqual(TRICKY.map(expected));
    expect(Object.values(back.env)).toEqual(TRICKY.map(expected));
  });

  it('double-quotes every string value, so YAML 1.1 readers (docker compose) never see a date, time or boolean', () => {
    const out = toYaml({ a: '2024-01-01', b: '12:30', c: 'on', d: '012' });
    expect(out).toBe('a: "2024-01-01"\nb: "12:30"\nc: "on"\nd: "012"\n');
  });

  it('quotes keys that are not plainly safe, and keys the caller asks for', () => {
    const out = toYaml(
      { services: { web: { 'a b': 1, yes: 2, '8080': 3, 'com.example/x': 4, API_TOKEN: 5 } } },
      { quoteKey: (k) => k.includes('TOKEN') },
    );
    expect(out).toContain('  web:\n');
    expect(out).toContain('"a b": 1');
    expect(out).toContain('"yes": 2');
    expect(out).toContain('"8080": 3');
    expect(out).toContain('com.example/x: 4');
    expect(out).toContain('"API_TOKEN": 5');
    expect(Bun.YAML.parse(out)).toEqual({
      services: { web: { 'a b': 1, yes: 2, '8080': 3, 'com.example/x': 4, API_TOKEN: 5 } },
    });
  });

  it('nests maps and lists, including lists of maps and lists, and writes empty ones inline', () => {
    const doc: { [k: string]: YamlValue } = {
      services: {
        web: {
          ports: ['127.0.0.1:8080:80'],
          healthcheck: { test: ['CMD', 'true'], interval: '5s' },
          cpus: 1.5,
          privileged: true,
          nothing: null,
          empty_list: [],
          empty_map: {},
          matrix: [['a', 'b'], [], [{ x: 1, y: [2] }]],
          items: [{ name: 'a', deep: { k: 'v' } }, {}],
        },
      },
      volumes: { data: { external: true } },
    };
    const back = Bun.YAML.parse(toYaml(doc));
    expect(back).toEqual(doc);
  });

  it('writes an empty document as {}', () => {
    expect(toYaml({})).toBe('{}\n');
  });
});
