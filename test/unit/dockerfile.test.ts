import { describe, expect, it } from 'bun:test';
import { dockerfileName, remoteAddSources } from '../../src/docker/dockerfile.ts';

const sources = (text: string) => remoteAddSources(text).map((f) => f.source);

describe('remoteAddSources (what the classic builder would fetch itself)', () => {
  it('names ADD from a URL in any spelling the builder reads as one', () => {
    const cases: [string, string][] = [
      ['FROM x\nADD http://127.0.0.1:47311/secret /secret', 'http://127.0.0.1:47311/secret'],
      ['add https://169.254.169.254/latest /m', 'https://169.254.169.254/latest'],
      ['Add --chown=1:1 --chmod=600 http://h/a /a', 'http://h/a'],
      ['ADD --checksum=sha256:00 http://h/a /a', 'http://h/a'],
      ['ADD ["http://h/a", "/a"]', 'http://h/a'],
      ['ADD --chown=1 ["http\\u003a//h/a", "/a"]', 'http://h/a'],
      ['ADD "http://h/a" /a', 'http://h/a'],
      ['ADD h\\t\\tp://h/a /a', 'http://h/a'],
      ['ADD ht"tp"://h/a /a', 'http://h/a'],
      ['ADD \\\n  http://h/a \\\n  /a', 'http://h/a'],
      ['ADD \\\n# a comment inside\n\n  http://h/a /a', 'http://h/a'],
      ['ADD \\\n \u00a0# a comment Go trims\n  http://h/a /a', 'http://h/a'],
      ['# escape=`\nADD `\n  http://h/a /a', 'http://h/a'],
      ['ONBUILD ADD http://h/a /a', 'http://h/a'],
      ['onbuild  onbuild add http://h/a /a', 'http://h/a'],
      ['ADD git@github.com:o/r.git /r', 'git@github.com:o/r.git'],
      ['ADD git://h/r.git /r', 'git://h/r.git'],
      ['ADD HTTP://h/a /a', 'HTTP://h/a'],
      ['ADD \rhttp://h/a /a', 'http://h/a'],
      ['\uFEFFADD http://h/a /a', 'http://h/a'],
      ['ADD local.txt http://h/b /dst/', 'http://h/b'],
    ];
    for (const [text, url] of cases) expect({ text, found: sources(text) }).toEqual({ text, found: [url] });
  });

  it('names an ADD source holding a variable, which a build arg could make a URL', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile variables, literally
    const found = remoteAddSources('ARG U\nADD $U /a\nADD ${U}/x /b\nADD ["${U}", "/c"]');
    expect(found.map((f) => [f.line, f.why])).toEqual([
      [2, 'variable'],
      [3, 'variable'],
      [4, 'variable'],
    ]);
  });

  it('passes local sources, COPY, RUN and comments', () => {
    const text = [
      '# escape=\\',
      'FROM mcp-test/busybox:latest',
      'ADD app.tar.gz /app/',
      'ADD --chown=1:1 ["a b", "/c"]',
      'COPY http://h/a /a',
      'RUN wget http://h/a',
      '# ADD http://h/a /a',
      'ENV URL=http://h/a',
      'LABEL add="http://h/a"',
    ].join('\n');
    expect(remoteAddSources(text)).toEqual([]);
  });

  it('does not take a later comment for the escape directive', () => {
    // After a non-directive line, '# escape=`' is a comment: the backslash continues the line.
    expect(sources('# hello\n# escape=`\nADD \\\n http://h/a /a')).toEqual(['http://h/a']);
  });

  it('refuses an escape directive after one 20.10 does not know, which newer builders apply', () => {
    // Newer builders read `# check=` as a directive and then the escape; 20.10 stops at `check`, so
    // the backslash would join the ADD to the RUN for one engine and not for the other.
    const found = remoteAddSources('# check=skip=all\n# escape=`\nFROM x\nRUN echo \\\nADD http://h/a /a');
    expect(found[0]).toEqual({ line: 2, source: '# escape=`', why: 'directive' });
    expect(remoteAddSources('# syntax=x\n# escape=`\nFROM x\nRUN a `\nb')).toEqual([]);
  });

  it('reads lines as the builder does where JavaScript and Go differ', () => {
    const cases: [string, string][] = [
      // Go's IsSpace trims U+0085 and the other Unicode spaces; JavaScript's trimStart keeps U+0085.
      ['FROM x\n\u0085ADD http://h/a /a', 'http://h/a'],
      ['\u0085\u00a0\u3000add http://h/a /a', 'http://h/a'],
      ['ONBUILD\u0085ADD http://h/a /a', 'http://h/a'],
      ['ONBUILD \u0085 ADD http://h/a /a', 'http://h/a'],
      // Go lower-cases U+0130 to 'i': ONBUİLD is ONBUILD to the builder.
      ['ONBU\u0130LD ADD http://h/a /a', 'http://h/a'],
      // Directives: Go's \s is [\t\n\f\r ], so a form feed or carriage return still makes `escape=`.
      ['#\fescape=`\nFROM x\nRUN echo \\\nADD http://h/a /a', 'http://h/a'],
      ['# escape\r=`\nFROM x\nRUN echo \\\nADD http://h/a /a', 'http://h/a'],
      ['#escape=\f`\f\nFROM x\nRUN echo \\\nADD http://h/a /a', 'http://h/a'],
      ['\u00a0# ESCAPE = `\nFROM x\nRUN echo \\\nADD http://h/a /a', 'http://h/a'],
      ['#\fsyntax=x\n# escape=`\nFROM x\nRUN echo \\\nADD http://h/a /a', 'http://h/a'],
      ['# escape=`\r\r\nFROM x\nRUN echo \\\nADD http://h/a /a', 'http://h/a'],
      // An escaped escape character at the end does not continue the line (Docker's own pattern).
      ['FROM x\nRUN echo \\\\\nADD http://h/a /a', 'http://h/a'],
      // Trailing carriage returns go before the continuation is judged, as Go's trimNewline does.
      ['ADD \\\r\r\nhttp://h/a /a', 'http://h/a'],
    ];
    for (const [text, url] of cases) expect({ text, found: sources(text) }).toEqual({ text, found: [url] });
  });

  it('refuses an ADD whose flags the builder could split elsewhere', () => {
    // The builder ends a flag at byte 0xA0 or 0x85: `à` (C3 A0) makes the URL a source.
    const a0 = remoteAddSources('FROM x\nADD --chown=0\u00e0http://h/a /d');
    expect(a0.map((f) => [f.line, f.why])).toEqual([[2, 'url']]);
    expect(a0[0]?.source).toContain('http://h/a');
    const cases = [
      'ADD --chown=0\u0105http://h/a /d', // ą is C4 85
      'ADD --chown="0 http://h/a" /local /d',
      'ADD --chown=0\\ http://h/a /d',
      'ADD --chown=0 "h"t"tp:/"/h/a /d',
      'ADD --chown=0\u00a0git@h:r /d',
      'ADD ["http\\u003a//h/a", /d]',
    ];
    for (const text of cases)
      expect({ text, why: remoteAddSources(text)[0]?.why }).toEqual({ text, why: 'url' });
    const unclear = [
      'ADD --chown=0\u00e0$U /d',
      'ADD --chmod=6\u00e0 local /d',
      'ADD local\u00a0/d',
      'ADD local\u2003other /d',
      'ADD --chown=0\ufffd local /d',
    ];
    for (const text of unclear)
      expect({ text, why: remoteAddSources(text)[0]?.why }).toEqual({ text, why: 'unclear' });
  });

  it('still passes ordinary non-ASCII names', () => {
    expect(remoteAddSources('ADD caf\u00e9.txt /d\nADD \u65e5\u672c.txt /d\nCOPY \u00e0 /d')).toEqual([]);
  });

  it('gives the line where the instruction starts', () => {
    expect(remoteAddSources('FROM x\n\nRUN a \\\n  b\nADD \\\n  http://h/a /a')[0]?.line).toBe(5);
  });
});

describe('dockerfileName (as the engine joins it to the context)', () => {
  it('normalises inside the context and refuses what leaves it', () => {
    expect(dockerfileName('Dockerfile')).toBe('Dockerfile');
    expect(dockerfileName('./docker//Dockerfile')).toBe('docker/Dockerfile');
    expect(dockerfileName('a/../Dockerfile')).toBe('Dockerfile');
    for (const bad of ['/etc/Dockerfile', '../Dockerfile', 'a/../../D', '.', ''])
      expect(dockerfileName(bad)).toBeUndefined();
  });

  it('reads backslashes as a Windows server joins them, and refuses a way out through them anywhere', () => {
    expect(dockerfileName('docker\\Dockerfile', 'win32')).toBe('docker/Dockerfile');
    expect(dockerfileName('a\\..\\Dockerfile', 'win32')).toBe('Dockerfile');
    for (const bad of [
      '..\\..\\Users\\me\\.env',
      'C:\\x\\Dockerfile',
      'c:Dockerfile',
      '\\\\host\\share\\D',
      '\\D',
    ])
      expect(dockerfileName(bad, 'win32')).toBeUndefined();
    // Elsewhere a backslash is part of a name, but not a way out of the context.
    expect(dockerfileName('..\\..\\etc\\shadow', 'linux')).toBeUndefined();
    expect(dockerfileName('docker\\Dockerfile', 'linux')).toBe('docker\\Dockerfile');
  });
});
