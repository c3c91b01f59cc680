import { describe, expect, it } from 'bun:test';
import { PassThrough } from 'node:stream';
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
  it('keeps only the last N bytes and counts what it dropped', () => {
    const t = new TailBytes(10);
    for (let i = 0; i < 100; i++) t.push(Buffer.from(`${i % 10}`));
    t.push(Buffer.from('abc'));
    expect(t.text()).toBe('3456789abc');
    expect(t.total).toBe(103);
    expect(t.dropped).toBe(93);
  });

  it('keeps the end of a single chunk larger than the limit', () => {
    const t = new TailBytes(4);
    t.push(Buffer.from('0123456789'));
    expect(t.text()).toBe('6789');
  });

  it('drops a multi-byte character cut by the front edge instead of garbling it', () => {
    const t = new TailBytes(5);
    t.push(Buffer.from('xé1234')); // é is 2 bytes; the last 5 bytes start inside it
    expect(t.text()).toBe('1234');
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
