/**
 * Issue 13's security suite: every row of the matrix (`matrix.ts`) against the compiled binary on the real
 * engine, in the default configuration unless the row names another profile. A refusal must be the row's
 * kind, name what it refuses and the setting that would allow it, and leave the run's engine objects and
 * every host path the row names exactly as they were. Bounded-work rows must answer in time while other
 * calls keep answering; redaction rows must not show the values; the legitimate cases must still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rmSync } from 'node:fs';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { type ClientKind, errorOf, startServer, textOf } from '../helpers/client.ts';
import { alive, killServer, serverPids, statusKiB } from '../helpers/process.ts';
import {
  callArgs,
  destroyWorld,
  makeWorld,
  runSteps,
  Servers,
  subst,
  visibleText,
  type World,
} from './harness.ts';
import { LEGITIMATE, REFUSALS, type Row, SETTING_NAMES, type Setting } from './matrix.ts';
import { engineSnapshot, hostSnapshot, namedPaths, TOKEN } from './snapshot.ts';

let world: World;
const servers = new Servers(() => world);

beforeAll(async () => {
  world = await makeWorld();
}, 120_000);

afterAll(async () => {
  await servers.closeAll();
  await destroyWorld(world);
}, 120_000);

const title = (row: Row) => `class ${row.class} · ${row.variant} · ${row.tool}`;
const anyOf = (want: string | string[]) => (typeof want === 'string' ? [want] : want);
const fill = (s: string, name: string) => subst(s, world, name) as string;

/** Snapshot, call, snapshot: the result and both snapshots. */
async function callWithSnapshots(
  row: Row,
  name: string,
  call: (args: Record<string, unknown>) => Promise<CallToolResult>,
) {
  const args = callArgs(row.tool, row.args, world, name);
  const paths = namedPaths(
    args,
    (row.paths ?? []).map((p) => fill(p, name)),
  );
  const before = { engine: await engineSnapshot(name), host: hostSnapshot(paths) };
  const result = await call(args);
  const after = { engine: await engineSnapshot(name), host: hostSnapshot(paths) };
  // A safety net: a file this row named (it carries the run's token) that a server failing to refuse
  // wrote outside our own dirs is removed again; the host snapshot still fails the row.
  for (const p of paths)
    if (
      p.includes(TOKEN) &&
      before.host[p] === 'absent' &&
      after.host[p] !== 'absent' &&
      !p.startsWith(world.tmp)
    )
      rmSync(p, { force: true });
  return { result, before, after };
}

async function expectRefusal(row: Row, name: string, client: ClientKind): Promise<void> {
  const expected = row.expect;
  if (!('refused' in expected)) throw new Error('not a refusal row');
  const server = () => servers.get(row.profile, client);
  await runSteps(row.before ?? [], world, name, server);
  const { result, before, after } = await callWithSnapshots(row, name, async (args) =>
    (await server()).client.callTool(row.tool, args, { timeout: 60_000 }),
  );
  const err = errorOf(result);
  const said = `${err.message}\n${err.hint ?? ''}`;
  expect([expected.refused].flat() as string[]).toContain(err.kind);
  for (const want of expected.names) {
    const options = anyOf(want).map((w) => fill(w, name));
    expect({ message: said, names: options.some((o) => said.includes(o)) }).toEqual({
      message: said,
      names: true,
    });
  }
  if (expected.setting) {
    const settings = [expected.setting].flat() as Setting[];
    const options = settings.flatMap((s) => SETTING_NAMES[s]);
    expect({ message: said, setting: options.some((o) => said.includes(o)) }).toEqual({
      message: said,
      setting: true,
    });
  }
  expect(after.engine).toEqual(before.engine);
  expect(after.host).toEqual(before.host);
}

describe('security: refusals (v2 client, 2026 era)', () => {
  REFUSALS.forEach((row, i) => {
    if (!('refused' in row.expect)) return;
    it(title(row), () => expectRefusal(row, `${TOKEN}-r${i}`, 'v2'));
  });
});

describe('security: refusals through an initialize-era client (v1), one row per class', () => {
  const seen = new Set<number>();
  REFUSALS.forEach((row, i) => {
    if (!('refused' in row.expect) || seen.has(row.class)) return;
    seen.add(row.class);
    it(title(row), () => expectRefusal(row, `${TOKEN}-v1-r${i}`, 'v1'));
  });
});

/** A server of its own, so a frozen one is killed without taking the others along. */
async function ownServer() {
  const before = new Set(serverPids());
  const server = await startServer({});
  const pid = serverPids().find((p) => !before.has(p));
  if (pid === undefined) throw new Error('could not find the server process');
  return {
    server,
    pid,
    async end() {
      await Promise.race([server.close().catch(() => {}), Bun.sleep(1000)]);
      killServer(pid);
    },
  };
}

describe('security: one call does not stop everyone', () => {
  REFUSALS.forEach((row, i) => {
    const expected = row.expect;
    if (!('answers' in expected)) return;
    it(title(row), async () => {
      const name = `${TOKEN}-b${i}`;
      const own = await ownServer();
      try {
        await runSteps(row.before ?? [], world, name, async () => own.server);
        await Bun.sleep(300); // the container's first line reaches its log
        const { result, before, after } = await callWithSnapshots(row, name, async (args) => {
          const started = performance.now();
          const call = own.server.client
            .callTool(row.tool, args, { timeout: expected.answers.ms + 5_000 })
            .then((r) => ({ r, ms: performance.now() - started }));
          // If the row fails before awaiting it, its rejection (the server killed) must not land on the next row.
          call.catch(() => {});
          await Bun.sleep(200);
          // Another call while the first one runs: it must answer promptly.
          const otherStart = performance.now();
          const other = await own.server.client.callTool('docker_version', {}, { timeout: 5_000 });
          expect(other.isError ?? false).toBe(false);
          expect(performance.now() - otherStart).toBeLessThan(3_000);
          const { r, ms } = await call;
          expect(ms).toBeLessThan(expected.answers.ms);
          return r;
        });
        if (result.isError) expect(expected.answers.errorKinds).toContain(errorOf(result).kind);
        else expect(expected.answers.mustError ?? false).toBe(false);
        // Still up afterwards.
        expect(
          (await own.server.client.callTool('docker_version', {}, { timeout: 5_000 })).isError ?? false,
        ).toBe(false);
        expect(alive(own.pid)).toBe(true);
        expect(after.engine).toEqual(before.engine);
        expect(after.host).toEqual(before.host);
      } finally {
        await own.end();
      }
    }, 60_000);
  });

  REFUSALS.forEach((row, i) => {
    const expected = row.expect;
    if (!('peakGrowthMiB' in expected)) return;
    it(title(row), async () => {
      const name = `${TOKEN}-m${i}`;
      const own = await ownServer();
      try {
        // Warm up: the engine connection and the tool's code paths are loaded before the baseline.
        await own.server.client.callTool('docker_version', {});
        await own.server.client.callTool('docker_list_containers', { limit: 1 });
        const baseline = statusKiB(own.pid, 'VmHWM') as number;
        const args = callArgs(row.tool, row.args, world, name);
        const result = await own.server.client.callTool(row.tool, args, { timeout: 240_000 });
        const peak = statusKiB(own.pid, 'VmHWM') as number;
        const growthMiB = (peak - baseline) / 1024;
        console.log(
          `[security] ${row.variant}: server peak RSS ${(baseline / 1024).toFixed(1)} MiB -> ${(peak / 1024).toFixed(1)} MiB ` +
            `(+${growthMiB.toFixed(1)} MiB; bound ${expected.peakGrowthMiB} MiB); result ${result.isError ? errorOf(result).kind : 'ok'}, ` +
            `${Buffer.byteLength(textOf(result))} bytes of text`,
        );
        expect(growthMiB).toBeLessThanOrEqual(expected.peakGrowthMiB);
        expect(alive(own.pid)).toBe(true);
      } finally {
        await own.end();
      }
    }, 300_000);
  });
});

describe('security: redaction', () => {
  REFUSALS.forEach((row, i) => {
    const expected = row.expect;
    if (!('masks' in expected)) return;
    it(title(row), async () => {
      const name = `${TOKEN}-s${i}`;
      const server = () => servers.get(row.profile);
      await runSteps(row.before ?? [], world, name, server);
      for (const full of [false, true]) {
        const args = { ...callArgs(row.tool, row.args, world, name), full };
        const result = await (await server()).client.callTool(row.tool, args);
        expect(result.isError ?? false).toBe(false);
        const text = visibleText(result);
        for (const shown of expected.shows) expect(text).toContain(shown);
        for (const secret of expected.masks) expect(text).not.toContain(secret);
      }
    });
  });
});

describe('security: legitimate cases still work', () => {
  LEGITIMATE.forEach((row, i) => {
    it(`${row.variant} · ${row.tool}`, async () => {
      const name = `${TOKEN}-ok${i}`;
      const server = () => servers.get(row.profile);
      await runSteps(row.before ?? [], world, name, server);
      for (const call of [{ tool: row.tool, args: row.args }, ...(row.next ?? [])]) {
        const result = await (await server()).client.callTool(
          call.tool,
          callArgs(call.tool, call.args, world, name),
          {
            timeout: 60_000,
          },
        );
        expect({ tool: call.tool, error: result.isError ? textOf(result) : undefined }).toEqual({
          tool: call.tool,
          error: undefined,
        });
      }
    });
  });
});
