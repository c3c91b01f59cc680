/**
 * build-info.json decides whether the test runner drives the end-to-end suite against the release artifact
 * for this host or builds dist/mcp-docker: only a build of exactly these sources, this Bun and this version,
 * with its binary untouched, counts as current.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentHostBinary, sourceDigest, writeBuildInfo } from '../../packaging/build-info.ts';
import { TARGETS, type Target } from '../../packaging/targets.ts';

const host = TARGETS.find((t) => t.name === 'linux-x64') as Target;
const arm = TARGETS.find((t) => t.name === 'linux-arm64') as Target;
let root: string; // a source tree
let dir: string; // its all-target build

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mcpt-build-info-'));
  dir = join(root, 'dist/release');
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(root, 'src/main.ts'), 'console.log(1);\n');
  writeFileSync(join(root, 'package.json'), '{}\n');
  writeFileSync(join(dir, 'mcp-docker-linux-x64'), 'binary');
  writeBuildInfo(dir, '1.2.3', sourceDigest(root), host);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('currentHostBinary', () => {
  it("is this host's binary for the same sources, Bun and version", () => {
    expect(currentHostBinary(dir, host, '1.2.3', root)).toEqual({ path: join(dir, 'mcp-docker-linux-x64') });
  });

  it('is stale once a source changes, appears or goes', () => {
    writeFileSync(join(root, 'src/main.ts'), 'console.log(2);\n');
    expect(currentHostBinary(dir, host, '1.2.3', root)).toEqual({
      reason: 'the sources or Bun changed since it was built',
    });
    writeFileSync(join(root, 'src/main.ts'), 'console.log(1);\n');
    writeFileSync(join(root, 'src/new.ts'), '');
    expect(currentHostBinary(dir, host, '1.2.3', root)).toHaveProperty('reason');
  });

  it('is stale for another version, another host or a binary changed after the build', () => {
    expect(currentHostBinary(dir, host, '1.2.4', root)).toEqual({
      reason: 'it is version 1.2.3, this build would be 1.2.4',
    });
    expect(currentHostBinary(dir, arm, '1.2.3', root)).toEqual({
      reason: 'it was built on linux-x64, not this host',
    });
    writeFileSync(join(dir, 'mcp-docker-linux-x64'), 'patched');
    expect(currentHostBinary(dir, host, '1.2.3', root)).toEqual({
      reason: 'mcp-docker-linux-x64 is missing or changed since the build',
    });
  });

  it('is absent without build-info.json (a build from before it, or none)', () => {
    rmSync(join(dir, 'build-info.json'));
    expect(currentHostBinary(dir, host, '1.2.3', root)).toEqual({ reason: `no build-info.json in ${dir}` });
  });
});
