/**
 * Engines that fail in the ways real ones do, through the compiled binary: an ssh:// port that
 * accepts and closes or stays silent, a connection cut while a command runs, an engine slow to
 * connect while one call is cancelled, an SSH host key that changes between connections, an engine
 * that stops answering. Each stands in front of a real engine (the shared dev engine, local sshds
 * whose sessions reach it) as a loopback proxy (helpers/engines/faults.ts). The server must stay up,
 * every other caller and engine unaffected, and each failure must say what happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { cleanupContainers, makeContainer, uniqueName } from '../helpers/engine.ts';
import { type FaultyEndpoint, faultyEndpoint } from '../helpers/engines/faults.ts';
import { type Sshd, startSshd } from '../helpers/engines/sshd.ts';

const unixUrl = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
const devSocket = unixUrl.replace(/^unix:\/\//, '');
const dir = mkdtempSync(join(tmpdir(), 'mcpt-faults-'));
const endpoints: FaultyEndpoint[] = [];
const servers: RunningServer[] = [];
const sshds: Sshd[] = [];

const clientKey = join(dir, 'id_ed25519');
const emptyKnownHosts = join(dir, 'known_hosts.empty');

beforeAll(() => {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  writeFileSync(emptyKnownHosts, '');
});

afterAll(async () => {
  for (const s of servers) await s.close().catch(() => {});
  for (const e of endpoints) await e.close();
  for (const s of sshds) await s.dispose();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function endpoint(...args: Parameters<typeof faultyEndpoint>): Promise<FaultyEndpoint> {
  const e = await faultyEndpoint(...args);
  endpoints.push(e);
  return e;
}

/** A server whose engines are the dev engine as `default` plus `engines`; extra flags after. */
async function serve(engines: Record<string, unknown>, ...flags: string[]): Promise<RunningServer> {
  const file = join(dir, `config-${servers.length}.json`);
  writeFileSync(file, JSON.stringify({ engines: { default: unixUrl, ...engines } }));
  const s = await startServer({ args: ['--config', file, '--allow-destructive', ...flags] });
  servers.push(s);
  return s;
}

const call = (s: RunningServer, tool: string, args: Record<string, unknown> = {}, signal?: AbortSignal) =>
  s.client.callTool(tool, args, { timeout: 60_000, ...(signal && { signal }) });

/** A success, or the error's text to show why not. */
const ok = (r: CallToolResult) => (r.isError ? errorOf(r).message : 'ok');

/** Whether the server process still runs. */
const alive = (s: RunningServer) => {
  try {
    process.kill(s.pid() as number, 0);
    return true;
  } catch {
    return false;
  }
};

const sshEngine = (port: number, knownHostsFile = emptyKnownHosts, identityFile = clientKey) => ({
  url: `ssh://root@127.0.0.1:${port}`,
  identityFile,
  knownHostsFile,
});

describe('an ssh:// engine whose port does not speak SSH', () => {
  it('reports engine_unreachable for a port that accepts and closes; the server and the other engines stay up', async () => {
    const closer = await endpoint(0, { mode: 'close' });
    const s = await serve({ sshclose: sshEngine(closer.port as number) });
    const bad = await call(s, 'docker_version', { engine: 'sshclose' });
    expect(errorOf(bad).kind).toBe('engine_unreachable');
    expect(errorOf(bad).message).toMatch(/engine 'sshclose':/);
    // ssh2's second error came a few milliseconds after the first answer and ended the process.
    await Bun.sleep(500);
    expect(alive(s)).toBe(true);
    expect((await call(s, 'docker_version', { engine: 'default' })).isError).toBeFalsy();
    // Again, through the listing alone.
    const rows = structured<{ engines: { name: string; reachable: boolean }[] }>(
      await call(s, 'docker_list_engines'),
    ).engines;
    expect(rows.find((r) => r.name === 'sshclose')?.reachable).toBe(false);
    await Bun.sleep(500);
    expect((await call(s, 'docker_version', { engine: 'default' })).isError).toBeFalsy();
    expect(s.stderr()).not.toMatch(/Connection lost before handshake/);
  }, 30_000);

  it('survives a port that accepts and never completes the handshake, past the handshake timeout', async () => {
    const silent = await endpoint(0, { mode: 'silent' });
    const s = await serve({ sshsilent: sshEngine(silent.port as number) });
    // The listing's probe gives up after 2 s; the SSH handshake runs on until its own 10 s timeout.
    const rows = structured<{ engines: { name: string; reachable: boolean }[] }>(
      await call(s, 'docker_list_engines'),
    ).engines;
    expect(rows.find((r) => r.name === 'sshsilent')?.reachable).toBe(false);
    await Bun.sleep(11_500);
    expect(alive(s)).toBe(true);
    expect((await call(s, 'docker_version', { engine: 'default' })).isError).toBeFalsy();
    const again = await call(s, 'docker_version', { engine: 'sshsilent' });
    expect(errorOf(again).kind).toBe('engine_unreachable');
  }, 60_000);
});

describe('a connection lost while a command runs', () => {
  it('is an engine_unreachable error saying the command may still run, not a success', async () => {
    const cut = await endpoint(join(dir, 'cut.sock'), { target: devSocket });
    const s = await serve({ cut: cut.url });
    const { name } = await makeContainer({ name: uniqueName('mcpt-exec') });
    const running = call(s, 'docker_exec_command', {
      engine: 'cut',
      container_id: name,
      command: 'echo start; sleep 15; echo end',
      timeout: 25,
    });
    await Bun.sleep(2_000);
    cut.cut();
    const r = (await running) as CallToolResult;
    expect(r.isError).toBe(true);
    const e = errorOf(r);
    expect(e.kind).toBe('engine_unreachable');
    expect(e.message).toMatch(/engine 'cut':.*lost mid-exec/);
    expect(e.message).toMatch(/may still be running/);
    // The engine is still there: the next call on it works.
    expect((await call(s, 'docker_version', { engine: 'cut' })).isError).toBeFalsy();
  }, 60_000);
});

describe('callers waiting on the same first connection', () => {
  it("one caller's cancel ends only its own call", async () => {
    const slow = await endpoint(join(dir, 'slow.sock'), { target: devSocket, delayMs: 1_500 });
    const s = await serve({ slow: slow.url });
    const cancel = new AbortController();
    const cancelled = call(s, 'docker_version', { engine: 'slow' }, cancel.signal).catch((e: Error) => e);
    await Bun.sleep(50);
    const other = call(s, 'docker_list_containers', { engine: 'slow', all: true });
    await Bun.sleep(250);
    cancel.abort();
    await cancelled;
    const r = await other;
    expect(r.isError ? errorOf(r).message : '').toBe('');
    expect(r.isError).toBeFalsy();
  }, 30_000);

  it("docker_list_engines' short probe does not fail a call waiting on the same connection", async () => {
    const slow = await endpoint(join(dir, 'slower.sock'), { target: devSocket, delayMs: 2_500 });
    const s = await serve({ slow: slow.url });
    const listing = call(s, 'docker_list_engines');
    await Bun.sleep(100);
    const r = await call(s, 'docker_list_containers', { engine: 'slow' });
    expect(r.isError ? errorOf(r).message : '').toBe('');
    await listing;
  }, 30_000);
});

describe('an SSH host key that changes after the engine connected', () => {
  it('is engine_unreachable naming the change and its fix, not an internal error', async () => {
    const [a, b] = await Promise.all([
      startSshd(join(dir, 'sshd-a'), unixUrl),
      startSshd(join(dir, 'sshd-b'), unixUrl),
    ]);
    sshds.push(a, b);
    const front = await endpoint(0, { target: a.port });
    const known = join(dir, 'known_hosts.front');
    const hostKeyA = readFileSync(join(a.dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(known, `[127.0.0.1]:${front.port} ${hostKeyA}\n`);
    const s = await serve({ sshe: sshEngine(front.port as number, known, a.identityFile) });
    // Connected first (SSH and dial-stdio can take longer than the 3 s connect probe on a loaded machine: asked again then).
    let first = ok(await call(s, 'docker_version', { engine: 'sshe' }));
    for (let i = 0; i < 8 && first !== 'ok'; i++)
      first = ok(await call(s, 'docker_version', { engine: 'sshe' }));
    expect(first).toBe('ok');
    // The same address now leads to another host, with another key.
    front.target = b.port;
    front.cut();
    await Bun.sleep(300);
    // Two calls at once: one may still take the channel that was cut; the other opens a new
    // connection while the engine counts as connected (the reconnect path).
    const both = await Promise.all([0, 1].map(() => call(s, 'docker_version', { engine: 'sshe' })));
    for (const r of both) expect(errorOf(r).kind).toBe('engine_unreachable');
    expect(both.map((r) => errorOf(r).message).join('\n')).toMatch(/CHANGED/);
    const e = errorOf(await call(s, 'docker_version', { engine: 'sshe' }));
    expect(e.kind).toBe('engine_unreachable');
    expect(e.message).toMatch(/CHANGED/);
    expect(e.message).toMatch(/ssh-keygen -R/);
    expect(`${e.message} ${e.hint ?? ''}`).not.toMatch(/likely a bug|retrying may help/);
  }, 60_000);
});

describe('an engine that stops answering', () => {
  it('times out pointing at the engine, not at the size of the request', async () => {
    const hung = await endpoint(join(dir, 'hung.sock'), { target: devSocket });
    const s = await serve({ px: hung.url }, '--timeout', '3');
    expect((await call(s, 'docker_list_containers', { engine: 'px', limit: 1 })).isError).toBeFalsy();
    hung.mode = 'silent';
    hung.cut();
    const r = await call(s, 'docker_list_containers', { engine: 'px', limit: 1 });
    const e = errorOf(r);
    expect(e.kind).toBe('timeout');
    expect(e.hint ?? '').not.toMatch(/Narrow/);
    expect(e.hint ?? '').toMatch(/engine did not answer/);
  }, 30_000);
});
