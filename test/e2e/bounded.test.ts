/**
 * "One call stops everyone" (issue 13, class 7) against the COMPILED binary on the real engine: a build
 * context the packer cannot send is an error result and the server keeps answering; a catastrophic
 * `grep` answers while another call answers too; a run-with-wait over a container printing 256 MB in
 * long lines answers with a capped result and the server's peak memory (VmHWM) stays near the cap.
 * Memory is asserted, never time; the gigabyte figures live in the bench (docs/BENCHMARKS.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured, textOf } from '../helpers/client.ts';
import {
  cleanupContainers,
  makeContainer,
  removeImageIfPresent,
  TEST_IMAGE,
  uniqueName,
} from '../helpers/engine.ts';

const LONG = 120_000;
const MiB = 1024 * 1024;
/** The output cap of docker_run_container with wait (the default --max-exec-output-bytes). */
const OUTPUT_CAP = MiB;
const FLOOD_BYTES = 256 * MiB;
/** A line of 64 KiB: the engine's log driver splits it into 16 KiB entries, so there are few of them. */
const LINE = 65_536;

/** Peak resident memory of a process, from /proc/PID/status, in bytes. */
function vmHwm(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for process ${pid}`);
  return Number(m[1]) * 1024;
}

let server: RunningServer;
const base = mkdtempSync(join(tmpdir(), 'mcp-bounded-'));
const sockets: Server[] = [];
const tag = `${uniqueName('mcpt-bounded')}:v1`;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
  for (const s of sockets) s.close();
  rmSync(base, { recursive: true, force: true });
  await cleanupContainers();
  await removeImageIfPresent(tag);
});

const listAnswers = async () => {
  const r = await server.client.callTool('docker_list_containers', { all: true });
  return structured<{ containers: unknown[] }>(r).containers;
};

/** A context with a Dockerfile that copies it, plus `extra` made inside. */
function context(name: string, extra: (dir: string) => void | Promise<void>) {
  const dir = join(base, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nCOPY . /ctx/\n`);
  writeFileSync(join(dir, 'kept.txt'), 'kept');
  return Promise.resolve(extra(dir)).then(() => dir);
}

describe('build contexts the packer cannot send', () => {
  const cases: [string, (dir: string) => void | Promise<void>, string][] = [
    ['fifo', (dir) => void execFileSync('mkfifo', [join(dir, 'pipe')]), "'pipe', a FIFO"],
    [
      'socket',
      (dir) =>
        new Promise<void>((resolve) => {
          sockets.push(createServer().listen(join(dir, 'app.sock'), () => resolve()));
        }),
      "'app.sock', a socket",
    ],
    [
      'non-utf8',
      (dir) => writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x6e, 0xff, 0x21])]), 'x'),
      "'n\\xff!', whose name is not valid UTF-8",
    ],
  ];
  for (const [name, make, says] of cases)
    it(
      `a ${name} is an invalid_argument naming it, and the server stays up`,
      async () => {
        const dir = await context(name, make);
        const r = await server.client.callTool('docker_build_image', { path: dir, tag });
        const e = errorOf(r);
        expect(e.kind).toBe('invalid_argument');
        expect(e.message).toContain(says);
        expect(e.message).toContain('.dockerignore');
        expect(Array.isArray(await listAnswers())).toBe(true);
      },
      LONG,
    );

  it(
    'builds once .dockerignore leaves them out, and the image holds the rest',
    async () => {
      const dir = await context('ignored', async (d) => {
        mkdirSync(join(d, 'run'));
        execFileSync('mkfifo', [join(d, 'run', 'pipe')]);
        await new Promise<void>((resolve) => {
          sockets.push(createServer().listen(join(d, 'run', 'app.sock'), () => resolve()));
        });
        writeFileSync(Buffer.concat([Buffer.from(`${d}/run/`), Buffer.from([0xff])]), 'x');
        writeFileSync(join(d, '.dockerignore'), 'run\n');
        writeFileSync(
          join(d, 'Dockerfile'),
          `FROM ${TEST_IMAGE}\nCOPY . /ctx/\nRUN test "$(cat /ctx/kept.txt)" = kept && test ! -e /ctx/run && echo ctx-ok\n`,
        );
      });
      const r = await server.client.callTool('docker_build_image', { path: dir, tag });
      const out = structured<{ tags: string[]; log: string[] }>(r);
      expect(out.tags).toEqual([tag]);
      expect(out.log.join('\n')).toContain('ctx-ok');
    },
    LONG,
  );
});

describe('a catastrophic grep', () => {
  it(
    'returns a result while a concurrent docker_list_containers answers',
    async () => {
      // Lines of 20,000 a's and a '!': /(a+)+$/ backtracks exponentially on each with RegExp.
      const { name } = await makeContainer({
        cmd: [
          'sh',
          '-c',
          'l=$(head -c 20000 /dev/zero | tr "\\0" a); for i in 1 2 3 4 5 6 7 8; do echo "$l!"; done; echo done; sleep 3600',
        ],
      });
      for (let i = 0; i < 50; i++) {
        const logs = await server.client.callTool('docker_container_logs', {
          container_id: name,
          grep: 'done',
        });
        if (structured<{ count: number }>(logs).count > 0) break;
        await Bun.sleep(100);
      }
      const [grep, list] = await Promise.all([
        server.client.callTool('docker_container_logs', { container_id: name, grep: '/(a+)+$/' }),
        listAnswers(),
      ]);
      const out = structured<{ count: number; scanned: number }>(grep);
      expect(out.count).toBe(0);
      expect(out.scanned).toBeGreaterThanOrEqual(9);
      expect(list.length).toBeGreaterThan(0);
      // A pattern RE2 cannot run is a clear error, not a hang.
      const refused = errorOf(
        await server.client.callTool('docker_container_logs', { container_id: name, grep: '/(a)\\1/' }),
      );
      expect(refused.kind).toBe('invalid_argument');
      expect(refused.message).toContain('backreferences');
    },
    LONG,
  );
});

describe('a run-with-wait over a flood', () => {
  // Its own server, so the peak is this call's, not the builds' and greps' above.
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.close());

  it(
    'reads as far back as before: an early stderr line behind 600 stdout lines is kept',
    async () => {
      const r = await server.client.callTool('docker_run_container', {
        image: TEST_IMAGE,
        command: [
          'sh',
          '-c',
          'echo early-err >&2; i=1; while [ $i -le 600 ]; do echo "out $i"; i=$((i+1)); done',
        ],
        network_mode: 'none',
        labels: { 'mcp-docker-test': process.env.MCP_DOCKER_TEST_RUN ?? 'bounded' },
        wait: true,
        remove: true,
      });
      const out = structured<{ stdout: string; stderr: string; output_truncated?: boolean }>(r);
      expect(out.stderr).toContain('early-err');
      expect(out.stdout).toContain('out 1\n');
      expect(out.stdout).toContain('out 600');
      expect(out.output_truncated).toBeUndefined();
    },
    LONG,
  );

  it(`prints ${FLOOD_BYTES / MiB} MiB in long lines: a capped result, peak memory near the cap`, async () => {
    const pid = server.pid();
    if (pid === undefined) throw new Error('the server has no pid');
    const before = vmHwm(pid);
    const count = FLOOD_BYTES / LINE;
    const r = await server.client.callTool(
      'docker_run_container',
      {
        image: TEST_IMAGE,
        name: uniqueName('mcpt-flood'),
        command: [
          'sh',
          '-c',
          `l=$(head -c ${LINE - 1} /dev/zero | tr "\\0" x); i=0; while [ $i -lt ${count} ]; do echo "$l"; i=$((i+1)); done; echo end-of-flood`,
        ],
        network_mode: 'none',
        labels: { 'mcp-docker-test': process.env.MCP_DOCKER_TEST_RUN ?? 'bounded' },
        wait: true,
        timeout: 300,
        remove: true,
      },
      { timeout: 360_000 },
    );
    const out = structured<{ exit_code: number; stdout: string; output_truncated?: boolean }>(r);
    expect(out.exit_code).toBe(0);
    expect(out.output_truncated).toBe(true);
    expect(out.stdout).toContain('end-of-flood');
    expect(Buffer.byteLength(textOf(r))).toBeLessThanOrEqual(2 * OUTPUT_CAP + 65_536);
    const peak = vmHwm(pid);
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    console.log(`server VmHWM: ${mib(before)} before, ${mib(peak)} after the ${mib(FLOOD_BYTES)} flood`);
    expect(peak).toBeLessThan(OUTPUT_CAP + 150 * MiB);
  }, 400_000);
});
