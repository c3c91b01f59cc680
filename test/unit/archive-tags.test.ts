import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveTags } from '../../src/tools/images/archive-tags.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-archive-tags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One tar entry: a ustar header (checksum filled in) and its body padded to 512 bytes. */
function entry(name: string, body: string | Buffer, type = '0'): Buffer {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0);
  h.write('0000644\0', 100);
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
const tarOf = (...entries: Buffer[]) => Buffer.concat([...entries, Buffer.alloc(1024)]);
const HEX = 'ab'.repeat(32);
const LAYER = entry('0123/layer.tar', Buffer.alloc(3000, 7));

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
    entry('manifest.json', JSON.stringify([{ Config: config, RepoTags: tags, Layers: [] }]));

  it('reads RepoTags with the image ID from manifest.json, after skipping layer bodies', async () => {
    expect(await tagsIn(tarOf(LAYER, manifest(`${HEX}.json`, ['a/b:1', 'c:2'])))).toEqual({
      known: true,
      tags: [
        { tag: 'a/b:1', id: `sha256:${HEX}` },
        { tag: 'c:2', id: `sha256:${HEX}` },
      ],
    });
    expect(await tagsIn(tarOf(manifest(`blobs/sha256/${HEX}`, ['x:y'])))).toEqual({
      known: true,
      tags: [{ tag: 'x:y', id: `sha256:${HEX}` }],
    });
  });

  it('finds manifest.json under a PAX path and reads a gzip archive', async () => {
    const pax = entry('PaxHeaders/x', '21 path=manifest.json\n', 'x');
    const named = entry('placeholder', JSON.stringify([{ Config: `${HEX}.json`, RepoTags: ['p:q'] }]));
    expect(await tagsIn(tarOf(LAYER, pax, named))).toMatchObject({ tags: [{ tag: 'p:q' }] });
    const gz = Buffer.from(Bun.gzipSync(tarOf(LAYER, manifest(`${HEX}.json`, ['g:z']))));
    expect(await tagsIn(gz)).toMatchObject({ known: true, tags: [{ tag: 'g:z' }] });
  });

  it('an image saved by ID sets no tag', async () => {
    expect(await tagsIn(tarOf(manifest(`${HEX}.json`, null)))).toEqual({ known: true, tags: [] });
  });

  it('reads legacy `repositories` tags without an ID', async () => {
    const repos = entry('repositories', JSON.stringify({ old: { v1: '0123' } }));
    expect(await tagsIn(tarOf(LAYER, repos))).toEqual({ known: true, tags: [{ tag: 'old:v1' }] });
  });

  it('cannot tell for other compressions or a tar without metadata; a non-archive sets nothing', async () => {
    const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(600)]);
    expect(await tagsIn(xz)).toEqual({ known: false, why: 'it is xz-compressed' });
    expect((await tagsIn(tarOf(LAYER))).known).toBe(false);
    expect(await tagsIn(Buffer.from('not a tar at all\n'.repeat(100)))).toEqual({ known: true, tags: [] });
  });
});
