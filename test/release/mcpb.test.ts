/**
 * The MCP bundles `bun build.ts --all` writes (<release>/mcp-docker_<v>_<os>_<arch>.mcpb): each one,
 * unpacked with the official mcpb CLI, has a manifest that CLI validates, for its platform, whose binary
 * is that target's release binary. This host's bundle is then started the way Claude Desktop starts it
 * (`${__dirname}` and `${user_config.*}` substituted into mcp_config): it answers initialize, and the
 * user's settings reach it (read-only on: only read-only tools listed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleName, MCPB_CLI, MCPB_TARGETS, USER_CONFIG_ENV } from '../../packaging/mcpb.ts';
import { binaryName, hostTarget, type Target } from '../../packaging/targets.ts';
import { RELEASE_DIR, RELEASE_REQUIRED, sh } from './release-dir.ts';
import { initialize, startStdio } from './stdio.ts';

const host = hostTarget();
const work = mkdtempSync(join(tmpdir(), 'mcpt-mcpb-'));
const versionOf = () =>
  JSON.parse(readFileSync(join(RELEASE_DIR, 'npm/mcp-docker/package.json'), 'utf8')).version as string;
const HAVE_BUNDLES =
  existsSync(join(RELEASE_DIR, 'npm/mcp-docker/package.json')) &&
  MCPB_TARGETS.some((t) => existsSync(join(RELEASE_DIR, bundleName(t, versionOf()))));
let version: string;

interface Manifest {
  server: {
    entry_point: string;
    mcp_config: { command: string; args: string[]; env: Record<string, string> };
  };
  compatibility: { platforms: string[] };
  user_config: Record<string, { type: string; default?: unknown }>;
}

async function unpack(t: Target): Promise<{ dir: string; manifest: Manifest }> {
  const dir = join(work, t.name);
  const r = await sh(['node', MCPB_CLI, 'unpack', join(RELEASE_DIR, bundleName(t, version)), dir]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return { dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) };
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!HAVE_BUNDLES && !RELEASE_REQUIRED)(`MCP bundles in ${RELEASE_DIR}`, () => {
  beforeAll(() => {
    if (!HAVE_BUNDLES)
      throw new Error(`no .mcpb in ${RELEASE_DIR}: run \`bun build.ts --all\` first (.ci/run does)`);
    version = versionOf();
  });

  for (const t of MCPB_TARGETS)
    it(`${t.name}: validates, is for its platform and holds its release binary`, async () => {
      const file = join(RELEASE_DIR, bundleName(t, version));
      // A host-only build (bun build.ts --mcpb) has this host's bundle; a release has every one.
      if (!existsSync(file) && !RELEASE_REQUIRED && t !== host) return;
      const { dir, manifest } = await unpack(t);
      const valid = await sh(['node', MCPB_CLI, 'validate', join(dir, 'manifest.json')]);
      expect(valid.code, valid.stdout + valid.stderr).toBe(0);
      expect(manifest.compatibility.platforms).toEqual([t.os === 'windows' ? 'win32' : t.os]);
      expect(manifest.server.mcp_config.command).toBe(`\${__dirname}/${manifest.server.entry_point}`);
      expect(readFileSync(join(dir, manifest.server.entry_point))).toEqual(
        readFileSync(join(RELEASE_DIR, binaryName(t))),
      );
      // The settings a desktop user changes, each passed on as the variable our config reads.
      expect(Object.keys(manifest.user_config).sort()).toEqual(Object.keys(USER_CONFIG_ENV).sort());
      for (const [key, env] of Object.entries(USER_CONFIG_ENV))
        expect(manifest.server.mcp_config.env[env]).toBe(`\${user_config.${key}}`);
    });

  it('this host’s bundle, started as Claude Desktop starts it, answers initialize with the user’s settings', async () => {
    if (!host || !MCPB_TARGETS.includes(host)) throw new Error(`no bundle is made for ${host?.name}`);
    const { dir, manifest } = await unpack(host);
    const userConfig: Record<string, string> = {
      docker_host: process.env.DOCKER_HOST ?? '',
      read_only: 'true',
      allow_destructive: 'true',
      confirm: 'all',
      confirm_fallback: 'refuse',
    };
    const fill = (s: string) =>
      s
        .replace(/\$\{__dirname\}/g, dir)
        .replace(/\$\{user_config\.(\w+)\}/g, (_m, k: string) => userConfig[k] ?? '');
    const { command, args, env } = manifest.server.mcp_config;
    const server = startStdio([fill(command), ...args.map(fill)], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: work,
        ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fill(v)])),
      },
    });
    expect(await initialize(server)).toMatchObject({ name: 'mcp-docker', version });
    const listed = await server.request('tools/list');
    const tools = (listed.result as { tools: { name: string; annotations?: { readOnlyHint?: boolean } }[] })
      .tools;
    expect(tools.length).toBeGreaterThan(0);
    // read_only wins over allow_destructive: every tool offered is read-only.
    expect(tools.filter((tool) => tool.annotations?.readOnlyHint !== true).map((tool) => tool.name)).toEqual(
      [],
    );
    server.child.stdin?.end();
    expect((await server.exited).code).toBe(0);
    expect(server.strays).toEqual([]);
  }, 30_000);
});
