import { describe, expect, it } from 'bun:test';
import { Readable } from 'node:stream';
import { eachLine, STDERR_PREFIX, splitOutput, tailLines, tailOutput } from '../../src/docker/logs.ts';

const frame = (stream: number, text: string | Buffer) => {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
};

/** A stream of `chunks`, produced lazily so nothing but the reader can hold them. */
const streamOf = (chunks: () => Iterable<Buffer>) => Readable.from(chunks(), { objectMode: false });

const signal = () => new AbortController().signal;

/** `n` numbered lines of `width` bytes each (newline included), in chunks of about 64 KiB. */
function* numbered(n: number, width: number, wrap: (b: Buffer) => Buffer = (b) => b) {
  let batch: string[] = [];
  let size = 0;
  for (let i = 0; i < n; i++) {
    const head = `line ${i} `;
    batch.push(head + 'x'.repeat(width - head.length - 1));
    size += width;
    if (size >= 65_536) {
      yield wrap(Buffer.from(`${batch.join('\n')}\n`));
      batch = [];
      size = 0;
    }
  }
  if (batch.length) yield wrap(Buffer.from(`${batch.join('\n')}\n`));
}

const heap = () => {
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
};

describe('the log-tail reader', () => {
  it('keeps the newest lines within the byte budget when fed far more than it', async () => {
    const lines = 200_000; // 1 KiB each: 200 MiB through a 64 KiB budget
    const got = await tailLines(
      streamOf(() => numbered(lines, 1024)),
      true,
      { maxLines: 10_000, maxBytes: 65_536 },
      signal(),
    );
    expect(got.scanned).toBe(lines);
    expect(got.lines.length).toBe(64);
    expect(got.lines.at(-1)?.startsWith(`line ${lines - 1} `)).toBe(true);
    expect(got.lines[0]?.startsWith(`line ${lines - 64} `)).toBe(true);
    expect(got.lines.join('').length).toBeLessThanOrEqual(65_536);
  });

  // 64 MiB through a 1 MiB budget: a reader that held what it read would peak past 64 MiB. Sized so a
  // loaded machine (each heap reading is a full collection) still finishes well inside the timeout.
  it('holds memory near the budget, not near what the container wrote', async () => {
    const before = heap();
    let peak = 0;
    const got = await tailLines(
      streamOf(function* () {
        let i = 0;
        for (const chunk of numbered(64 * 1024, 1024, (b) => frame(1, b))) {
          if (++i % 128 === 0) peak = Math.max(peak, heap() - before);
          yield chunk;
        }
      }),
      false,
      { maxLines: 1_000_000, maxBytes: 1024 * 1024 },
      signal(),
    );
    expect(got.scanned).toBe(64 * 1024); // 64 MiB read
    expect(peak).toBeGreaterThan(0); // the readings were taken
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  }, 30_000);

  it('keeps the newest maxLines lines, oldest first', async () => {
    const got = await tailLines(
      streamOf(() => [Buffer.from('a\nb\nc\nd\n')]),
      true,
      { maxLines: 2, maxBytes: 1e6 },
      signal(),
    );
    expect(got).toEqual({ lines: ['c', 'd'], scanned: 4, matched: 4, cut: 0 });
  });

  it('joins lines cut across chunks and keeps a last line without a newline', async () => {
    const got = await tailLines(
      streamOf(() => ['hel', 'lo\nwor', 'ld\r\nno newline'].map((s) => Buffer.from(s))),
      true,
      { maxLines: 10, maxBytes: 1e6 },
      signal(),
    );
    expect(got.lines).toEqual(['hello', 'world', 'no newline']);
  });

  it('cuts an endless line so one line cannot fill memory', async () => {
    const got = await tailLines(
      streamOf(function* () {
        for (let i = 0; i < 1024; i++) yield Buffer.alloc(65_536, 'y'); // 64 MiB, no newline
      }),
      true,
      { maxLines: 10, maxBytes: 1e6 },
      signal(),
    );
    expect(got.lines).toHaveLength(1);
    expect(got.lines[0]?.endsWith('…')).toBe(true);
    expect(got.lines[0]?.length).toBeLessThanOrEqual(16_385);
  });

  it('demultiplexes frames cut anywhere, marking stderr lines', async () => {
    const wire = Buffer.concat([
      frame(1, 'out 1\nout '),
      frame(2, 'err 1\n'),
      frame(1, '2\n'),
      frame(2, 'err 2'),
    ]);
    const got = await tailLines(
      streamOf(function* () {
        for (let i = 0; i < wire.length; i += 3) yield wire.subarray(i, i + 3);
      }),
      false,
      { maxLines: 10, maxBytes: 1e6 },
      signal(),
    );
    expect(got.lines).toEqual(['out 1', `${STDERR_PREFIX}err 1`, 'out 2', `${STDERR_PREFIX}err 2`]);
  });

  it('keeps only matching lines but counts every line scanned', async () => {
    const got = await tailLines(
      streamOf(() => numbered(5000, 32)),
      true,
      { maxLines: 3, maxBytes: 1e6, match: (l) => l.startsWith('line 1') },
      signal(),
    );
    expect(got.scanned).toBe(5000);
    expect(got.lines.map((l) => l.split(' ')[1])).toEqual(['1997', '1998', '1999']);
  });

  it('stops reading when the signal aborts', async () => {
    const ac = new AbortController();
    let produced = 0;
    const reading = tailLines(
      streamOf(function* () {
        for (;;) {
          produced++;
          if (produced === 10) ac.abort(new Error('stop'));
          yield Buffer.from('tick\n');
        }
      }),
      true,
      { maxLines: 5, maxBytes: 1e6 },
      ac.signal,
    );
    await expect(reading).rejects.toThrow('stop');
    expect(produced).toBeLessThan(100);
  });
});

describe('eachLine', () => {
  it('stops reading, and closes the stream, at the first line the caller is done with', async () => {
    let produced = 0;
    const stream = streamOf(function* () {
      for (;;) yield Buffer.from(`tick ${produced++}\nready\n`);
    });
    const seen: string[] = [];
    await eachLine(
      stream,
      true,
      (line) => {
        seen.push(line);
        return line === 'ready' ? false : undefined;
      },
      signal(),
    );
    expect(seen).toEqual(['tick 0', 'ready']);
    expect(stream.destroyed).toBe(true);
    expect(produced).toBeLessThan(20);
  });

  it('tells which stream a line came from', async () => {
    const seen: string[] = [];
    await eachLine(
      streamOf(() => [frame(2, 'e\n'), frame(1, 'o\n')]),
      false,
      (line, from) => void seen.push(`${from}:${line}`),
      signal(),
    );
    expect(seen).toEqual(['stderr:e', 'stdout:o']);
  });

  it('keeps only the first timestamp of a line logged in pieces, whatever the chunks, per stream', async () => {
    const T = '2026-12-06T12:00:00.000000001Z';
    const wire = Buffer.concat([
      frame(1, `${T} one\n`),
      frame(1, `${T} long-`),
      frame(2, `${T} err\n`),
      frame(1, `${T} line-`),
      frame(1, `${T} end\n`),
      frame(1, `${T} after ${T} kept\n`),
    ]);
    const lines = async (stamped: boolean, size: number) => {
      const seen: string[] = [];
      const chunks = Array.from({ length: Math.ceil(wire.length / size) }, (_, i) =>
        wire.subarray(i * size, (i + 1) * size),
      );
      const take = (line: string, from: string) => void seen.push(`${from}:${line}`);
      await eachLine(
        streamOf(() => chunks),
        false,
        take,
        signal(),
        stamped,
      );
      return seen;
    };
    const whole = [
      `stderr:${T} err`,
      `stdout:${T} one`,
      `stdout:${T} long-line-end`,
      `stdout:${T} after ${T} kept`,
    ].sort();
    for (const size of [1, 7, 40, wire.length]) expect((await lines(true, size)).sort()).toEqual(whole);
    // Not asked for timestamps: nothing is taken out.
    expect(await lines(false, wire.length)).toContain(`stdout:${T} long-${T} line-${T} end`);
  });
});

describe('the output tail of a waited run', () => {
  it('keeps the last bytes of each stream and how many were written', async () => {
    const wire = [frame(1, 'a\n'.repeat(2500)), frame(2, 'e'.repeat(3000)), frame(1, 'tail-out\n')];
    const out = await tailOutput(
      streamOf(() => wire),
      false,
      1024,
      signal(),
    );
    expect(out.stdout.total).toBe(5009);
    expect(out.stderr.total).toBe(3000);
    // The last 1024 bytes start with the '\n' ending a cut line: the text starts after it.
    expect(out.stdout.text()).toHaveLength(1023);
    expect(out.stdout.text()).toStartWith('a\na\n');
    expect(out.stdout.text().endsWith('tail-out\n')).toBe(true);
    expect(out.stdout.dropped).toBe(5009 - 1023);
    // One line of 3000 bytes, its start cut off: nothing of it is shown.
    expect(out.stderr.text()).toBe('');
  });

  it('splits the room between the streams and cuts at a line start', async () => {
    const out = await tailOutput(
      streamOf(() => [frame(1, `${'o'.repeat(50)}\nlast out\n`), frame(2, 'short err\n')]),
      false,
      1024,
      signal(),
    );
    expect(splitOutput(out, 1024)).toEqual({
      stdout: `${'o'.repeat(50)}\nlast out\n`,
      stderr: 'short err\n',
      truncated: false,
    });
    const cut = splitOutput(out, 20);
    expect(cut.stderr).toBe('short err\n');
    expect(cut.stdout).toBe('last out\n');
    expect(cut.truncated).toBe(true);
  });

  it('stays bounded whatever the container writes', async () => {
    const out = await tailOutput(
      streamOf(function* () {
        for (let i = 0; i < 2048; i++) yield frame(i % 2 ? 2 : 1, `${'z'.repeat(65_000)}\n`);
      }),
      false,
      4096,
      signal(),
    );
    expect(out.stdout.total + out.stderr.total).toBe(2048 * 65_001);
    const { stdout, stderr } = splitOutput(out, 4096);
    expect(Buffer.byteLength(stdout) + Buffer.byteLength(stderr)).toBeLessThanOrEqual(4096);
  });
});
