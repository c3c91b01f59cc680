import { afterAll, beforeEach, describe, expect, it } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolError } from '../../src/core/errors.ts';
import { type ContextEntry, listContext, openContext, packContext } from '../../src/docker/build-context.ts';
import { sentDockerfile } from '../../src/docker/dockerfile.ts';
import { type TarEntry, TarReader } from '../../src/docker/tar.ts';

const signal = () => new AbortController().signal;
const base = mkdtempSync(join(tmpdir(), 'mcp-ctx-'));
const servers: Server[] = [];
let dir = '';
let n = 0;

beforeEach(() => {
  dir = join(base, String(n++));
  mkdirSync(dir);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
});
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(base, { recursive: true, force: true });
});

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as ToolError;
  }
  throw new Error('listContext accepted the context');
};

const socketAt = (path: string) =>
  new Promise<void>((resolve) => {
    const s = createServer().listen(path, () => resolve());
    servers.push(s);
  });

/** Packs entries and reads the archive back; `failure` is what packing reported. */
async function pack(entries: ContextEntry[]) {
  let failure: ToolError | undefined;
  const stream = packContext(
    dir,
    entries,
    (e) => {
      failure = e;
    },
    signal(),
  );
  const seen: (TarEntry & { data: string })[] = [];
  const reader = new TarReader((e) => {
    const item = { ...e, data: '' };
    seen.push(item);
    return (d) => {
      item.data += d.toString();
    };
  });
  for await (const chunk of stream) reader.push(chunk as Buffer);
  return { seen, failure, ended: reader.done };
}

describe('listContext', () => {
  it('refuses a FIFO, naming it and saying what to do, without opening it', async () => {
    mkdirSync(join(dir, 'sub'));
    execFileSync('mkfifo', [join(dir, 'sub', 'pipe')]);
    const e = await refusal(listContext(dir, signal()));
    expect(e).toBeInstanceOf(ToolError);
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("'sub/pipe'");
    expect(e.message).toContain('FIFO');
    expect(e.hint).toContain('.dockerignore');
  });

  it('refuses a unix socket', async () => {
    await socketAt(join(dir, 'app.sock'));
    const e = await refusal(listContext(dir, signal()));
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("'app.sock'");
    expect(e.message).toContain('socket');
  });

  it('refuses a device node', async () => {
    symlinkSync('/dev/null', join(dir, 'null-link')); // a symlink to a device is fine: it is not followed
    expect((await listContext(dir, signal())).map((x) => x.path).sort()).toEqual(['Dockerfile', 'null-link']);
    execFileSync('mknod', [join(dir, 'null'), 'c', '1', '3']);
    const e = await refusal(listContext(dir, signal()));
    expect(e.message).toContain("'null'");
    expect(e.message).toContain('device node');
  });

  it('refuses a name that is not valid UTF-8, showing its bytes', async () => {
    const name = Buffer.concat([Buffer.from('bad-'), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]);
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), 'x');
    const e = await refusal(listContext(dir, signal()));
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain("'bad-\\xff\\xfe.txt'");
    expect(e.message).toContain('not valid UTF-8');
  });

  it('accepts all of them once .dockerignore leaves them out', async () => {
    mkdirSync(join(dir, 'run'));
    execFileSync('mkfifo', [join(dir, 'run', 'pipe')]);
    await socketAt(join(dir, 'run', 'app.sock'));
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/run/`), Buffer.from([0xc3, 0x28])]), 'x');
    writeFileSync(join(dir, 'run', 'keep.txt'), 'kept');
    writeFileSync(join(dir, '.dockerignore'), 'run\n!run/keep.txt\n');
    const entries = await listContext(dir, signal());
    expect(entries.map((x) => x.path).sort()).toEqual(['.dockerignore', 'Dockerfile', 'run/keep.txt']);
  });

  it('lists files, symlinks (not followed) and empty directories', async () => {
    mkdirSync(join(dir, 'empty'));
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    writeFileSync(join(dir, 'a/b/c.txt'), 'c');
    symlinkSync('/etc', join(dir, 'etc-link'));
    const entries = await listContext(dir, signal());
    expect(entries.sort((x, y) => (x.path < y.path ? -1 : 1))).toEqual([
      { path: 'Dockerfile', kind: 'file' },
      { path: 'a/b/c.txt', kind: 'file' },
      { path: 'empty', kind: 'dir' },
      { path: 'etc-link', kind: 'symlink' },
    ]);
  });
});

describe('packContext', () => {
  it('writes a tar the reader reads back: data, modes, symlink targets, long names', async () => {
    const long = `${'d'.repeat(80)}/${'f'.repeat(120)}.txt`;
    mkdirSync(join(dir, 'd'.repeat(80)));
    writeFileSync(join(dir, long), 'long');
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(200_000, 7));
    writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync(`/${'t'.repeat(150)}`, join(dir, 'far'));
    mkdirSync(join(dir, 'empty'));
    const { seen, failure, ended } = await pack(await listContext(dir, signal()));
    expect(failure).toBeUndefined();
    expect(ended).toBe(true);
    const by = Object.fromEntries(seen.map((e) => [e.name, e]));
    expect(by[long]?.data).toBe('long');
    expect(by['big.bin']?.size).toBe(200_000);
    expect(by['big.bin']?.data.length).toBe(200_000);
    expect(by['run.sh']?.mode).toBe(0o755);
    expect(by.far).toMatchObject({ type: 'symlink', linkname: `/${'t'.repeat(150)}` });
    expect(by['empty/']?.type).toBe('dir');
    expect(by.Dockerfile?.data).toBe('FROM scratch\nCOPY . /\n');
  });

  it('reports a file swapped for a FIFO after the check, without blocking on it', async () => {
    writeFileSync(join(dir, 'later'), 'x');
    const entries = await listContext(dir, signal());
    unlinkSync(join(dir, 'later'));
    execFileSync('mkfifo', [join(dir, 'later')]);
    const { failure } = await pack(entries);
    expect(failure?.kind).toBe('invalid_argument');
    expect(failure?.message).toContain("'later'");
    expect(failure?.message).toContain('no longer a regular file');
  });

  it('reports a file that vanished after the check', async () => {
    writeFileSync(join(dir, 'gone'), 'x');
    const entries = await listContext(dir, signal());
    unlinkSync(join(dir, 'gone'));
    const { failure } = await pack(entries);
    expect(failure?.message).toContain("'gone', which cannot be read (ENOENT)");
    expect(failure?.hint).toContain('.dockerignore');
  });
});

describe('openContext and the Dockerfile it sends', () => {
  /** The archive a context stream carries. */
  async function entriesOf(stream: NodeJS.ReadableStream) {
    const seen: (TarEntry & { data: string })[] = [];
    const reader = new TarReader((e) => {
      const item = { ...e, data: '' };
      seen.push(item);
      return (d) => {
        item.data += d.toString();
      };
    });
    for await (const chunk of stream) reader.push(chunk as Buffer);
    return seen;
  }

  it('sends the Dockerfile bytes it read, even if the file changes after, and makes them known to the guard', async () => {
    const opened = await openContext(dir, signal(), undefined, './Dockerfile');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nADD http://127.0.0.1/x /x\n');

    const sent = await entriesOf(opened.stream);

    expect(sent.find((e) => e.name === 'Dockerfile')?.data).toBe('FROM scratch\nCOPY . /\n');
    expect(opened.dockerfile).toBe('FROM scratch\nCOPY . /\n');
    expect(sentDockerfile(opened.stream)).toEqual({ name: 'Dockerfile', text: 'FROM scratch\nCOPY . /\n' });
    expect(sentDockerfile({})).toBeUndefined();
  });

  it('sends the Dockerfile even when .dockerignore leaves it out, as the docker CLI does', async () => {
    writeFileSync(join(dir, '.dockerignore'), 'Dockerfile\n');
    const sent = await entriesOf((await openContext(dir, signal())).stream);
    expect(sent.map((e) => e.name)).toContain('Dockerfile');
  });

  it('refuses a Dockerfile that is a symlink, missing, or outside the context', async () => {
    writeFileSync(join(dir, 'real.df'), 'FROM scratch\n');
    symlinkSync('real.df', join(dir, 'link.df'));
    for (const [name, why] of [
      ['link.df', 'symlink'],
      ['absent.df', 'is not a file in the context'],
      ['../Dockerfile', 'not inside the context'],
      ['sub/../../Dockerfile', 'not inside the context'],
      ['/Dockerfile', 'not inside the context'],
    ] as const) {
      const err = await refusal(openContext(dir, signal(), undefined, name));
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain(`'dockerfile': '${name}' `);
      expect(err.message).toContain(why);
    }
  });

  it('takes a name that stays inside the context, as the engine does, and gives the name it sent', async () => {
    const opened = await openContext(dir, signal(), undefined, 'sub/../Dockerfile');
    expect(opened.dockerfileName).toBe('Dockerfile');
    expect(sentDockerfile(opened.stream)?.name).toBe('Dockerfile');
    opened.stream.destroy();
  });

  it("words a refusal for the caller's argument, naming where it looked", async () => {
    const err = await refusal(
      openContext(
        dir,
        signal(),
        '/shown/ctx',
        'absent.df',
        (why, hint) => new ToolError('invalid_argument', `build: dockerfile ${why}`, { hint }),
      ),
    );
    expect(err.message).toBe('build: dockerfile is not a file in /shown/ctx');
  });
});
