/**
 * The MCP Registry entry. server.json is generated with the real sha256 of each bundle and checked against
 * ServerJson, our TypeBox transcription of the registry's documented fields (no npm package publishes the
 * schema; see packaging/server-json.ts). First on stand-in bundles (runs anywhere), then the release's own
 * server.json against the bundles and npm package beside it (CI).
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Of } from '../../packaging/archive.ts';
import { bundleName, MCPB_TARGETS } from '../../packaging/mcpb.ts';
import { MCP_NAME } from '../../packaging/npm.ts';
import { serverJson, serverJsonProblem, writeServerJson } from '../../packaging/server-json.ts';
import { RELEASE_DIR, RELEASE_REQUIRED } from './release-dir.ts';

const work = mkdtempSync(join(tmpdir(), 'mcpt-server-json-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('server.json', () => {
  it('carries the sha256 of every bundle and matches the documented fields', async () => {
    for (const t of MCPB_TARGETS) writeFileSync(join(work, bundleName(t, '1.2.3')), `bundle for ${t.name}`);
    const written = JSON.parse(readFileSync(await writeServerJson(work, '1.2.3'), 'utf8'));
    expect(serverJsonProblem(written)).toBeUndefined();
    expect(written.name).toBe(MCP_NAME);
    const mcpb = written.packages.filter((p: { registryType: string }) => p.registryType === 'mcpb');
    expect(mcpb).toHaveLength(MCPB_TARGETS.length);
    for (const t of MCPB_TARGETS) {
      const name = bundleName(t, '1.2.3');
      const entry = mcpb.find((p: { identifier: string }) => p.identifier.endsWith(`/v1.2.3/${name}`));
      expect(entry?.fileSha256).toBe(sha256Of(join(work, name)));
    }
    expect(written.packages.map((p: { registryType: string }) => p.registryType)).toContain('oci');
    expect(written.packages.find((p: { registryType: string }) => p.registryType === 'npm')).toMatchObject({
      identifier: 'mcp-docker',
      version: '1.2.3',
    });
  });

  it('refuses what the registry documents as invalid', () => {
    const good = serverJson(work, '1.2.3');
    expect(serverJsonProblem({ ...good, description: 'x'.repeat(101) })).toContain('/description');
    expect(serverJsonProblem({ ...good, name: 'no-slash' })).toContain('/name');
    expect(serverJsonProblem({ ...good, version: '^1.2.3' })).toContain('/version');
    const [npm, first, ...rest] = good.packages;
    expect(
      serverJsonProblem({ ...good, packages: [npm, { ...first, fileSha256: 'abc' }, ...rest] }),
    ).toContain('/packages/1');
  });

  it('cannot be written while a bundle is missing', async () => {
    rmSync(join(work, bundleName(MCPB_TARGETS[0] as (typeof MCPB_TARGETS)[number], '1.2.3')));
    await expect(writeServerJson(work, '1.2.3')).rejects.toThrow('server.json needs');
  });
});

const RELEASE_JSON = join(RELEASE_DIR, 'server.json');
describe.skipIf(!existsSync(RELEASE_JSON) && !RELEASE_REQUIRED)(`the release's ${RELEASE_JSON}`, () => {
  it('describes this release: its npm version and the sha256 of the bundles beside it', () => {
    const json = JSON.parse(readFileSync(RELEASE_JSON, 'utf8'));
    expect(serverJsonProblem(json)).toBeUndefined();
    const launcher = JSON.parse(readFileSync(join(RELEASE_DIR, 'npm/mcp-docker/package.json'), 'utf8'));
    expect(launcher.mcpName).toBe(json.name);
    expect(json.version).toBe(launcher.version);
    for (const p of json.packages as { registryType: string; identifier: string; fileSha256?: string }[]) {
      if (p.registryType !== 'mcpb') continue;
      const file = join(RELEASE_DIR, p.identifier.split('/').at(-1) as string);
      expect(p.fileSha256).toBe(sha256Of(file));
    }
  });
});
