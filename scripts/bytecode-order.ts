/**
 * `npm run bytecode-order`: records which functions a typical stdio session runs into
 * packaging/bytecode-order.txt, the order build.ts hands to Bun (`compile.bytecodeOrder`). Bun puts the
 * bytecode of those functions together at the front of the binary, so a session touches fewer of its
 * pages: peak RSS after 1,000 calls about 2–3 MiB lower (bench/changes.md). An order recorded from an
 * older build still applies to the functions that did not change; record again after large changes to
 * start-up or the call path.
 *
 * The session is the v1 SDK client over stdio, as most clients are: initialize, tools/list, then list,
 * inspect, logs, images and engine info, many times (what a session does most lies first). It needs an
 * engine: DOCKER_HOST or the default socket, else a private dockerd (root), stopped by its pid after.
 */
import { chmodSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  api,
  type DockerHost,
  engineDir,
  ensureTestImage,
  findRunningEngine,
  type PrivateEngine,
  removeLabelled,
  startPrivateEngine,
  stopPrivateEngine,
} from './engine.ts';

const ROOT = resolve(import.meta.dir, '..');
export const ORDER_FILE = join(ROOT, 'packaging/bytecode-order.txt');
const IMAGE = 'mcp-test/busybox:latest';
const LABEL = 'mcp-docker-bytecode-order';
const ROUNDS = 150;

const say = (s: string) => console.error(`[bytecode-order] ${s}`);

async function startContainers(host: DockerHost, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({
      Image: IMAGE,
      Cmd: ['sh', '-c', 'echo ready; sleep 600'],
      Labels: { [LABEL]: '1' },
      HostConfig: { NetworkMode: 'none' },
    });
    const created = await api(host, 'POST', '/containers/create', {
      body,
      headers: { 'content-type': 'application/json' },
    });
    if (!created.ok) throw new Error(`creating a container: ${await created.text()}`);
    const { Id } = (await created.json()) as { Id: string };
    const started = await api(host, 'POST', `/containers/${Id}/start`);
    if (!started.ok) throw new Error(`starting ${Id}: ${await started.text()}`);
    ids.push(Id);
  }
  return ids;
}

/** One recorded session against `host`; the order is written when the binary exits. */
async function record(bin: string, host: DockerHost, out: string, id: string): Promise<void> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DOCKER_HOST: host };
  const transport = new StdioClientTransport({
    command: bin,
    args: [],
    env: { ...env, BUN_BYTECODE_ORDER_OUT: out },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'mcp-docker-bytecode-order', version: '0' });
  await client.connect(transport);
  await client.listTools();
  const calls: [string, Record<string, unknown>][] = [
    ['docker_list_containers', { filters: { label: [`${LABEL}=1`] } }],
    ['docker_inspect_container', { container_id: id }],
  ];
  const sometimes: [string, Record<string, unknown>][] = [
    ['docker_container_logs', { container_id: id, tail: 20 }],
    ['docker_list_images', {}],
    ['docker_system_info', {}],
  ];
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, args] of i % 10 === 9 ? [...calls, ...sometimes] : calls) {
      const r = await client.callTool({ name, arguments: args });
      if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
    }
  }
  await client.close();
}

async function main(): Promise<void> {
  const bin = join(ROOT, 'dist/mcp-docker');
  say('building dist/mcp-docker');
  const built = Bun.spawnSync([process.execPath, 'build.ts'], {
    cwd: ROOT,
    stdout: 'inherit',
    stderr: 'inherit',
  });
  if (built.exitCode !== 0) process.exit(1);
  let engine: PrivateEngine | undefined;
  let host = await findRunningEngine(process.env.DOCKER_HOST);
  if (!host) {
    say('no engine answers: starting a private one');
    engine = await startPrivateEngine(engineDir(ROOT));
    host = engine.host;
  }
  const work = mkdtempSync(join(tmpdir(), 'mcpd-order-'));
  try {
    await ensureTestImage(host, IMAGE);
    const [id] = await startContainers(host, 5);
    const out = join(work, 'order.txt');
    say(`recording a session of ${ROUNDS * 2} list and inspect calls (and some others)`);
    await record(bin, host, out, id as string);
    for (let i = 0; i < 50 && !existsSync(out); i++) await Bun.sleep(100);
    if (!existsSync(out)) throw new Error('the binary wrote no order (was it built with bytecode?)');
    renameSync(out, ORDER_FILE);
    chmodSync(ORDER_FILE, 0o644);
    say(`wrote ${ORDER_FILE}: rebuild (npm run build) to lay the binary out by it`);
  } finally {
    await removeLabelled(host, LABEL, '1', 3600).catch(() => 0);
    rmSync(work, { recursive: true, force: true });
    if (engine) await stopPrivateEngine(engine);
  }
}

if (import.meta.main) await main();
