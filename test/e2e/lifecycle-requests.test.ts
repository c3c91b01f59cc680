/**
 * What a lifecycle call asks of the engine, through the compiled binary and a recording proxy in front
 * of the real engine: a stop by name is the stop and one inspect, as it always was; a stop by short
 * ID resolves the ID once, stops that container by its full ID and reads its state back by that ID,
 * never by the short one again (a second resolution, which another container could answer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer, structured } from '../helpers/client.ts';
import { cleanupContainers, makeContainer, testSocket } from '../helpers/engine.ts';
import { type RecordingEngine, recordingEngine } from '../helpers/recording-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-lifecycle-rec-'));
let rec: RecordingEngine;
let server: RunningServer;
beforeAll(async () => {
  rec = await recordingEngine(join(dir, 'engine.sock'), { upstream: testSocket() });
  // The proxy's socket is served by this test; the engine behind it is this machine's.
  server = await startServer({ env: { DOCKER_HOST: rec.host, MCP_DOCKER_SHARES_FILESYSTEM: 'true' } });
});
afterAll(async () => {
  await server?.close();
  await rec?.close();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

/** The engine requests of one call, as `METHOD path` without the query. */
async function requestsOf(args: Record<string, unknown>): Promise<{ state: string; asked: string[] }> {
  // Engine facts and the like are read once per server: a first call pays them, not the ones measured.
  await server.client.callTool('docker_list_containers', { limit: 1 });
  rec.clear();
  const result = await server.client.callTool('docker_stop_container', { ...args, timeout: 0 });
  expect(result.isError).toBeFalsy();
  const asked = rec.calls().map((r) => `${r.method} ${r.path.replace(/\?.*$/, '')}`);
  return { state: structured<{ state: string }>(result).state, asked };
}

describe('docker_stop_container', () => {
  it('by name: the stop and one inspect', async () => {
    const { name } = await makeContainer();
    const { state, asked } = await requestsOf({ container_id: name });
    expect(state).toBe('exited');
    expect(asked).toEqual([`POST /containers/${name}/stop`, `GET /containers/${name}/json`]);
  });

  it('by short ID: one inspect to resolve it, the stop and the state read by the full ID', async () => {
    const { id } = await makeContainer();
    const { state, asked } = await requestsOf({ container_id: id.slice(0, 12) });
    expect(state).toBe('exited');
    expect(asked).toEqual([
      `GET /containers/${id.slice(0, 12)}/json`,
      `POST /containers/${id}/stop`,
      `GET /containers/${id}/json`,
    ]);
  });
});
