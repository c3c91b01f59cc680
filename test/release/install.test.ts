/**
 * install.sh end to end on this host: offline from the release archives (the all-target build when
 * present, else an archive made here from the test binary), refusals (corrupted archive, unlisted
 * archive, another platform's archive), and online mode against a loopback release server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeArchive, writeChecksums } from '../../packaging/archive.ts';
import { archiveName, hostTarget } from '../../packaging/targets.ts';
import { SERVER_BIN } from '../helpers/client.ts';
import { HAVE_RELEASE, RELEASE_DIR, RELEASE_REQUIRED, requireRelease, sh } from './release-dir.ts';

const INSTALL_SH = resolve('install.sh');
const work = mkdtempSync(join(tmpdir(), 'mcpt-install-'));
let dir: string; // holds the archives and checksums.txt
let version: string;
let archive: string; // this host's archive name

const install = (args: string[], env: Record<string, string> = {}, cwd?: string) =>
  sh(['sh', INSTALL_SH, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: join(work, 'home'), ...env },
    cwd,
  });
const prefix = (name: string) => join(work, name);

beforeAll(async () => {
  if (RELEASE_REQUIRED) requireRelease();
  const target = hostTarget();
  if (!target) throw new Error(`no release target for ${process.platform}/${process.arch}`);
  if (HAVE_RELEASE) {
    dir = RELEASE_DIR;
    const suffix = archiveName(target, '').slice('mcp-docker_'.length); // _linux_x64.tar.gz, _linux_x64_musl.tar.gz
    const line = readFileSync(join(dir, 'checksums.txt'), 'utf8')
      .split('\n')
      .find((l) => l.endsWith(suffix));
    archive = line?.split(/\s+/)[1] ?? '';
    version = archive.slice('mcp-docker_'.length, -suffix.length);
  } else {
    // No all-target build: package the test binary the same way build.ts does.
    dir = join(work, 'release');
    mkdirSync(dir);
    version = (await sh([resolve(SERVER_BIN), '--version'])).stdout.trim().replace('mcp-docker ', '');
    archive = (await writeArchive(target, resolve(SERVER_BIN), version, dir)).split('/').at(-1) as string;
    writeChecksums(dir);
  }
  expect(archive).toMatch(/^mcp-docker_.+_linux_(x64|arm64)(_musl)?\.tar\.gz$/);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('install.sh offline (--archive, --checksums)', () => {
  it('installs the verified binary into PREFIX/bin and prints its version', async () => {
    const r = await install([
      '--archive',
      join(dir, archive),
      '--checksums',
      join(dir, 'checksums.txt'),
      '--prefix',
      prefix('ok'),
    ]);
    expect(r.stderr).toContain(`installed mcp-docker ${version} to ${prefix('ok')}/bin/mcp-docker`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`mcp-docker ${version}\n`);
    expect((await sh([join(prefix('ok'), 'bin/mcp-docker'), '--version'])).stdout).toBe(
      `mcp-docker ${version}\n`,
    );
  });

  it('refuses a corrupted archive and installs nothing', async () => {
    const bad = join(work, 'corrupt');
    mkdirSync(bad, { recursive: true });
    copyFileSync(join(dir, archive), join(bad, archive));
    const bytes = readFileSync(join(bad, archive));
    bytes[4096] = (bytes[4096] ?? 0) ^ 0xff;
    writeFileSync(join(bad, archive), bytes);
    const r = await install([
      '--archive',
      join(bad, archive),
      '--checksums',
      join(dir, 'checksums.txt'),
      '--prefix',
      prefix('bad'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`checksum mismatch for ${archive}`);
    expect(r.stderr).toContain('Nothing was installed');
    expect(existsSync(prefix('bad'))).toBe(false);
  });

  it('refuses an archive checksums.txt does not list', async () => {
    const sums = join(work, 'other-checksums.txt');
    writeFileSync(sums, `${'0'.repeat(64)}  mcp-docker_${version}_darwin_arm64.tar.gz\n`);
    const r = await install([
      '--archive',
      join(dir, archive),
      '--checksums',
      sums,
      '--prefix',
      prefix('unlisted'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${archive} is not listed in ${sums}`);
    expect(existsSync(prefix('unlisted'))).toBe(false);
  });

  it("refuses another platform's archive, naming the one to use", async () => {
    const other = join(work, `mcp-docker_${version}_darwin_arm64.tar.gz`);
    copyFileSync(join(dir, archive), other);
    const r = await install([
      '--archive',
      other,
      '--checksums',
      join(dir, 'checksums.txt'),
      '--prefix',
      prefix('x'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not built for this host (linux_');
  });

  it('installs a browser’s renamed copy (“… (1).tar.gz”) and takes checksums.txt with CRLF line ends', async () => {
    const copies = join(work, 'copies');
    mkdirSync(copies, { recursive: true });
    const renamed = join(copies, archive.replace(/\.tar\.gz$/, ' (1).tar.gz'));
    copyFileSync(join(dir, archive), renamed);
    const crlf = join(copies, 'checksums.txt');
    writeFileSync(crlf, readFileSync(join(dir, 'checksums.txt'), 'utf8').replace(/\n/g, '\r\n'));
    const r = await install(['--archive', renamed, '--checksums', crlf, '--prefix', prefix('renamed')]);
    expect(r.stderr).toContain(`installed mcp-docker ${version}`);
    expect(r.code).toBe(0);
  }, 30_000);

  it('gives PATH advice with an absolute directory for a relative --prefix', async () => {
    const r = await install(
      ['--archive', join(dir, archive), '--checksums', join(dir, 'checksums.txt'), '--prefix', 'relpfx'],
      {},
      work,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`installed mcp-docker ${version} to ${join(work, 'relpfx/bin')}/mcp-docker`);
    expect(r.stderr).toContain(`export PATH="${join(work, 'relpfx/bin')}:$PATH"`);
  }, 30_000);

  it('needs both --archive and --checksums', async () => {
    const r = await install(['--archive', join(dir, archive)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('offline install needs both --archive FILE and --checksums FILE');
  });

  it('makes no network request at all', async () => {
    let hits = 0;
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => {
        hits++;
        return new Response('no', { status: 500 });
      },
    });
    try {
      const r = await install(
        [
          '--archive',
          join(dir, archive),
          '--checksums',
          join(dir, 'checksums.txt'),
          '--prefix',
          prefix('quiet'),
        ],
        {
          MCP_DOCKER_RELEASE_URL: `http://127.0.0.1:${server.port}`,
        },
      );
      expect(r.code).toBe(0);
      expect(hits).toBe(0);
    } finally {
      server.stop(true);
    }
  });
});

describe('install.sh online (a release server on loopback)', () => {
  let server: ReturnType<typeof Bun.serve>;
  const requests: string[] = [];
  let tamper = false;

  beforeAll(() => {
    // Serves the GitHub release URL layout: latest/download/<file> and download/v<version>/<file>.
    server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        requests.push(path);
        const m = path.match(/^\/(?:latest\/download|download\/v([^/]+))\/([^/]+)$/);
        if (!m || (m[1] !== undefined && m[1] !== version)) return new Response('not found', { status: 404 });
        const file = join(dir, m[2] as string);
        if (!existsSync(file)) return new Response('not found', { status: 404 });
        if (tamper && file.endsWith('.tar.gz')) return new Response(new Uint8Array(1024));
        return new Response(Bun.file(file));
      },
    });
  });
  afterAll(() => server.stop(true));
  const base = () => ({ MCP_DOCKER_RELEASE_URL: `http://127.0.0.1:${server.port}` });

  it('installs the latest release: checksums.txt names the archive, then the archive is verified', async () => {
    requests.length = 0;
    const r = await install(['--prefix', prefix('latest')], base());
    expect(r.stderr).toContain(`downloading http://127.0.0.1:${server.port}/latest/download/${archive}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`mcp-docker ${version}\n`);
    expect(requests).toEqual(['/latest/download/checksums.txt', `/latest/download/${archive}`]);
  });

  it('installs the version asked for, with or without the v', async () => {
    for (const v of [`v${version}`, version]) {
      requests.length = 0;
      const r = await install(['--version', v, '--prefix', prefix('pinned')], base());
      expect(r.code).toBe(0);
      expect(requests).toEqual([`/download/v${version}/checksums.txt`, `/download/v${version}/${archive}`]);
    }
  });

  it('fails clearly for a version that does not exist', async () => {
    const r = await install(['--version', '9.9.9', '--prefix', prefix('missing')], base());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `there is no release v9.9.9 (no http://127.0.0.1:${server.port}/download/v9.9.9/checksums.txt)`,
    );
  });

  it('refuses a download that does not match checksums.txt', async () => {
    tamper = true;
    try {
      const r = await install(['--prefix', prefix('tampered')], base());
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`checksum mismatch for ${archive}`);
      expect(existsSync(join(prefix('tampered'), 'bin/mcp-docker'))).toBe(false);
    } finally {
      tamper = false;
    }
  });
});
