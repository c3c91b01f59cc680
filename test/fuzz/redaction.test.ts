/**
 * Redaction fuzzed on its own (pure): a secret planted where a reader would see one, wrapped or split
 * by colour codes, control and zero-width characters, over several lines in an env list, after a
 * secret-named flag, in a PEM private key, a header, a JSON document inside a string, or a client's
 * password (curl -u, mysql -p, Redis requirepass), never reaches the caller. The oracle is the generator: it knows
 * which characters are the secret. What the caller reads is the output as the fence shows it
 * (cleaned), through redactText (prompts, resources, progress, errors) and redactResult (tool results).
 */
import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { clean } from '../../src/core/fence.ts';
import { redactResult, redactText } from '../../src/core/redact.ts';
import { fcParams } from '../helpers/fuzz.ts';

const ESCAPES = [
  '\u001b[31m',
  '\u001b[0m',
  '\u001b[1;34m',
  '\u001b[2K',
  '\u009b0m',
  '\u0000',
  '\r',
  '\u007f',
  '\u200b',
  '\u200d',
  '\u2060',
  '\ufeff',
  '\u202e',
  '\u2066',
];

/** `text` with escapes put before some of its characters. */
const withEscapes = (text: string) =>
  fc.array(fc.tuple(fc.nat(text.length), fc.constantFrom(...ESCAPES)), { maxLength: 3 }).map((cuts) => {
    let out = text;
    for (const [at, esc] of [...cuts].sort((a, b) => b[0] - a[0]))
      out = out.slice(0, at) + esc + out.slice(at);
    return out;
  });

const NAMES = ['PASSWORD', 'db_password', 'API_TOKEN', 'apiKey', 'GITHUB_PAT', 'CLIENT_SECRET', 'PGPASSWORD'];
const FLAGS = ['--password', '--api-token', '--client-secret', '-password', '--auth-token'];
const PEM_LABELS = ['PRIVATE KEY', 'RSA PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'];
const HEADERS = [
  'X-Api-Key:',
  'Api-Key:',
  'Authorization:Basic ',
  'X-Auth-Token:',
  '-H x-api-key:',
  "-H 'x-api-key:",
  '--header=x-auth-token:',
];
const CLIENT_FORMS = [
  'curl -u admin:@S',
  'curl -s --user admin:@S',
  'curl --user=admin:@S',
  '/usr/bin/curl -uadmin:@S',
  'mysql -uroot -p@S db',
  'mysqldump -p@S db',
  'mariadb -p"@S"',
  'requirepass @S',
  'CONFIG SET masterauth @S',
  'redis-server --requirepass @S',
  'redis-cli -h cache -a @S ping',
  'sshpass -p @S ssh host',
  'docker login -u bob -p @S reg.example',
];
const BEFORE = ['', 'level=info ', 'db ', 'echo ', '[err] ', 'line one\n', 'export '];
const AFTER = ['', ' ok', '\nnext line', ' --verbose', '\n'];

/** A secret value no other part of a case can spell: LEAK and a number. */
const secret = fc.nat(99_999).map((n) => `LEAK${n}z`);

interface Planted {
  text: string;
  secrets: string[];
}

/** One secret in text: an assignment, a flag and its value, or a key block, names split by escapes. */
const plantedText: fc.Arbitrary<Planted> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...NAMES).chain(withEscapes),
      fc.constantFrom('=', ': ', '="', " = '"),
      secret,
      fc.constantFrom(...BEFORE),
      fc.constantFrom(...AFTER),
    )
    .map(([name, sep, s, before, after]) => {
      const quote = sep.endsWith('"') ? '"' : sep.endsWith("'") ? "'" : '';
      return { text: `${before}${name}${sep}${s}${quote}${after}`, secrets: [s] };
    }),
  fc
    .tuple(
      fc.constantFrom(...FLAGS).chain(withEscapes),
      secret,
      fc.constantFrom(...BEFORE),
      fc.constantFrom(...AFTER),
    )
    .map(([flag, s, before, after]) => ({ text: `${before}run ${flag} ${s}${after}`, secrets: [s] })),
  // A header with no blank after its colon, as curl and logs write it.
  fc
    .tuple(
      fc.constantFrom(...HEADERS).chain(withEscapes),
      secret,
      fc.constantFrom(...BEFORE),
      fc.constantFrom(...AFTER),
    )
    .map(([header, s, before, after]) => ({ text: `${before}${header}${s}${after}`, secrets: [s] })),
  // A JSON document inside a string: quotes escaped once or twice.
  fc
    .tuple(
      fc.constantFrom(...NAMES).chain(withEscapes),
      fc.constantFrom('\\"', '\\\\\\"'),
      fc.constantFrom(':', ': '),
      secret,
      fc.constantFrom(...BEFORE),
    )
    .map(([name, q, sep, s, before]) => ({
      text: `${before}echo "{${q}${name}${q}${sep}${q}${s}${q}}"`,
      secrets: [s],
    })),
  // A client's password (at @S): curl's -u after the colon, mysql's attached -p, redis-cli's -a,
  // sshpass's and docker login's -p, Redis's requirepass.
  fc
    .tuple(fc.constantFrom(...CLIENT_FORMS), secret, fc.constantFrom(...BEFORE), fc.constantFrom(...AFTER))
    .map(([form, s, before, after]) => ({ text: `${before}${form.replace('@S', s)}${after}`, secrets: [s] })),
  fc
    .tuple(fc.constantFrom(...PEM_LABELS), fc.array(secret, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([label, body, ended]) => ({
      text: [`-----BEGIN ${label}-----`, ...body, ...(ended ? [`-----END ${label}-----`] : [])].join('\n'),
      secrets: body,
    })),
);

/** One secret in a list: an env entry whose value spans lines, or the element after a secret flag. */
const plantedList: fc.Arbitrary<{ list: string[]; secrets: string[] }> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...NAMES).chain(withEscapes), fc.array(secret, { minLength: 1, maxLength: 3 }))
    .map(([name, lines]) => ({ list: [`${name}=${lines.join('\n')}`], secrets: lines })),
  fc
    .tuple(fc.constantFrom(...FLAGS).chain(withEscapes), secret)
    .map(([flag, s]) => ({ list: [flag, s], secrets: [s] })),
  // A command list: curl's -u, a header after -H, mysql's attached -p.
  fc
    .tuple(
      fc.constantFrom(
        ['curl', '-u', 'admin:@S'],
        ['/usr/bin/curl', '-s', '--user=admin:@S'],
        ['curl', '-H', 'x-api-key:@S'],
        ['mysql', '-uroot', '-p@S'],
        ['redis-cli', '-a', '@S', 'ping'],
        ['sshpass', '-p', '@S', 'ssh'],
      ),
      secret,
    )
    .map(([form, s]) => ({ list: form.map((e) => e.replace('@S', s)), secrets: [s] })),
);

/** Every string of a value as the fence shows it. */
const shown = (v: unknown): unknown =>
  typeof v === 'string'
    ? clean(v)
    : Array.isArray(v)
      ? v.map(shown)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shown(x)]))
        : v;

const leaks = (out: string, secrets: string[]) => secrets.filter((s) => out.includes(s));

describe('a planted secret never reaches the caller', () => {
  it('in text (prompts, resources, progress messages, errors)', () => {
    fc.assert(
      fc.property(plantedText, ({ text, secrets }) => {
        expect(leaks(clean(redactText(text)), secrets)).toEqual([]);
      }),
      fcParams(2000),
    );
  });

  it('in a tool result: a string of it, an entry or flag of a list, a secret-named key', () => {
    const others = fc.array(fc.constantFrom('PATH=/bin', 'run', '-v', 'web', 'HOME=/root'), { maxLength: 3 });
    fc.assert(
      fc.property(plantedText, plantedList, others, others, (t, l, head, tail) => {
        const result = { text: t.text, list: [...head, ...l.list, ...tail], rows: [{ lines: [t.text] }] };
        const out = JSON.stringify(shown(redactResult(result).value));
        expect(leaks(out, [...t.secrets, ...l.secrets])).toEqual([]);
      }),
      fcParams(2000),
    );
  });
});
