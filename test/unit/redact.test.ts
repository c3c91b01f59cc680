/** Redaction (src/core/redact.ts): which names are secrets, and that a secret value is masked whole. */
import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { clean } from '../../src/core/fence.ts';
import {
  isSecretName,
  keyLineMasker,
  MASK,
  redact,
  redactEntry,
  redactResult,
  redactText,
} from '../../src/core/redact.ts';
import { fcParams } from '../helpers/fuzz.ts';

describe('secret names', () => {
  // Words of five letters or more count anywhere in a word of the name; short ones only as a whole word.
  const SECRET = [
    'PGPASSWORD',
    'CLIENTSECRET',
    'APITOKEN',
    'GITHUB_PAT',
    'DB_PASSWORD',
    'apiKey',
    'API_KEY',
    'AWS_SECRET_ACCESS_KEY',
    'MYSQL_ROOT_PASSWORD',
    'privateKey',
    'PRIVATE_KEY',
    'GITHUB_TOKEN',
    'Authorization',
    'x-auth-token',
    'com.x.token',
    'DB_PW',
    'DJANGO_SECRETKEY',
    'MY_CREDENTIALS',
    'passphrase',
    'requirepass',
    'REDIS_MASTERAUTH',
    'storepass',
    'client_secret',
    'access_key',
  ];
  // KEY_FILE (and *_PASSWORD_FILE, *_KEY_PATH): the name says where a secret is kept, by the official
  // images' `_FILE` convention; the value is a path, shown so a caller can see which file is used.
  const NOT_SECRET = [
    'PATH',
    'PWD',
    'KEYBOARD',
    'KEYBOARD_LAYOUT',
    'AUTHOR',
    'TOKENIZERS_PARALLELISM',
    'TOKENIZER_MODE',
    'KEY_FILE',
    'MYSQL_ROOT_PASSWORD_FILE',
    'SSH_KEY_PATH',
    'HOSTNAME',
    'MONKEY',
    'PATTERN',
    'COMPATIBLE',
    'SECRETARY',
    'image',
    'Privileged',
  ];

  for (const name of SECRET)
    it(`masks ${name}`, () => {
      expect(isSecretName(name)).toBe(true);
      expect(redact({ [name]: 'v1 v2' })).toEqual({ [name]: MASK });
      expect(redactText(`${name}=correct horse; battery`)).toBe(`${name}=${MASK}`);
    });

  for (const name of NOT_SECRET)
    it(`leaves ${name} alone`, () => {
      expect(isSecretName(name)).toBe(false);
      expect(redact({ [name]: 'v1' })).toEqual({ [name]: 'v1' });
      expect(redactText(`${name}=a b`)).toBe(`${name}=a b`);
    });
});

describe('secret values are masked whole', () => {
  it('masks a bare value with spaces and ; to the end of its line, and only that line', () => {
    expect(redactText('PASSWORD=correct horse; battery')).toBe('PASSWORD=***');
    expect(redactText('start\npassword: correct horse; battery\nnext line')).toBe(
      'start\npassword: ***\nnext line',
    );
    expect(redactText('run --password=x y --verbose')).toBe('run --password=***');
    expect(redactText('user=bob PGPASSWORD=a b')).toBe('user=bob PGPASSWORD=***');
  });

  it('masks a quoted value to its closing quote, escaped quotes included, keeping the quotes', () => {
    expect(redactText('{"DB_PASSWORD": "a b;c", "user": "u"}')).toBe('{"DB_PASSWORD": "***", "user": "u"}');
    expect(redactText('{"password":"a\\"b c","n":1}')).toBe('{"password":"***","n":1}');
    expect(redactText("export API_TOKEN='a b' && run")).toBe("export API_TOKEN='***' && run");
  });

  it('ends a bare value at the quote that encloses the whole assignment', () => {
    expect(redactText('got "SECRET=x y", want none')).toBe('got "SECRET=***", want none');
    expect(redactText("got 'SECRET=x y', want none")).toBe("got 'SECRET=***', want none");
  });

  it('ends a bare value inside a double-quoted string at its closing quote, so JSON and YAML stay whole', () => {
    expect(redactText('{"msg":"login password=a b; c","level":"info"}')).toBe(
      '{"msg":"login password=***","level":"info"}',
    );
    expect(redactText('  - "echo hi; echo API_TOKEN=x y"\n  - next')).toBe(
      '  - "echo hi; echo API_TOKEN=***"\n  - next',
    );
    expect(redactText('say "a \\"q\\" b" PASSWORD=x "y"')).toBe('say "a \\"q\\" b" PASSWORD=***');
  });

  it('masks env entries of inspect results whole', () => {
    expect(
      redact({ env: ['SECRET=x y', 'CLIENTSECRET=a;b', 'PATH=/usr/bin:/bin', 'KEY_FILE=/run/k'] }),
    ).toEqual({
      env: ['SECRET=***', 'CLIENTSECRET=***', 'PATH=/usr/bin:/bin', 'KEY_FILE=/run/k'],
    });
  });

  it('is idempotent: a masked text masks to itself', () => {
    for (const t of ['{"password": "a b"}', 'PASSWORD=a b', 'got "SECRET=x y"', '- "run TOKEN=a b" x']) {
      const once = redactText(t);
      expect(redactText(once)).toBe(once);
    }
  });

  it('takes linear time on a long run of name characters holding a secret word', () => {
    const text = `${'a.'.repeat(200_000)}key ${'b-'.repeat(200_000)}://u ${'c'.repeat(100_000)}=`;
    const t0 = performance.now();
    expect(redactText(text)).toBe(text);
    expect(redactText(`x postgres://u:p w@db ${text}`)).toStartWith('x postgres://u:p w@db');
    // Values that run to the line's end, after many flags, clients and settings, are scanned once each.
    for (const unit of [
      '--password \\"*** ',
      'requirepass \\"*** ',
      'curl -u \\"a ',
      'mysql -p\\"*** ',
      '\\"token\\": \\"***',
    ])
      expect(redactText(unit.repeat(40_000))).toStartWith(unit.slice(0, 4));
    // Quadratic scanning of 800 KB would take minutes; linear takes milliseconds.
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

const ESC = '\u001b';
const red = (s: string) => `${ESC}[31m${s}${ESC}[0m`;
const KEY = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEA7keybodyline1',
  'keybodyline2==',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

describe('text is judged as a reader sees it: escapes and control characters are no part of it', () => {
  it('masks a secret whose name or value colour codes wrap or split', () => {
    expect(redactText(`db ${red('password')}=hunter2`)).toBe('db password=***');
    expect(redactText(`level=info ${ESC}[34mapi_token${ESC}[0m="tok-123"`)).toBe(
      'level=info api_token="***"',
    );
    expect(redactText(`PASS${ESC}[0mWORD=split`)).toBe('PASSWORD=***');
    expect(redactText(`x ${ESC}[1mSECRET_KEY${ESC}[0m: runsecret1`)).toBe('x SECRET_KEY: ***');
    expect(redactText(`TO\u0000KEN=abc and --pass\u009b1mword v`)).toBe('TOKEN=***');
    expect(redactText(`run --pass${ESC}[0mword s3cret -v`)).toBe('run --password *** -v');
    expect(redactText(`postgres://u:p${ESC}[0mw@db`)).toBe('postgres://u:***@db');
  });

  it('masks a secret whose name zero-width or bidi characters split, in text and in a result', () => {
    expect(redactText('db pass\u200bword=zwsecret1')).toBe('db password=***');
    expect(redactText('\u2066API_\u2060TOKEN\u2069: zwsecret2')).toBe('API_TOKEN: ***');
    expect(redactText('run --pass\ufeffword zwsecret3 -v')).toBe('run --password *** -v');
    expect(isSecretName('DB_PASS\u200dWORD')).toBe(true);
    const result = { lines: ['ok', 'db pass\u200bword=zwsecret4'] };
    expect(redactResult(result).value).toEqual({ lines: ['ok', 'db password=***'] });
    expect(redactResult({ env: ['PASS\u200cWORD=zwsecret5'] }).value).toEqual({ env: ['PASSWORD=***'] });
    // Nothing to mask: the result and its JSON are kept as they were.
    const plain = { name: 'web\u200b' };
    expect(redactResult(plain)).toEqual({ value: plain, json: JSON.stringify(plain) });
  });

  it('gives back a text with escapes as it was when nothing in it is a secret', () => {
    const text = `${red('ERROR')} connection refused\r\n`;
    expect(redactText(text)).toBe(text);
    expect(redactEntry(text)).toBe(text);
  });

  it('masks in the clean text exactly what it masks in the text with escapes (property)', () => {
    const piece = fc.constantFrom(
      'pass',
      'word',
      'token',
      'api_',
      'key',
      '=',
      ': ',
      ' ',
      '--',
      '-',
      '"',
      '\n',
      '\r',
      'value',
      `${ESC}[31m`,
      `${ESC}[0m`,
      `${ESC}]0;t`,
      '\u0007',
      '\u009b2K',
      '\u0000',
      '\u200b',
      '\u202e',
      'curl ',
      'mysql ',
      '-u',
      '-p',
      'a:b',
      '-H ',
      'X-Api-Key:',
      'requirepass ',
      '\\"',
      '-----BEGIN PRIVATE KEY-----',
      '-----END PRIVATE KEY-----',
      'QUJD',
    );
    const text = fc.array(piece, { maxLength: 10 }).map((xs) => xs.join(''));
    fc.assert(
      fc.property(text, (t) => {
        expect(clean(redactText(t))).toBe(redactText(clean(t)));
        expect(clean(redactEntry(t))).toBe(redactEntry(clean(t)));
      }),
      fcParams(3000),
    );
  });

  it('reads a secret name that escapes split in a key of a result', () => {
    expect(isSecretName(`API_${ESC}[1mTO${ESC}[0mKEN`)).toBe(true);
    expect(redact({ [`DB_PASS${ESC}[0mWORD`]: 'x' })).toEqual({ [`DB_PASS${ESC}[0mWORD`]: MASK });
  });

  it('sends a result whose JSON holds an escape through the walk, keeping its JSON when nothing is masked', () => {
    const leak = { lines: [`db ${red('pass')}word=hunter2`, 'ok'] };
    expect(redactResult(leak).value).toEqual({ lines: ['db password=***', 'ok'] });
    expect(redactResult(leak).json).toBeUndefined();
    const plain = { lines: [`${red('ERROR')} boom`] };
    expect(redactResult(plain)).toEqual({ value: plain, json: JSON.stringify(plain) });
  });
});

describe('a secret value over several lines is masked whole', () => {
  it('masks a secret entry of a list to its end (an env list), leaving other entries', () => {
    expect(
      redact({ env: [`TLS_KEY=${KEY}`, 'DB_PASSWORD=line one\nline two', 'NOTE=a\nb', 'PATH=/bin'] }),
    ).toEqual({
      env: ['TLS_KEY=***', 'DB_PASSWORD=***', 'NOTE=a\nb', 'PATH=/bin'],
    });
    expect(redactEntry('DB_PASSWORD=\nsecond line')).toBe('DB_PASSWORD=***');
  });

  it('still ends a bare value at its line in free text, where the next line is text of its own', () => {
    expect(redactText('PASSWORD=a b\nnext line')).toBe('PASSWORD=***\nnext line');
  });

  it('masks a PEM private key block whole wherever it appears, certificates left', () => {
    expect(redactText(`TLS_KEY=${KEY}`)).toBe('TLS_KEY=***');
    expect(redactText(`before\n${KEY}\nafter`)).toBe('before\n***\nafter');
    expect(redactText(`tls: |\n  ${KEY.split('\n').join('\n  ')}\nnext: 1`)).toBe('tls: |\n  ***\nnext: 1');
    // As JSON text quotes it, newlines escaped.
    expect(redactText(JSON.stringify({ k: KEY }))).toBe('{"k":"***"}');
    for (const label of ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'EC PRIVATE KEY'])
      expect(redactText(`-----BEGIN ${label}-----\nQUJD\n-----END ${label}-----`)).toBe(MASK);
    const cert = '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----';
    expect(redactText(cert)).toBe(cert);
  });

  it('masks a key block cut short over the lines that read as its body, and no further', () => {
    expect(redactText('-----BEGIN PRIVATE KEY-----\nQUJDRA\nRUZH==\nserver started on :80')).toBe(
      '***\nserver started on :80',
    );
    expect(
      redactText(
        '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES,1\n\nQUJD\ndone now',
      ),
    ).toBe('***\ndone now');
  });
});

describe('a private key printed one line per item (log lines)', () => {
  const body = ['MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'LxoS2tFcz=='];
  const key = (mark = '') => [
    `${mark}-----BEGIN RSA PRIVATE KEY-----`,
    ...body.map((b) => mark + b),
    `${mark}-----END RSA PRIVATE KEY-----`,
  ];

  it('masks every line from BEGIN to END, keeping the stream or service mark', () => {
    expect(redact({ lines: ['starting', ...key(), 'done'] })).toEqual({
      lines: ['starting', '***', '***', '***', '***', 'done'],
    });
    expect(redact(['a', ...key('[err] '), 'b'])).toEqual([
      'a',
      '[err] ***',
      '[err] ***',
      '[err] ***',
      '[err] ***',
      'b',
    ]);
    const compose = [...key('keygen | ').slice(0, 3), 'keygen | -----END RSA PRIVATE KEY----- ok'];
    expect(redact(compose)).toEqual(['keygen | ***', 'keygen | ***', 'keygen | ***', 'keygen | *** ok']);
  });

  it('masks keys of two streams interleaved, and timestamped lines', () => {
    const out = key();
    const err = key('[err] ');
    const mixed = out.flatMap((l, i) => [l, err[i] as string]);
    expect(redact([...mixed, 'after'])).toEqual([
      ...mixed.map((l) => (l.startsWith('[err] ') ? '[err] ***' : '***')),
      'after',
    ]);
    const stamped = key().map((l, i) => `2026-12-08T00:00:0${i}.12345Z ${l}`);
    expect(redact(stamped)).toEqual(stamped.map((l) => `${l.slice(0, 27)}***`));
  });

  it("keeps each interleaved line's own mark, whichever stream begins first, and leaves another stream's text", () => {
    const out = key('keygen | ');
    const err = key('keygen | [err] ');
    const errFirst = ['keygen | starting', ...out.flatMap((l, i) => [err[i] as string, l]), 'keygen | done'];
    expect(redact(errFirst)).toEqual(
      errFirst.map((l) =>
        l.endsWith('starting') || l.endsWith('done')
          ? l
          : l.includes('[err]')
            ? 'keygen | [err] ***'
            : 'keygen | ***',
      ),
    );
    // A line of the other stream inside a key's span is not key text: it stays.
    const between = [`[err] ${key()[0] as string}`, 'progress 50%', ...key('[err] ').slice(1)];
    expect(redact(between)).toEqual(['[err] ***', 'progress 50%', '[err] ***', '[err] ***', '[err] ***']);
  });

  it('masks a key cut short over the items that read as its body, and no further', () => {
    expect(redact(['x', ...key('[err] ').slice(0, 3), 'server started on :80', 'MORE'])).toEqual([
      'x',
      '[err] ***',
      '[err] ***',
      '[err] ***',
      'server started on :80',
      'MORE',
    ]);
  });

  it('masks a list that starts inside a key (its BEGIN left out by tail) through its END line', () => {
    expect(redact([...key().slice(1), 'done'])).toEqual(['***', '***', '***', 'done']);
    expect(redact(['[err] x', ...key('web | ').slice(2), 'web | ok'])).toEqual([
      '[err] x',
      'web | ***',
      'web | ***',
      'web | ok',
    ]);
    // A result's quick scan finds nothing to mask in these lines: it must still walk them.
    const line = body[0] as string;
    expect(redactResult({ lines: [line, line, '-----END PRIVATE KEY-----', 'done'] }).value).toEqual({
      lines: ['***', '***', '***', 'done'],
    });
    const ids = ['e86bde1e6f56', 'a1b2c3d4e5f6'];
    expect(redact(ids)).toBe(ids);
  });

  it("keeps masking an unended key's body past another stream's lines between", () => {
    const line = body[0] as string;
    const out = [
      '-----BEGIN PRIVATE KEY-----',
      line,
      line,
      '[err] progress 50%',
      line,
      line,
      '[warn] retry',
      line,
    ];
    expect(redact([...out, 'done', '[err] x', 'MORE'])).toEqual([
      '***',
      '***',
      '***',
      '[err] progress 50%',
      '***',
      '***',
      '[warn] retry',
      '***',
      '***',
      '[err] x',
      'MORE',
    ]);
  });

  it('masks the lines of a key as a log is read, each stream followed on its own', () => {
    const mask = keyLineMasker();
    const read: [string, string][] = [
      ['starting', 'out'],
      ['-----BEGIN RSA PRIVATE KEY-----', 'out'],
      [body[0] as string, 'out'],
      ['progress 50%', 'err'],
      [body[1] as string, 'out'],
      ['-----END RSA PRIVATE KEY----- ok', 'out'],
      ['QUJDRA', 'out'],
    ];
    expect(read.map(([l, s]) => mask(l, s))).toEqual([
      'starting',
      '***',
      '***',
      'progress 50%',
      '***',
      '*** ok',
      'QUJDRA',
    ]);
  });

  it('leaves lists without a key, and a key ended in its own item, as they were', () => {
    const plain = ['-----BEGIN CERTIFICATE-----', 'QUJD', '-----END CERTIFICATE-----', 'next'];
    expect(redact(plain)).toBe(plain);
    expect(redact([key().join('\n'), 'QUJDRA'])).toEqual(['***', 'QUJDRA']);
  });
});

describe('the value after a secret-named flag is masked', () => {
  it('masks the next word in text, a quoted value to its quote', () => {
    expect(redactText('OPTS=--password envsecret2 --db-token=envsecret3')).toBe(
      'OPTS=--password *** --db-token=***',
    );
    expect(redactText('run --password cmdsecret1 --api-key=cmdsecret2')).toBe(
      'run --password *** --api-key=***',
    );
    expect(redactText('x --token "a b" -v')).toBe('x --token "***" -v');
    expect(redactText('app -password s3 -v')).toBe('app -password *** -v');
    expect(redactText('{"cmd":"run --client-secret abc"}')).toBe('{"cmd":"run --client-secret ***"}');
    expect(redactText('say "run --password \\"a b\\" now"')).toBe('say "run --password \\"***\\" now"');
  });

  it('masks the next element in a list', () => {
    expect(redact({ cmd: ['run', '--password', 'x y', '--api-key', 'z', '-v'] })).toEqual({
      cmd: ['run', '--password', MASK, '--api-key', MASK, '-v'],
    });
    expect(redact({ cmd: ['--port', 8080, '--token', 12345] })).toEqual({
      cmd: ['--port', 8080, '--token', MASK],
    });
  });

  it('leaves flags that take no secret, the next flag, placeholders and single letters', () => {
    const kept = [
      'docker login --password-stdin registry.example',
      'docker build --secret id=npm,src=/run/npmrc .',
      'mongod --no-auth data',
      'app --auth-type basic',
      'mysql -p secret',
      'app --password --verbose',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Compose placeholder, as text
      'app --password ${DB_PASSWORD}',
      'pre-auth token',
      'app --key-file /run/k',
    ];
    for (const t of kept) expect(redactText(t)).toBe(t);
    const list = ['--password-stdin', 'registry', '--token', '--verbose', '-p', 'x', '--secret', 'id=a'];
    expect(redact(list)).toBe(list);
  });

  it('is idempotent', () => {
    for (const t of ['a --password ***', 'TLS_KEY=***', '***', 'x --token "***"'])
      expect(redactText(t)).toBe(t);
    const once = redact({ cmd: ['--password', 'x'], env: ['K_TOKEN=a\nb'] });
    expect(redact(once)).toBe(once);
  });
});

describe('headers, JSON inside a string, client passwords and Redis settings', () => {
  it('masks a secret-named header with no blank after its colon, as curl and logs write it', () => {
    expect(redactText('curl -H "X-Api-Key:apik22" http://x')).toBe('curl -H "X-Api-Key:***" http://x');
    expect(redactText('Api-Key:apik22')).toBe('Api-Key:***');
    expect(redactText('Authorization:Basic YWRtaW46cHc=')).toBe('Authorization:***');
    expect(redactText('Cookie:sid=abc123')).toBe('Cookie:***');
    expect(redactText('X-AUTH-TOKEN:tok2')).toBe('X-AUTH-TOKEN:***');
    expect(redactText("curl -H 'x-api-key:apik22' http://x")).toBe("curl -H 'x-api-key:***' http://x");
    expect(redactText('curl -H x-auth-token:tok1 http://x')).toBe('curl -H x-auth-token:*** http://x');
    expect(redactText('curl --header=x-api-key:apik22 http://x')).toBe(
      'curl --header=x-api-key:*** http://x',
    );
    expect(redactText('Authorization: Basic YWRtaW46cHc=')).toBe('Authorization: ***');
    expect(redact(['curl', '-H', 'x-api-key:apik22', '-H', 'Accept:text/plain'])).toEqual([
      'curl',
      '-H',
      'x-api-key:***',
      '-H',
      'Accept:text/plain',
    ]);
  });

  it('leaves image references, lower-case pairs and capitalised statuses without a blank alone', () => {
    for (const t of [
      'registry/app-auth:v1 auth-service:v1 token-broker:v2',
      'pull api-key:latest',
      'AUTH:OK TOKEN:none',
      'Tags: Key:Name,Value:web',
      'Private:false Token:none',
      'authorization:v2',
      'Accept:text/plain',
    ])
      expect(redactText(t)).toBe(t);
  });

  it('masks a JSON document inside a string, its quotes escaped once or twice', () => {
    expect(redactText('curl -d "{\\"password\\": \\"jsonpw66\\"}" http://x')).toBe(
      'curl -d "{\\"password\\": \\"***\\"}" http://x',
    );
    expect(redactText('{\\"password\\":\\"jsonpw66\\",\\"user\\":\\"u\\"}')).toBe(
      '{\\"password\\":\\"***\\",\\"user\\":\\"u\\"}',
    );
    expect(redactText('{\\\\\\"token\\\\\\": \\\\\\"jsonpw66\\\\\\"}')).toBe(
      '{\\\\\\"token\\\\\\": \\\\\\"***\\\\\\"}',
    );
    expect(redactText(`echo '"password": "jsonpw66"' > f`)).toBe(`echo '"password": "***"' > f`);
    expect(redactText("{'password': 'jsonpw66'}")).toBe("{'password': '***'}");
    // As a tool result holds it: a command string, and the JSON that carries it.
    const cmd = { command: ['sh', '-c', 'curl -d "{\\"password\\": \\"jsonpw66\\"}" x'] };
    expect(JSON.stringify(redactResult(cmd).value)).not.toContain('jsonpw66');
    expect(redactText(JSON.stringify(cmd))).not.toContain('jsonpw66');
  });

  it("masks curl's -u password after the first colon, in text and in a command list", () => {
    expect(redactText('curl -u admin:curlpw11 http://x')).toBe('curl -u admin:*** http://x');
    expect(redactText('curl -s --user admin:curl:pw11 x')).toBe('curl -s --user admin:*** x');
    expect(redactText('curl --user=admin:curlpw11 x')).toBe('curl --user=admin:*** x');
    expect(redactText('curl -uadmin:curlpw11 x')).toBe('curl -uadmin:*** x');
    expect(redactText('/usr/bin/curl -u "admin:a b" x')).toBe('/usr/bin/curl -u "admin:***" x');
    expect(redact(['curl', '-u', 'admin:a b', '--user=u:p2', 'http://x'])).toEqual([
      'curl',
      '-u',
      'admin:***',
      '--user=u:***',
      'http://x',
    ]);
  });

  it("leaves -u a user and -p a port outside curl's and mysql's commands", () => {
    for (const t of [
      'docker run -u 1000:1000 -p8080:80 web',
      'curl -u admin http://x',
      'curl --user-agent a:b x',
      'curl -s x; docker exec -u root:root web id',
      'mysql -p db',
      'docker run -p3306:3306 mysql',
      'docker run -p3306:3306 mysql:8',
    ])
      expect(redactText(t)).toBe(t);
    const list = ['docker', 'run', '-u', '1000:1000', '-p8080:80', 'web'];
    expect(redact(list)).toBe(list);
  });

  it("masks mysql's and mariadb's attached -p password", () => {
    expect(redactText('mysql -uroot -pmysqlpw88 db')).toBe('mysql -uroot -p*** db');
    expect(redactText('mysqldump -p"my pw" db > x.sql')).toBe('mysqldump -p"***" db > x.sql');
    expect(redactText('sh -c "mariadb-dump -pmysqlpw88 db"')).toBe('sh -c "mariadb-dump -p*** db"');
    expect(redact(['/usr/bin/mysqladmin', '-uroot', '-pmysqlpw88', 'ping'])).toEqual([
      '/usr/bin/mysqladmin',
      '-uroot',
      '-p***',
      'ping',
    ]);
  });

  it("masks redis-cli's -a, sshpass's and docker login's -p, in text and in a command list", () => {
    expect(redactText('redis-cli -h cache -a redispw2 ping')).toBe('redis-cli -h cache -a *** ping');
    expect(redactText('sshpass -p sshpw1 ssh host')).toBe('sshpass -p *** ssh host');
    expect(redactText('echo x && docker login -u bob -p loginpw1 reg.example')).toBe(
      'echo x && docker login -u bob -p *** reg.example',
    );
    expect(redact(['redis-cli', '-a', 'redispw2', 'ping'])).toEqual(['redis-cli', '-a', '***', 'ping']);
    expect(redact(['sshpass', '-psshpw1', 'ssh', 'h'])).toEqual(['sshpass', '-p***', 'ssh', 'h']);
    for (const t of [
      'docker run -a stdout -p 80:80 web',
      'redis-cli -h cache ping',
      'docker login -u bob reg',
    ])
      expect(redactText(t)).toBe(t);
  });

  it("masks Redis's requirepass and masterauth, as a setting, a flag and a key", () => {
    expect(redactText('requirepass redispw1\nport 6379')).toBe('requirepass ***\nport 6379');
    expect(redactText('CONFIG SET masterauth "redis pw"')).toBe('CONFIG SET masterauth "***"');
    expect(redactText('redis-server --requirepass redispw1 --port 6379')).toBe(
      'redis-server --requirepass *** --port 6379',
    );
    expect(redact({ cmd: ['redis-server', '--requirepass', 'redispw1'], requirepass: 'x' })).toEqual({
      cmd: ['redis-server', '--requirepass', '***'],
      requirepass: '***',
    });
    expect(redactText('keytool -storepass changeit -keypass kp1')).toBe(
      'keytool -storepass *** -keypass ***',
    );
  });

  it('is idempotent on all of these', () => {
    for (const t of [
      'curl -u admin:curlpw11 -H "X-Api-Key:apik22" x',
      'mysql -pmysqlpw88',
      'requirepass redispw1',
      '{\\"password\\": \\"jsonpw66\\"}',
    ]) {
      const once = redactText(t);
      expect(once).not.toBe(t);
      expect(redactText(once)).toBe(once);
    }
  });
});

describe('redaction', () => {
  it('masks JSON-quoted secrets, as validation errors quote arguments', () => {
    expect(redactText('got {"username":"u","password":"hunter2"}')).toBe(
      'got {"username":"u","password":"***"}',
    );
  });

  it('leaves a validation error about a secret-named argument readable, masking only the value it quotes', () => {
    expect(redactText(`invalid argument 'auth': unknown key "user"`)).toBe(
      `invalid argument 'auth': unknown key "user"`,
    );
    expect(redactText(`invalid argument 'auth.password': must not have more than 65536 characters`)).toBe(
      `invalid argument 'auth.password': must not have more than 65536 characters`,
    );
    expect(redactText(`invalid argument 'command': bad, got "DB_PASSWORD=hunter2"`)).toBe(
      `invalid argument 'command': bad, got "DB_PASSWORD=***"`,
    );
    expect(redactText(`'token': abc`)).toBe(`'token': ***`);
  });

  it('leaves $-brace placeholders alone: they name a secret without holding one', () => {
    const ph = (name: string) => ['$', '{', name, '}'].join('');
    expect(redactText(`DB_PASSWORD: "${ph('DB_PASSWORD')}"`)).toBe(`DB_PASSWORD: "${ph('DB_PASSWORD')}"`);
    expect(redact({ API_TOKEN: ph('API_TOKEN'), DB_PASSWORD: 'x' })).toEqual({
      API_TOKEN: ph('API_TOKEN'),
      DB_PASSWORD: '***',
    });
  });

  it('leaves image references alone even when the repository has a secret-like word', () => {
    for (const ref of [
      '127.0.0.1:5001/mcpt-auth-x:v1',
      'auth-service:v1',
      'registry/token-broker@sha256:abc',
    ])
      expect(redactText(ref)).toBe(ref);
  });

  it('masks env entries and secret-named properties, leaving others', () => {
    const out = redact({
      env: ['DB_PASSWORD=hunter2', 'PATH=/bin', 'API_KEY="abc def"'],
      labels: { 'com.x.token': 't0k' },
      name: 'web',
    });
    expect(out).toEqual({
      env: ['DB_PASSWORD=***', 'PATH=/bin', 'API_KEY="***"'],
      labels: { 'com.x.token': '***' },
      name: 'web',
    });
  });

  it('masks secrets inside free text: assignments, bearer tokens, URL credentials', () => {
    const t = redactText(
      'start API_TOKEN=abc123secret ok; Authorization: Bearer abcdefghijkl; db=postgres://u:pw@db/x',
    );
    expect(t).not.toContain('abc123secret');
    expect(t).not.toContain('abcdefghijkl');
    expect(t).not.toContain(':pw@');
    expect(t).toContain('API_TOKEN=***');
  });

  it('leaves text without secrets untouched', () => {
    const s = 'Set SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true to allow it.';
    expect(redactText(s)).toBe(s);
  });
});

describe('redactResult', () => {
  it('keeps a result no name or string of which can hold a secret, with its JSON', () => {
    const rows = { containers: [{ id: 'abc', name: 'web', image: 'nginx:1', path: '/usr/bin' }], count: 1 };
    const r = redactResult(rows);
    expect(r.value).toBe(rows);
    expect(r.json).toBe(JSON.stringify(rows));
  });

  it('masks what redact() masks, escapes and all; its JSON is kept only for a result left whole', () => {
    const cases: Record<string, unknown>[] = [
      { env: ['DB_PASSWORD=hunter2', 'PATH=/bin'] },
      { Labels: { api_key: 'k-123456', plain: 'x' } },
      { text: 'line one\nGITHUB_PAT: ghp_abcdef\n' },
      { quoted: 'say "token=abc" now' },
      { url: 'https://user:pw@host/x' },
      { nested: [{ id: 1 }, { deep: { secret: 12345 } }] },
      { pat: 'x' },
      { control: 'pat\u0001', other: [1, 2] },
      // A hit with nothing to mask: the value is left whole.
      { tail: 'ends in pat' },
      { containers: [{ name: 'compassionate_curie' }, { name: 'web' }] },
    ];
    for (const value of cases) {
      const before = JSON.stringify(value);
      const r = redactResult(value);
      expect(r.value).toEqual(redact(value));
      expect(JSON.stringify(value)).toBe(before); // never changed in place
      if (r.json === undefined) expect(r.value).not.toEqual(value);
      else {
        expect(r.value).toBe(value);
        expect(r.json).toBe(before);
      }
    }
    expect(redactResult({ tail: 'ends in pat' }).json).toBeDefined();
    expect(redactResult({ pat: 'x' }).json).toBeUndefined();
  });

  it('masks exactly what the walk masks, whatever the names and strings hold (property)', () => {
    // Pieces of secret names, assignments, URLs, tokens, escapes and JSON's own syntax, joined at random.
    const piece = fc.constantFrom(
      'pass',
      'PASS',
      'word',
      'compassionate',
      'leakey',
      'key',
      'Key',
      'KEY',
      'pat',
      'pw',
      'token',
      'secret',
      'ary',
      'private',
      'auth',
      'or',
      'file',
      '_',
      '-',
      '.',
      ' ',
      '=',
      ':',
      '"',
      "'",
      '\\',
      '\n',
      '\u0001',
      '/',
      '://',
      'user',
      '@',
      'host',
      'Bearer ',
      'abcdefgh1234',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Compose placeholder, as text
      '${X}',
      'x',
      ',',
      '{',
      '}',
      '[',
      ']',
      'é',
      '--',
      '-p',
      '\u001b[31m',
      '\r',
      '\u009b',
      '\u200b',
      '\ufeff',
      'curl',
      'mysql',
      'redis-cli',
      'sshpass',
      'docker login ',
      '-a',
      '-u',
      '-pw',
      '-H',
      'Api-Key:',
      'requirepass',
      '-----BEGIN PRIVATE KEY-----',
      '-----END PRIVATE KEY-----',
    );
    const text = fc.array(piece, { maxLength: 8 }).map((xs) => xs.join(''));
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.integer(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(text, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(text, value, { maxKeys: 5 }), (v) => {
        const walked = redact(v);
        const r = redactResult(v);
        expect(r.value).toEqual(walked);
        expect(r.json === undefined).toBe(walked !== v);
      }),
      fcParams(3000),
    );
  });

  it('copies only the rows on the way to what it masks', () => {
    const rows = [{ name: 'a' }, { name: 'b', env: ['TOKEN=abcdef'] }, { name: 'c' }];
    const r = redactResult({ rows });
    const out = r.value.rows as typeof rows;
    expect(out).not.toBe(rows);
    expect(out[0]).toBe(rows[0] as (typeof rows)[0]);
    expect(out[2]).toBe(rows[2] as (typeof rows)[0]);
    expect(out[1]?.env).toEqual([`TOKEN=${MASK}`]);
  });
});

describe('redact() keeps every key, and what it does not mask', () => {
  it('keeps a key named __proto__ as a key, masked or not (call arguments as JSON parses them)', () => {
    const args = JSON.parse('{"labels":{"__proto__":"x","app":"web"},"__proto__":{"api_key":"k-123456"}}');
    expect(JSON.stringify(redact(args))).toBe(
      `{"labels":{"__proto__":"x","app":"web"},"__proto__":{"api_key":"${MASK}"}}`,
    );
  });

  it('gives back the value itself when nothing in it is masked', () => {
    const value = { name: 'web', labels: { app: 'web' } };
    expect(redact(value)).toBe(value);
  });
});

describe('redactResult keeps every key', () => {
  it('keeps a key named __proto__ as a key in a masked copy', () => {
    const value = JSON.parse('{"api_key":"k-123456","__proto__":{"x":1}}');
    expect(JSON.stringify(redactResult(value).value)).toBe(`{"api_key":"${MASK}","__proto__":{"x":1}}`);
  });
});

describe('a command keeps what follows a masked or referenced value', () => {
  it('leaves a shell variable named as the value, and reads the command on after it', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script, not a template.
    const script = 'echo line1; echo DB_PASSWORD=$DB_PASSWORD; echo TOKEN=${TOKEN}; sleep 3600';
    expect(redact(['sh', '-c', script])).toEqual(['sh', '-c', script]);
    expect(redact(['sh', '-c', 'echo "PASSWORD=$X" ok; a && TOKEN=$T)'])).toEqual([
      'sh',
      '-c',
      'echo "PASSWORD=$X" ok; a && TOKEN=$T)',
    ]);
  });

  it('masks a value that is a variable and more: the shell joins what touches it', () => {
    const cases: [string, string][] = [
      ['echo DB_PASSWORD=$X"hunter2"', `echo DB_PASSWORD=${MASK}`],
      ["echo DB_PASSWORD=$X'hunter2'", `echo DB_PASSWORD=${MASK}`],
      ['export API_TOKEN=$T"abc123"; run', `export API_TOKEN=${MASK}; run`],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script, not a template.
      ['echo TOKEN=${TOKEN}x; echo TOKEN=$T`id`', `echo TOKEN=${MASK}; echo TOKEN=${MASK}`],
      ["echo PASSWORD='$X'", `echo PASSWORD='${MASK}'`], // single quotes: `$X` is the literal value
      ['PASSWORD=$X; run', `PASSWORD=${MASK}; run`],
    ];
    for (const [script, shown] of cases) expect(redact(['sh', '-c', script])).toEqual(['sh', '-c', shown]);
  });

  it('masks a `$` value in text that is no shell script, where a password may begin with `$`', () => {
    const cases: [string, string][] = [
      ['echo DB_PASSWORD=$X"hunter2"', `echo DB_PASSWORD=${MASK}`],
      ["echo DB_PASSWORD=$X'hunter2'", `echo DB_PASSWORD=${MASK}`],
      [
        'Cmd: ["sh","-c","export API_TOKEN=$T\\"abc123\\"; run"]',
        `Cmd: ["sh","-c","export API_TOKEN=${MASK}"]`,
      ],
      ['curl -d x DB_PASSWORD=$X hunter2', `curl -d x DB_PASSWORD=${MASK}`],
      ['  DB_PASSWORD=$K9X2QZ', `  DB_PASSWORD=${MASK}`],
      ['log: set DB_PASSWORD=$ECRETPW', `log: set DB_PASSWORD=${MASK}`],
      ['run echo line1; echo DB_PASSWORD=$DB_PASSWORD; sleep 1', `run echo line1; echo DB_PASSWORD=${MASK}`],
    ];
    for (const [text, shown] of cases) expect(redactText(text)).toBe(shown);
    expect(redact({ Cmd: 'echo DB_PASSWORD=$X"hunter2"' })).toEqual({ Cmd: `echo DB_PASSWORD=${MASK}` });
  });

  it('masks a value written literally, `$` and all, in an env entry and at the start of a line', () => {
    expect(redact(['DB_PASSWORD=$X', 'TOKEN=$ecret'])).toEqual([`DB_PASSWORD=${MASK}`, `TOKEN=${MASK}`]);
    expect(redactText('a\nPASSWORD=$X')).toBe(`a\nPASSWORD=${MASK}`);
    expect(redactText('login PASSWORD=$ecret now')).toBe(`login PASSWORD=${MASK}`);
  });

  it('ends a bare value with its word in the script of sh -c, masking quoted parts of that word', () => {
    expect(redact(['sh', '-c', 'echo PASSWORD=hunter2; sleep 1 && TOKEN=a"b c" x'])).toEqual([
      'sh',
      '-c',
      `echo PASSWORD=${MASK}; sleep 1 && TOKEN=${MASK} x`,
    ]);
    expect(redact(['/bin/bash', '-ec', 'export API_KEY=k\\ 1|cat'])).toEqual([
      '/bin/bash',
      '-ec',
      `export API_KEY=${MASK}|cat`,
    ]);
    // Elsewhere a value still runs to the line's end: `correct horse; battery` may be one password.
    expect(redact(['echo PASSWORD=a b; c'])).toEqual([`echo PASSWORD=${MASK}`]);
    expect(redactResult({ Args: ['sh', '-c', 'echo PASSWORD=x; ok'] }).value).toEqual({
      Args: ['sh', '-c', `echo PASSWORD=${MASK}; ok`],
    });
  });
});
