import { describe, expect, it } from 'bun:test';
import { type TarEntry, TarReader, tarOneFile } from '../../src/docker/tar.ts';

describe('TarReader', () => {
  const read = (archive: Buffer, cut = 0) => {
    const seen: (TarEntry & { data: string })[] = [];
    const reader = new TarReader((e) => {
      const item = { ...e, data: '' };
      seen.push(item);
      return (d) => {
        item.data += d.toString();
      };
    });
    if (cut > 0) for (let i = 0; i < archive.length; i += cut) reader.push(archive.subarray(i, i + cut));
    else reader.push(archive);
    return seen;
  };

  it('reads back a one-file archive built by tarOneFile, fed in odd-sized pieces', () => {
    const archive = tarOneFile('hello.txt', Buffer.from('hi there\n'), 0o640);
    for (const cut of [0, 1, 7, 511, 513]) {
      const [entry, ...rest] = read(archive, cut);
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({
        name: 'hello.txt',
        type: 'file',
        size: 9,
        mode: 0o640,
        data: 'hi there\n',
      });
    }
  });

  it('takes a long name from a pax header', () => {
    const name = `${'n'.repeat(150)}.txt`;
    const [entry] = read(tarOneFile(name, Buffer.from('x'), 0o644));
    expect(entry).toMatchObject({ name, size: 1, data: 'x' });
  });

  it('takes a long name from a GNU L entry', () => {
    const name = `dir/${'g'.repeat(120)}`;
    // A GNU long-name entry is a header of type 'L' whose data is the name; build one by patching a header.
    const longName = tarOneFile('././@LongLink', Buffer.from(`${name}\0`), 0o644);
    const header = longName.subarray(0, 512);
    header[156] = 'L'.charCodeAt(0);
    let sum = 0;
    header.fill(32, 148, 156);
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    const real = tarOneFile('dir/short', Buffer.from('data'), 0o600);
    const archive = Buffer.concat([longName.subarray(0, 1024), real]);
    const entries = read(archive);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ name, type: 'file', size: 4, data: 'data' });
  });

  it('stops at the end-of-archive blocks', () => {
    const archive = Buffer.concat([
      tarOneFile('a', Buffer.from('1'), 0o644),
      Buffer.from('trailing garbage'),
    ]);
    expect(read(archive).map((e) => e.name)).toEqual(['a']);
  });
});
