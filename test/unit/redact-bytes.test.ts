import { describe, expect, it } from 'bun:test';
import { redactBytes } from '../../src/core/redact-bytes.ts';
import { asText } from '../../src/tools/containers/files.ts';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

describe('redactBytes', () => {
  it('masks a secret in the text of binary bytes, keeping the length and every other byte', () => {
    const data = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0xff]),
      Buffer.from('DB_PASSWORD=hunter2\nPLAIN=v1\n'),
      Buffer.from([0, 1, 2]),
    ]);
    const masked = Buffer.from(redactBytes(data) ?? []);
    expect(masked.length).toBe(data.length);
    expect(masked.subarray(0, 7).equals(data.subarray(0, 7))).toBe(true);
    expect(masked.toString('latin1')).toContain('DB_PASSWORD=*******\nPLAIN=v1\n');
    expect(masked.toString('latin1')).not.toContain('hunter2');
  });

  it('masks a whole PEM private key and UTF-16 text of either byte order', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1Lf\n-----END RSA PRIVATE KEY-----';
    const masked = Buffer.from(redactBytes(Buffer.concat([Buffer.from([0, 0xfe]), Buffer.from(pem)])) ?? []);
    expect(masked.toString('latin1')).not.toContain('MIIEpAIB');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('API_TOKEN=tok-123456', 'utf16le')]);
    expect(Buffer.from(redactBytes(le) ?? []).toString('utf16le')).not.toContain('tok-123456');
    const be = Buffer.from(le.subarray(2)).swap16();
    expect(
      Buffer.from(redactBytes(Buffer.concat([Buffer.from([0xfe, 0xff]), be])) ?? []).toString('latin1'),
    ).not.toMatch(/t\0o\0k\0-/);
  });

  it('masks a CRLF key to its END and a value past a UTF-8 letter, in binary bytes and UTF-16', () => {
    const pem = [
      '-----BEGIN PRIVATE KEY-----',
      'MIICdwIBADANBgkqhkiG9w0BAQEFAASC',
      'lLD9k1FmdGlEJFQ=',
      '-----END PRIVATE KEY-----',
      '',
    ].join('\r\n');
    const data = Buffer.concat([
      Buffer.from([0x7f, 0, 0xff, 0x80]),
      Buffer.from(`${pem}DB_PASSWORD=ab\u00e4SecretTailValue99\n`),
      Buffer.from([0, 0xc3]),
    ]);
    const masked = Buffer.from(redactBytes(data) ?? []);
    expect(masked.length).toBe(data.length);
    const text = masked.toString('latin1');
    expect(text).not.toContain('MIICdwIB');
    expect(text).not.toContain('lLD9k1Fm');
    expect(text).not.toContain('SecretTailValue99');
    const wide = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`hello\r\n${pem}API_TOKEN=t\u00e4k-123456\r\n`, 'utf16le'),
    ]);
    const shown = Buffer.from(redactBytes(wide) ?? []).toString('utf16le');
    expect(shown).not.toContain('MIICdwIB');
    expect(shown).not.toContain('lLD9k1Fm');
    expect(shown).not.toContain('k-123456');
    expect(shown).toContain('hello');
  });

  it('answers undefined when nothing is masked', () => {
    expect(redactBytes(Buffer.from([0, 1, 2, ...Buffer.from('hello world'), 0xff]))).toBeUndefined();
  });
});

describe("docker_copy_from_container's text or binary", () => {
  it('reads valid UTF-8 as text', () => {
    expect(asText(Buffer.from('héllo\n'))).toEqual({ text: 'héllo\n', lossy: false });
  });

  it('reads text with a few bytes that are not UTF-8 (Latin-1, a NUL) as lossy text, not base64', () => {
    expect(asText(latin1('# Caf\xe9 settings\nDB_PASSWORD=hunter2\n'))).toEqual({
      text: '# Caf\ufffd settings\nDB_PASSWORD=hunter2\n',
      lossy: true,
    });
    expect(asText(Buffer.from('DB_PASSWORD=hunter2\n\0'))?.lossy).toBe(true);
  });

  it('leaves binary (mostly bytes that are not text) to base64', () => {
    expect(asText(Buffer.from(Array.from({ length: 256 }, (_, i) => i)))).toBeUndefined();
    expect(asText(Buffer.concat([Buffer.from('ab'), Buffer.alloc(100)]))).toBeUndefined();
  });
});
