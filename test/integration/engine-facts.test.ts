/**
 * The session's engine facts against the real engine: the data root as /info reports it, the exec
 * root and containerd socket as the engine's own process was started with. The expected values come
 * from the engine itself (/info, and the process that holds its socket open), so the test holds for
 * the shared dev engine, CI's private one, or a system dockerd alike.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Type from 'typebox';
import type { EngineFacts } from '../../src/core/engine.ts';
import { type AnyTool, defineTool } from '../../src/core/tool.ts';
import type { Engine } from '../../src/docker/engine.ts';
import { runPipeline } from '../../src/pipeline/run.ts';
import { testDocker, testSocket } from '../helpers/engine.ts';
import { callOk, pipelineEnv } from '../helpers/pipeline.ts';
import { recordingEngine } from '../helpers/recording-engine.ts';

const SOCKET = testSocket();

/** A tool whose handler returns its session's facts, fetched in full. */
const factsTool = defineTool({
  name: 'docker_session_facts',
  title: 'Session facts',
  description: 'd',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({}),
  output: Type.Object({}, { additionalProperties: true }),
  handler: async (_args, { engine, signal }) => ({
    name: engine.name,
    ...(await engine.resolveFacts(signal)),
  }),
}) as AnyTool;

/**
 * The command line of the process listening on the unix socket at `path`: the inode /proc/net/unix
 * lists for it, then the process holding that inode among its file descriptors.
 */
function listenerOf(path: string): string[] | undefined {
  const inodes = new Set(
    readFileSync('/proc/net/unix', 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[7] === path || f[7] === path.replace(/^\/var\/run\//, '/run/'))
      .map((f) => f[6]),
  );
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {}
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode))
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    }
  }
  return undefined;
}

/** The value of `--flag value` or `--flag=value` in `argv`. */
const flag = (argv: string[], name: string) => {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const a = argv[i] as string;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
};

describe('the engine session facts', () => {
  it("give the data root /info reports and the exec root the engine's own process was started with", async () => {
    const argv = listenerOf(SOCKET);
    expect(argv?.[0]?.split('/').pop()).toBe('dockerd');
    const configFile = flag(argv ?? [], '--config-file') ?? '/etc/docker/daemon.json';
    const daemonJson = existsSync(configFile) ? JSON.parse(readFileSync(configFile, 'utf8')) : {};
    const expectedExecRoot = flag(argv ?? [], '--exec-root') ?? daemonJson['exec-root'] ?? '/var/run/docker';
    const { DockerRootDir } = await testDocker().info();

    const out = await runPipeline(factsTool, {}, pipelineEnv());

    expect(out.ok).toBe(true);
    const facts = (out.ok ? out.data : {}) as unknown as EngineFacts & { name: string };
    expect(facts).toMatchObject({
      name: 'default',
      sharesFilesystem: true,
      socketPaths: [SOCKET],
      dataRoot: DockerRootDir,
      execRoot: expectedExecRoot,
    });
    // The containerd socket the engine uses: the one it was told, else the one it runs under its exec root.
    const told = flag(argv ?? [], '--containerd');
    if (told) expect(facts.containerdSocket).toBe(told.replace(/^unix:\/\//, ''));
    expect(statSync(facts.containerdSocket as string).isSocket()).toBe(true);
  });
});

describe('the data root', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpt-facts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is asked of the engine once per connection, and never by a call that does not need it', async () => {
    const rec = await recordingEngine(join(dir, 'engine.sock'), { upstream: SOCKET });
    try {
      const engine: Engine = rec.engineHandle() as Engine;
      const infos = () => rec.requests.filter((r) => /^\/info(?:\?|$)/.test(r.path)).length;

      await callOk('docker_list_containers', { limit: 1 }, { engine });
      expect(infos()).toBe(0);
      expect(engine.facts.dataRoot).toBeUndefined();
      const first = await engine.resolveFacts();
      const second = await engine.resolveFacts();
      expect(infos()).toBe(1);
      expect(first.dataRoot).toBe((await testDocker().info()).DockerRootDir);
      expect(second.dataRoot).toBe(first.dataRoot);
      expect(engine.facts.dataRoot).toBe(first.dataRoot);

      engine.invalidate(); // a new connection may be another engine: it asks again
      await engine.resolveFacts();
      expect(infos()).toBe(2);
    } finally {
      await rec.close();
    }
  });
});
