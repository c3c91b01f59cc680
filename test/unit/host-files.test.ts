/**
 * Files on the server's host, as the tools that read and write them open them: a FIFO never blocks, a
 * file too large is refused, and a directory opened once is written through whatever its path becomes.
 * Real files in a temp dir; the policy's default roots (the temp dir among them).
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolError } from '../../src/core/errors.ts';
import { openHostDir, openHostFile, readHostFile } from '../../src/docker/host-files.ts';
import { withPolicy } from '../../src/docker/policy/scope.ts';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'mcp-host-files-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const engine = {
  resolveFacts: async () => ({ sharesFilesystem: true, socketPaths: [], dataRoot: '/var/lib/docker' }),
};
const policy = { allowPrivileged: false, mountAllowlist: [], mountBlocklist: [] };
const inPolicy = <T>(fn: () => Promise<T>) =>
  withPolicy(policy, { home: '/nonexistent-home', tmpDir: tmpdir() }, fn);
const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof ToolError) return `${e.kind}: ${e.message}`;
    throw e;
  }
};

describe('reading a host file', () => {
  it('reads a regular file, and answers undefined for a missing one', async () => {
    writeFileSync(join(base, 'a.env'), 'A=1\n');
    expect(
      (await inPolicy(() => readHostFile(engine, join(base, 'a.env'), 'env_file', 1024)))?.toString(),
    ).toBe('A=1\n');
    expect(await inPolicy(() => readHostFile(engine, join(base, 'none'), 'env_file', 1024))).toBeUndefined();
  });

  it('refuses a FIFO without waiting for a writer, a directory, and a file over the limit', async () => {
    execFileSync('mkfifo', [join(base, 'pipe')]);
    mkdirSync(join(base, 'dir'));
    writeFileSync(join(base, 'big'), 'x'.repeat(2048));
    expect(await refusal(inPolicy(() => readHostFile(engine, join(base, 'pipe'), '.env', 1024)))).toContain(
      'is not a regular file (a FIFO, a socket or a device)',
    );
    expect(
      await refusal(inPolicy(() => readHostFile(engine, join(base, 'dir'), 'files[0]', 1024))),
    ).toContain('is a directory');
    expect(
      await refusal(inPolicy(() => readHostFile(engine, join(base, 'big'), 'env_file', 1024))),
    ).toContain('is 2048 bytes, over the 1024 this server reads');
  });

  it('refuses a path outside the roots before opening it, and a symlink that leads there', async () => {
    symlinkSync('/etc/hostname', join(base, 'link'));
    expect(await refusal(inPolicy(() => openHostFile(engine, '/etc/hostname', 'path')))).toMatch(
      /^policy_denied/,
    );
    expect(await refusal(inPolicy(() => openHostFile(engine, join(base, 'link'), 'path')))).toMatch(
      /^policy_denied: .*resolving to '\/etc\/hostname'/,
    );
  });
});

describe('a host directory opened once', () => {
  it('is written through its descriptor after its path was swapped for a symlink', async () => {
    const dir = join(base, 'out');
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(dir);
    mkdirSync(elsewhere);
    const opened = await openHostDir(dir, async () => {
      throw new Error('judged: the path was not swapped before it was opened');
    });
    try {
      renameSync(dir, `${dir}.moved`);
      symlinkSync(elsewhere, dir);
      writeFileSync(opened.at('file.tar'), 'tar');
    } finally {
      await opened.close();
    }
    expect(readFileSync(`${dir}.moved/file.tar`, 'utf8')).toBe('tar');
    expect(() => readFileSync(join(elsewhere, 'file.tar'))).toThrow();
  });

  it('is judged again where it really is when its path led elsewhere, and refused as the judge says', async () => {
    const real = join(base, 'judged');
    mkdirSync(real);
    symlinkSync(real, join(base, 'judged-link'));
    const asked: string[] = [];
    const refused = new ToolError('policy_denied', 'not there');
    const judge = async (at: string) => {
      asked.push(at);
      throw refused;
    };
    expect(await openHostDir(join(base, 'judged-link'), judge).catch((e) => e)).toBe(refused);
    expect(asked).toEqual([real]);
  });
});
