import { afterAll, describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveTags } from '../../src/tools/images/archive-tags.ts';
import { NotDockerSave, streamReader } from '../../src/tools/images/archive-tar.ts';
import { tarEntry, tarOf } from '../helpers/tar.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-archive-tags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LAYER = tarEntry('0123/layer.tar', Buffer.alloc(3000, 7));
/** An image config and its name as docker save writes it: the digest of its content. */
const CONFIG = '{"architecture":"amd64","os":"linux"}';
const HEX = createHash('sha256').update(CONFIG).digest('hex');
const CONFIG_ENTRY = tarEntry(`${HEX}.json`, CONFIG);
/** A PAX record: its length counts itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let n = rest.length + 1;
  while (`${n}${rest}`.length !== n) n++;
  return `${n}${rest}`;
}

async function tagsIn(bytes: Buffer) {
  const path = join(dir, `a${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, bytes);
  const handle = await open(path, 'r');
  try {
    const out = await archiveTags(handle);
    // The descriptor is left open and readable from the start, for the load.
    const first = Buffer.alloc(4);
    await handle.read(first, 0, 4, 0);
    expect([...first]).toEqual([...bytes.subarray(0, 4)]);
    return out;
  } finally {
    await handle.close();
  }
}

describe('archiveTags', () => {
  const manifest = (config: string, tags: string[] | null) =>
    tarEntry('manifest.json', JSON.stringify([{ Config: config, RepoTags: tags, Layers: [] }]));

  it('reads RepoTags from manifest.json, with the digest of the config it names as the image ID', async () => {
    expect(await tagsIn(tarOf(LAYER, CONFIG_ENTRY, manifest(`${HEX}.json`, ['a/b:1', 'c:2'])))).toEqual({
      known: true,
      tags: [
        { tag: 'a/b:1', id: `sha256:${HEX}` },
        { tag: 'c:2', id: `sha256:${HEX}` },
      ],
    });
    expect(
      await tagsIn(tarOf(tarEntry(`blobs/sha256/${HEX}`, CONFIG), manifest(`blobs/sha256/${HEX}`, ['x:y']))),
    ).toEqual({
      known: true,
      tags: [{ tag: 'x:y', id: `sha256:${HEX}` }],
    });
  });

  it('finds manifest.json under a PAX path and reads a gzip archive', async () => {
    const pax = tarEntry('PaxHeaders/x', paxRecord('path', 'manifest.json'), 'x');
    const named = tarEntry('placeholder', JSON.stringify([{ Config: `${HEX}.json`, RepoTags: ['p:q'] }]));
    expect(paxRecord('path', 'manifest.json')).toBe('22 path=manifest.json\n');
    expect(await tagsIn(tarOf(LAYER, pax, named))).toMatchObject({ tags: [{ tag: 'p:q' }] });
    const gz = Buffer.from(Bun.gzipSync(tarOf(LAYER, manifest(`${HEX}.json`, ['g:z']))));
    expect(await tagsIn(gz)).toMatchObject({ known: true, tags: [{ tag: 'g:z' }] });
  });

  it('an image saved by ID sets no tag', async () => {
    expect(await tagsIn(tarOf(manifest(`${HEX}.json`, null)))).toEqual({ known: true, tags: [] });
  });

  it('reads legacy `repositories` tags without an ID', async () => {
    const repos = tarEntry('repositories', JSON.stringify({ old: { v1: '0123' } }));
    expect(await tagsIn(tarOf(LAYER, repos))).toEqual({ known: true, tags: [{ tag: 'old:v1' }] });
  });

  it('cannot tell for other compressions or a tar without metadata; a non-archive sets nothing', async () => {
    const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(600)]);
    expect(await tagsIn(xz)).toEqual({ known: false, why: 'it is xz-compressed' });
    expect((await tagsIn(tarOf(LAYER))).known).toBe(false);
    expect(await tagsIn(Buffer.from('not a tar at all\n'.repeat(100)))).toEqual({ known: true, tags: [] });
  });
});

describe('archiveTags reads the image ID as the engine computes it', () => {
  const item = (config: string) =>
    tarEntry('manifest.json', JSON.stringify([{ Config: config, RepoTags: ['v:1'] }]));

  it('from the config file content, not from the name the manifest gives it', async () => {
    const claimed = 'cd'.repeat(32);
    expect(await tagsIn(tarOf(tarEntry(`${claimed}.json`, CONFIG), item(`${claimed}.json`)))).toEqual({
      known: true,
      tags: [{ tag: 'v:1', id: `sha256:${HEX}` }],
    });
  });

  it('from the last entry of that name, as unpacking leaves it', async () => {
    const first = tarEntry(`${HEX}.json`, '{"os":"other"}');
    expect(await tagsIn(tarOf(first, CONFIG_ENTRY, item(`./${HEX}.json`)))).toMatchObject({
      tags: [{ tag: 'v:1', id: `sha256:${HEX}` }],
    });
  });

  it('not at all when the config is missing, a link, or under a directory a link later replaced', async () => {
    const cases = [
      tarOf(item(`${HEX}.json`)),
      tarOf(CONFIG_ENTRY, tarEntry('c.json', '', '2', `${HEX}.json`), item('c.json')),
      tarOf(CONFIG_ENTRY, tarEntry('c.json', '', '1', `${HEX}.json`), item('c.json')),
      tarOf(
        tarEntry('d/', '', '5'),
        tarEntry(`d/${HEX}.json`, CONFIG),
        tarEntry('d', '', '2', 'e'),
        item(`d/${HEX}.json`),
      ),
      // No 'd/' entry: the engine makes the directory, and the file 'd' replaces it and all under it.
      tarOf(tarEntry(`d/${HEX}.json`, CONFIG), tarEntry('d', 'x'), item(`d/${HEX}.json`)),
    ];
    for (const tar of cases) expect(await tagsIn(tar)).toEqual({ known: true, tags: [{ tag: 'v:1' }] });
  });
});

describe('archiveTags refuses an archive the engine could read otherwise', () => {
  const tags = (t: string) =>
    tarEntry('manifest.json', JSON.stringify([{ Config: `${HEX}.json`, RepoTags: [t] }]));
  const refused = async (bytes: Buffer, why: RegExp) => {
    const err = await tagsIn(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotDockerSave);
    expect((err as Error).message).toMatch(why);
  };

  it('with two entries that unpack to manifest.json, however spelled', async () => {
    for (const second of [
      'manifest.json',
      './manifest.json',
      'a/../manifest.json',
      '/manifest.json',
      'x/..//./manifest.json',
    ])
      await refused(
        tarOf(tags('decoy:1'), tarEntry(second, JSON.stringify([{ RepoTags: ['victim:latest'] }]))),
        /more than one entry named manifest\.json/,
      );
    const gz = Buffer.from(Bun.gzipSync(tarOf(tags('decoy:1'), tags('victim:latest'))));
    await refused(gz, /more than one entry named manifest\.json/);
  });

  it('with two `repositories`, or a manifest.json or `repositories` that is not a regular file', async () => {
    const repos = tarEntry('repositories', '{"victim":{"latest":"0123"}}');
    await refused(tarOf(repos, repos), /more than one entry named repositories/);
    await refused(
      tarOf(tarEntry('evil.json', '[]'), tarEntry('manifest.json', '', '2', 'evil.json'), repos),
      /manifest\.json is a link/,
    );
    await refused(
      tarOf(tarEntry('evil.json', '[]'), tarEntry('manifest.json', '', '1', 'evil.json')),
      /manifest\.json is a link/,
    );
    await refused(tarOf(tarEntry('manifest.json/', '', '5')), /manifest\.json is a dir/);
    await refused(tarOf(tarEntry('manifest.json/', '', '\0')), /manifest\.json is a dir/);
    await refused(tarOf(tarEntry('manifest.json/x', '[]')), /manifest\.json is a directory/);
    await refused(tarOf(tarEntry('repositories', '', '2', 'x')), /repositories is a link/);
  });

  it('with an entry written through a link, or outside the archive', async () => {
    await refused(
      tarOf(tarEntry('x', '', '2', '.'), tarEntry('x/manifest.json', '[]')),
      /lies under 'x', which is a link/,
    );
    await refused(tarOf(tarEntry('../manifest.json', '[]')), /outside the archive/);
    await refused(tarOf(tarEntry('.', '', '2', '/')), /archive root/);
  });

  it('with a manifest.json key that Go matches case-insensitively', async () => {
    for (const key of ['repotags', 'REPOTAGS', 'RepoTag\u017f', 'config', 'Conf\u0131g', 'layersources'])
      await refused(
        tarOf(tarEntry('manifest.json', JSON.stringify([{ [key]: ['victim:latest'] }]))),
        /manifest\.json spells/,
      );
  });

  it('with tar features whose meaning differs between readers', async () => {
    const m = tags('victim:latest');
    await refused(tarOf(tarEntry('sparse', 'x', 'S'), m), /tar type 'S'/);
    await refused(tarOf(tarEntry('g', paxRecord('path', 'x'), 'g'), m), /tar type 'g'/);
    await refused(
      tarOf(tarEntry('p', '21 path=manifest.json\n', 'x'), tarEntry('decoy', '[]')),
      /PAX header is malformed/,
    );
    const bothNames = [
      tarEntry('p', paxRecord('path', 'decoy'), 'x'),
      tarEntry('././@LongLink', 'manifest.json', 'L'),
    ];
    await refused(tarOf(...bothNames, tarEntry('n', '[]')), /both a PAX and a GNU long name/);
    const two = tarEntry('p', paxRecord('path', 'a'), 'x');
    await refused(tarOf(two, two, tarEntry('n', '[]')), /two PAX headers/);
    await refused(tarOf(tarEntry('p', paxRecord('GNU.sparse.major', '1'), 'x'), m), /sparse/);
    await refused(tarOf(tarEntry('d', 'body', '5'), m), /with a body/);
    // A zero block then more entries: Go fails on it, and the reader must not stop early.
    await refused(
      Buffer.concat([m, Buffer.alloc(512), tags('victim:latest'), Buffer.alloc(1024)]),
      /after an end-of-archive block/,
    );
  });

  it('not for a PAX size that covers what looks like another entry', async () => {
    // The PAX size makes the "manifest.json" header part of the first file's body, as Go reads it.
    const body = tags('victim:latest');
    const pax = tarEntry('p', paxRecord('size', String(body.length)), 'x');
    const holder = tarEntry('holder', '');
    const tar = Buffer.concat([pax, holder, body, tags('decoy:1'), Buffer.alloc(1024)]);
    expect(await tagsIn(tar)).toMatchObject({ known: true, tags: [{ tag: 'decoy:1' }] });
  });
});

describe('archiveTags stays cheap on archives docker save never writes', () => {
  const tags = (t: string) =>
    tarEntry('manifest.json', JSON.stringify([{ Config: `${HEX}.json`, RepoTags: [t] }]));
  const refused = async (bytes: Buffer, why: RegExp) => {
    const err = await tagsIn(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotDockerSave);
    expect((err as Error).message).toMatch(why);
  };
  const longName = (name: string) => tarEntry('././@LongLink', name, 'L');
  /** Large archives go in gzip, which reads faster here than a read per header of a plain tar. */
  const gz = (tar: Buffer) => Buffer.from(Bun.gzipSync(new Uint8Array(tar)));

  it('refuses a name longer than 4096 bytes or deeper than 256 parts', async () => {
    // Checking each parent of this name once took minutes.
    await refused(tarOf(longName('a/'.repeat(200_000)), tarEntry('x', '')), /longer than 4096 bytes/);
    await refused(tarOf(longName('a/'.repeat(257)), tarEntry('x', '')), /more than 256 levels deep/);
    const deep = 'a/'.repeat(255);
    expect(await tagsIn(tarOf(longName(`${deep}f`), tarEntry('x', ''), tags('v:1')))).toMatchObject({
      known: true,
      tags: [{ tag: 'v:1' }],
    });
  });

  it('reads many deep names and many repeats of one name', async () => {
    // 2,000 entries 255 parts deep, then 20,000 files and 20,000 repeats of one name (once 71 s).
    const deep = 'd/'.repeat(254);
    const entries: Buffer[] = [];
    for (let i = 0; i < 2000; i++) entries.push(longName(`${deep}f${i}`), tarEntry('x', ''));
    for (let i = 0; i < 20_000; i++) entries.push(tarEntry(`f${i}`, ''));
    const again = tarEntry('d', '');
    for (let i = 0; i < 20_000; i++) entries.push(again);
    expect(await tagsIn(gz(tarOf(...entries, CONFIG_ENTRY, tags('v:1'))))).toEqual({
      known: true,
      tags: [{ tag: 'v:1', id: `sha256:${HEX}` }],
    });
  });

  it('refuses more than 100,000 entries', async () => {
    const one = tarEntry('f', '');
    await refused(gz(tarOf(...Array.from({ length: 100_001 }, () => one))), /more than 100000 entries/);
  });

  it('refuses names that add up past 16 MiB, each within the per-name limit', async () => {
    // 4,200 entries named through a GNU long-name record of 4,007 bytes each: 16.05 MiB of names.
    const named = (i: number) => [
      tarEntry('././@LongLink', `${String(i).padStart(6, '0')}/${'x'.repeat(4000)}`, 'L'),
      tarEntry('f', ''),
    ];
    const archive = tarOf(...Array.from({ length: 4200 }, (_, i) => named(i)).flat());
    await refused(gz(archive), /names add up to more than 16 MiB/);
  });

  it('refuses a PAX size no file has, or a body past the end of the file', async () => {
    const paxRecord = (key: string, value: string) => {
      const rest = ` ${key}=${value}\n`;
      let n = rest.length + 1;
      while (`${n}${rest}`.length !== n) n++;
      return `${n}${rest}`;
    };
    for (const size of ['9'.repeat(400), '9007199254740993', String(2 ** 51)])
      await refused(
        tarOf(tarEntry('p', paxRecord('size', size), 'x'), tarEntry('big', ''), tags('v:1')),
        /larger than any file/,
      );
    const past = tarOf(tarEntry('p', paxRecord('size', String(2 ** 40)), 'x'), tarEntry('big', ''));
    await refused(past, /truncated/);
  });
});

describe('archiveTags notices a cancel or a read error inside a gzip stream', () => {
  it('stops skipping a large body once the call is cancelled', async () => {
    const ac = new AbortController();
    let sent = 0;
    async function* chunks() {
      for (; sent < 10_000; sent++) {
        if (sent === 10) ac.abort();
        yield Buffer.alloc(65_536);
      }
    }
    const err = await streamReader(chunks(), ac.signal)
      .skip(10_000 * 65_536)
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(sent).toBeLessThan(20);
  });

  it('cannot tell, rather than waiting forever, when reading the file fails midway', async () => {
    const gz = Buffer.from(Bun.gzipSync(new Uint8Array(tarOf(tarEntry('big', Buffer.alloc(1_000_000))))));
    let calls = 0;
    const handle = {
      async read(buf: Buffer, off: number, len: number, at: number) {
        if (++calls > 2) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
        const n = gz.copy(buf, off, at, Math.min(at + len, 100));
        return { bytesRead: n, buffer: buf };
      },
    } as unknown as FileHandle;
    expect(await archiveTags(handle)).toEqual({ known: false, why: 'its gzip stream cannot be read here' });
  });
});

describe('archiveTags reads header numbers as Go does', () => {
  it('trims NULs and spaces on both sides of an octal size before reading it', async () => {
    // Size written as "\0\0\0 0001000 ": a reader stopping at the first NUL would read 0 and take the
    // body (a manifest.json header) for the next entry.
    const hidden = tarEntry('manifest.json', JSON.stringify([{ RepoTags: ['victim:latest'] }]));
    const holder = tarEntry('holder', Buffer.alloc(hidden.length));
    holder.write(`\0\0\0 ${hidden.length.toString(8).padStart(7, '0')} `, 124, 'latin1');
    holder.fill(' ', 148, 156);
    let sum = 0;
    for (const b of holder.subarray(0, 512)) sum += b;
    holder.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    hidden.copy(holder, 512);
    const tar = tarOf(holder, tarEntry('manifest.json', JSON.stringify([{ RepoTags: ['decoy:1'] }])));
    expect(await tagsIn(tar)).toMatchObject({ known: true, tags: [{ tag: 'decoy:1' }] });
  });
});

describe('archiveTags takes for gzip what the engine does', () => {
  it('reads a plain tar whose first name starts with gzip magic but not the deflate method', async () => {
    const first = tarEntry('xx', 'x');
    first[0] = 0x1f;
    first[1] = 0x8b;
    first.fill(' ', 148, 156);
    let sum = 0;
    for (const b of first.subarray(0, 512)) sum += b;
    first.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    const m = tarEntry('manifest.json', JSON.stringify([{ RepoTags: ['victim:latest'] }]));
    expect(await tagsIn(tarOf(first, m))).toEqual({ known: true, tags: [{ tag: 'victim:latest' }] });
  });

  it('cannot tell for a gzip stream it cannot read', async () => {
    const gz = Buffer.from(Bun.gzipSync(tarOf(LAYER)));
    gz.fill(0xff, 20, 60);
    expect(await tagsIn(gz)).toEqual({ known: false, why: 'its gzip stream cannot be read here' });
  });
});
