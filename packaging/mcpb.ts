/**
 * MCP bundles (`.mcpb`, Claude Desktop's one-click install), one per desktop platform: a manifest and the
 * binary under server/. Validated and packed with the official `@anthropic-ai/mcpb` CLI (a devDependency;
 * it works offline). `user_config` holds what a desktop user changes, passed to the binary as the
 * environment variables our config reads (an empty value counts as unset):
 *   docker_host → DOCKER_HOST, read_only → MCP_DOCKER_READ_ONLY,
 *   allow_destructive → SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS, confirm → MCP_DOCKER_CONFIRM,
 *   confirm_fallback → MCP_DOCKER_CONFIRM_FALLBACK.
 * The manifest format has no choice list, so the two confirmation settings are strings whose empty
 * default keeps the server's default; a value the server does not know stops it with the accepted ones.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pkg from '../package.json' with { type: 'json' };
import { linkOrCopy } from './npm.ts';
import { binaryName, TARGETS, type Target } from './targets.ts';

const ROOT = resolve(import.meta.dir, '..');
export const MCPB_CLI = join(ROOT, 'node_modules/@anthropic-ai/mcpb/dist/cli/cli.js');

/** The desktop targets a bundle is made for (Claude Desktop runs on glibc Linux, macOS and Windows). */
export const MCPB_TARGETS: readonly Target[] = TARGETS.filter((t) => !t.libc);

/** `mcp-docker_1.2.3_darwin_arm64.mcpb`. */
export const bundleName = (t: Target, version: string) => `mcp-docker_${version}_${t.os}_${t.arch}.mcpb`;

/** user_config key → the environment variable it sets. */
export const USER_CONFIG_ENV = {
  docker_host: 'DOCKER_HOST',
  read_only: 'MCP_DOCKER_READ_ONLY',
  allow_destructive: 'SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS',
  confirm: 'MCP_DOCKER_CONFIRM',
  confirm_fallback: 'MCP_DOCKER_CONFIRM_FALLBACK',
} as const;

export function bundleManifest(t: Target, version: string): Record<string, unknown> {
  const exe = t.os === 'windows' ? 'server/mcp-docker.exe' : 'server/mcp-docker';
  return {
    manifest_version: '0.3',
    name: 'mcp-docker',
    display_name: 'Docker (mcp-docker)',
    version,
    description: pkg.description,
    long_description:
      'Lists, runs, inspects and cleans up containers, images, networks and volumes on your Docker engine, with a safety gate: read-only mode, destructive tools off by default, a container policy that refuses privileged and host-escaping settings, masked secrets and fenced container output.',
    author: { name: 'mcp-docker contributors', url: 'https://github.com/mcp-docker/mcp-docker' },
    repository: { type: 'git', url: 'https://github.com/mcp-docker/mcp-docker' },
    homepage: 'https://github.com/mcp-docker/mcp-docker',
    documentation: 'https://github.com/mcp-docker/mcp-docker#readme',
    license: pkg.license,
    keywords: ['docker', 'containers', 'podman'],
    server: {
      type: 'binary',
      entry_point: exe,
      mcp_config: {
        command: `\${__dirname}/${exe}`,
        args: [],
        env: Object.fromEntries(
          Object.entries(USER_CONFIG_ENV).map(([k, env]) => [env, `\${user_config.${k}}`]),
        ),
      },
    },
    tools_generated: true,
    prompts_generated: true,
    compatibility: { platforms: [t.os === 'windows' ? 'win32' : t.os] },
    user_config: {
      docker_host: {
        type: 'string',
        title: 'Docker engine',
        description:
          'Engine endpoint (unix:///var/run/docker.sock, npipe:////./pipe/docker_engine, tcp://host:2376, ssh://user@host). Leave empty to use the current Docker context, else the default socket (this setting replaces DOCKER_HOST).',
        required: false,
        default: '',
      },
      read_only: {
        type: 'boolean',
        title: 'Read-only',
        description: 'Offer only tools that change nothing (list, inspect, logs, stats).',
        required: false,
        default: false,
      },
      allow_destructive: {
        type: 'boolean',
        title: 'Allow destructive tools',
        description:
          'Allow tools that delete (remove containers, images, volumes, networks; prune). Off by default. Where the app can ask, you are asked before each such call (see the two settings below).',
        required: false,
        default: false,
      },
      confirm: {
        type: 'string',
        title: 'Ask before',
        description:
          'Which calls Claude must ask you about before they run: destructive (the default when empty), all (changes of any kind) or none.',
        required: false,
        default: '',
      },
      confirm_fallback: {
        type: 'string',
        title: 'When it cannot ask',
        description:
          'If the app cannot put the question to you: allow (the default when empty; the call runs, logged as unconfirmed) or refuse.',
        required: false,
        default: '',
      },
    },
  };
}

function mcpb(args: string[]): string {
  if (!existsSync(MCPB_CLI)) throw new Error('the mcpb CLI is missing: run `npm ci` (@anthropic-ai/mcpb)');
  const r = spawnSync('node', [MCPB_CLI, ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`mcpb ${args[0]}: ${r.error.message} (it needs node on PATH)`);
  if (r.status !== 0) throw new Error(`mcpb ${args.join(' ')} failed: ${(r.stdout + r.stderr).trim()}`);
  return r.stdout + r.stderr;
}

/** Validates a manifest with the official CLI; throws with its message when it is not valid. */
export const validateManifest = (manifest: string) => mcpb(['validate', manifest]);

/** Writes <releaseDir>/<bundle>.mcpb for every desktop target whose binary is in releaseDir; returns their paths. */
export function writeBundles(releaseDir: string, version: string): string[] {
  const out: string[] = [];
  for (const t of MCPB_TARGETS) {
    const binary = join(releaseDir, binaryName(t));
    if (!existsSync(binary)) continue;
    const dir = join(releaseDir, `mcpb-${t.name}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'server'), { recursive: true });
    const exe = join(dir, t.os === 'windows' ? 'server/mcp-docker.exe' : 'server/mcp-docker');
    linkOrCopy(binary, exe);
    copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, `${JSON.stringify(bundleManifest(t, version), null, 2)}\n`);
    validateManifest(manifest);
    const file = join(releaseDir, bundleName(t, version));
    rmSync(file, { force: true });
    mcpb(['pack', dir, file]);
    if (!existsSync(file)) throw new Error(`mcpb pack wrote no ${file}`);
    rmSync(dir, { recursive: true, force: true });
    out.push(file);
  }
  return out;
}
