import { describe, expect, it } from 'bun:test';
import { PassThrough } from 'node:stream';
import { endAtWord, fromWholeLine } from '../../src/core/cut.ts';
import {
  consume,
  demux,
  FrameDemuxer,
  LineSplitter,
  type StreamName,
  TailBytes,
  TailLines,
} from '../../src/docker/streams.ts';

const frame = (stream: number, text: string) => {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
};

/** Feeds `data` to `push` cut into pieces at the given offsets. */
const feed = (data: Buffer, cuts: number[], push: (b: Buffer) => unknown) => {
  let from = 0;
  for (const at of [...cuts, data.length]) {
    push(data.subarray(from, at));
    from = at;
  }
};

const collect = () => {
  const got: Record<StreamName, string> = { stdout: '', stderr: '' };
  return { got, onData: (s: StreamName, d: Buffer) => (got[s] += d.toString()) };
};

describe('FrameDemuxer', () => {
  const wire = Buffer.concat([
    frame(1, 'hello '),
    frame(2, 'oops\n'),
    frame(1, ''),
    frame(1, 'world\n'),
    frame(3, 'engine'),
  ]);

  it('separates stdout and stderr frames in one chunk', () => {
    const { got, onData } = collect();
    new FrameDemuxer(onData).push(wire);
    expect(got).toEqual({ stdout: 'hello world\n', stderr: 'oops\nengine' });
  });

  it('reassembles frames cut at every offset, including inside the 8-byte header', () => {
    for (let cut = 1; cut < wire.length; cut++) {
      const { got, onData } = collect();
      const d = new FrameDemuxer(onData);
      feed(wire, [cut], (b) => d.push(b));
      expect(got).toEqual({ stdout: 'hello world\n', stderr: 'oops\nengine' });
    }
  });

  it('reassembles frames fed one byte at a time', () => {
    const { got, onData } = collect();
    const d = new FrameDemuxer(onData);
    for (const byte of wire) d.push(Buffer.from([byte]));
    expect(got).toEqual({ stdout: 'hello world\n', stderr: 'oops\nengine' });
  });

  it('treats a TTY stream as raw stdout', () => {
    const { got, onData } = collect();
    demux(true, onData)(Buffer.from('\x01raw bytes'));
    expect(got).toEqual({ stdout: '\x01raw bytes', stderr: '' });
  });
});

describe('TailBytes', () => {
  it('keeps the last N bytes from their first whole line and counts what it dropped', () => {
    const t = new TailBytes(10);
    for (let i = 0; i < 100; i++) t.push(Buffer.from(`${i % 10}\n`));
    t.push(Buffer.from('abc'));
    // The last 10 bytes are '\n7\n8\n9\nabc': from the line after the first break.
    expect(t.text()).toBe('7\n8\n9\nabc');
    expect(t.total).toBe(203);
    expect(t.dropped).toBe(203 - 9);
  });

  it('keeps everything, partial last line included, when nothing was dropped', () => {
    const t = new TailBytes(10);
    t.push(Buffer.from('ab\ncd'));
    expect(t.text()).toBe('ab\ncd');
    expect(t.dropped).toBe(0);
  });

  it("drops a first line whose start was cut, so a secret's name is never half-kept", () => {
    const t = new TailBytes(40);
    t.push(Buffer.from(`DB_PASSWORD=hunter2-secret-value\n${'x'.repeat(20)}\n`));
    // The cut falls inside DB_PASSWORD: 'WORD=hunter2…' would no longer read as a secret.
    expect(Buffer.from('DB_PASSWORD=hunter2-secret-value\n').length + 21).toBeGreaterThan(40);
    expect(t.text()).toBe(`${'x'.repeat(20)}\n`);
    expect(t.text()).not.toContain('hunter2');
    expect(t.dropped).toBe(t.total - 21);
  });

  it('shows nothing of one line longer than the limit, rather than its cut end', () => {
    const t = new TailBytes(4);
    t.push(Buffer.from('0123456789'));
    expect(t.text()).toBe('');
    expect(t.dropped).toBe(10);
  });

  it('drops a multi-byte character cut by the front edge with the partial line', () => {
    const t = new TailBytes(6);
    t.push(Buffer.from('xé1\n234')); // é is 2 bytes; the last 6 bytes start inside it
    expect(t.text()).toBe('234');
  });

  it('starts after the END line of a private key whose BEGIN line was cut off', () => {
    const body = ['MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'VTLw7onLRnrq0/IzW7yW'];
    const pem = `-----BEGIN RSA PRIVATE KEY-----\n${body.join('\n')}\n-----END RSA PRIVATE KEY-----\n`;
    const t = new TailBytes(pem.length - 10 + 6);
    t.push(Buffer.from(`${pem}after\n`));
    expect(t.text()).toBe('after\n');
  });

  it('starts past the body lines of a key whose BEGIN line was cut off and whose END is not printed yet', () => {
    const line = 'CwBl50ZkbVgDnguMXYhf2NYEXPx8h2L7rsvFKBDOCJ8hvBNuwUX57AXa0123456789';
    const t = new TailBytes(150);
    t.push(
      Buffer.from(`DB_PASSWORD=x
-----BEGIN PRIVATE KEY-----
${line}
${line}
${line}
${line.slice(0, 20)}`),
    );
    expect(t.text()).toBe('');
    // A short word after a cut is no key's body; a key's run ends at a line that is not one.
    expect(fromWholeLine('xx\ndone\nok')).toBe('done\nok');
    expect(fromWholeLine(`xx\n${'0'.repeat(100)}\n`)).toBe(`${'0'.repeat(100)}\n`);
    expect(fromWholeLine(`xx\n${'A'.repeat(64)}\nok`)).toBe(`${'A'.repeat(64)}\nok`);
    expect(fromWholeLine(`xx\n${line}\n${line.slice(0, 30)}=\n[warn] retry\n`)).toBe('[warn] retry\n');
  });
});

describe('LineSplitter', () => {
  it('joins a line split across chunks and drops \\r', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    feed(Buffer.from('one\r\ntw'), [2], (b) => s.push(b));
    s.push(Buffer.from('o\nthree'));
    s.flush();
    expect(lines).toEqual(['one', 'two', 'three']);
  });

  it('cuts an endless line at the limit and marks it', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), 8);
    for (let i = 0; i < 1000; i++) s.push(Buffer.from('abcdefgh'));
    s.push(Buffer.from('\nnext\n'));
    expect(lines).toEqual(['abcdefgh…', 'next']);
  });
});

describe('TailLines', () => {
  it('keeps the newest N lines, oldest first, across many pushes', () => {
    const t = new TailLines(3);
    for (let i = 1; i <= 100_000; i++) t.push(`line-${i}`);
    expect(t.lines()).toEqual(['line-99998', 'line-99999', 'line-100000']);
    expect(t.total).toBe(100_000);
  });

  it('also keeps within a byte budget (at least one line)', () => {
    const t = new TailLines(100, 10);
    for (const l of ['aaaa', 'bbbb', 'cccc', 'dddddddddddddddd']) t.push(l);
    expect(t.lines()).toEqual(['dddddddddddddddd']);
  });

  it('keeps nothing for a limit of zero', () => {
    const t = new TailLines(0);
    t.push('x');
    expect(t.lines()).toEqual([]);
  });
});

describe('consume', () => {
  it('destroys the stream and rejects with the reason when the signal aborts', async () => {
    const stream = new PassThrough();
    const ac = new AbortController();
    const chunks: string[] = [];
    const done = consume(stream, (c) => void chunks.push(c.toString()), ac.signal);
    stream.write('a');
    await Bun.sleep(5);
    ac.abort(new Error('stop'));
    await expect(done).rejects.toThrow('stop');
    expect(stream.destroyed).toBe(true);
    expect(chunks).toEqual(['a']);
  });

  it('stops early and destroys the stream when the handler returns false', async () => {
    const stream = new PassThrough();
    const done = consume(stream, () => false, new AbortController().signal);
    stream.write('a');
    await done;
    expect(stream.destroyed).toBe(true);
  });
});

describe('endAtWord', () => {
  it('keeps the end from a word on, so a cut cannot leave half a secret name', () => {
    expect(endAtWord('short', 10)).toBe('short');
    // The last 25 characters start inside the name: '_PASSWORD=hunter2' would no longer read as a secret.
    expect(endAtWord('login shell warning | DB_PASSWORD=hunter2 refused', 25)).toBe('… refused');
    expect(endAtWord('x'.repeat(50), 10)).toBe('');
  });
});
