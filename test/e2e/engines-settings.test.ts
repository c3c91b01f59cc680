/**
 * docker_list_engines through the compiled binary shows what the caller may do on each engine, as
 * the gate decides it: the engine's own ceiling narrowed by the server-wide settings. A server started
 * without --allow-destructive lists no engine as allowing destructive calls it would refuse.
 */
import { describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, startServer, structured } from '../helpers/client.ts';

const HOST = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';

interface Row {
  name: string;
  read_only: boolean;
  allow_destructive: boolean;
}

async function listed(
  flags: string[],
  env: Record<string, string> = {},
): Promise<{ rows: Record<string, Row>; pruneRefused: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpt-engset-'));
  const config = join(dir, 'engines.json');
  // The same engine twice: one as configured, one under a read-only ceiling.
  writeFileSync(
    config,
    JSON.stringify({ engines: { main: { url: HOST }, frozen: { url: HOST, readOnly: true } } }),
  );
  const server = await startServer({ client: 'v2', args: ['--config', config, ...flags], env });
  try {
    const { engines } = structured<{ engines: Row[] }>(
      await server.client.callTool('docker_list_engines', {}),
    );
    // What the gate says of a destructive call on an engine listed as not allowing it: only asked
    // where the listing says no, so nothing is pruned on the shared engine.
    const main = engines.find((e) => e.name === 'main');
    const prune = main?.allow_destructive
      ? undefined
      : await server.client.callTool('docker_prune_containers', {
          engine: 'main',
          filters: { label: ['mcpt-engset-none'] },
        });
    return {
      rows: Object.fromEntries(engines.map((e) => [e.name, e])),
      pruneRefused: prune?.isError ? errorOf(prune).kind : '',
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('docker_list_engines settings', () => {
  it('shows allow_destructive false on a server started without --allow-destructive, as the gate refuses', async () => {
    const { rows, pruneRefused } = await listed([]);
    expect(rows.main).toMatchObject({ read_only: false, allow_destructive: false });
    expect(rows.frozen).toMatchObject({ read_only: true, allow_destructive: false });
    expect(pruneRefused).toBe('policy_denied');
  });

  it('shows allow_destructive true with --allow-destructive, except on the read-only engine', async () => {
    const { rows } = await listed(['--allow-destructive']);
    expect(rows.main).toMatchObject({ read_only: false, allow_destructive: true });
    expect(rows.frozen).toMatchObject({ read_only: true, allow_destructive: false });
  });

  it('shows destructive tools allowed where moderate ones are not, as the gate judges each tier', async () => {
    const { rows } = await listed(['--allow-destructive'], { SAFETY_ALLOW_MODERATE_OPERATIONS: 'false' });
    expect(rows.main).toMatchObject({ read_only: false, allow_destructive: true });
    expect(rows.frozen).toMatchObject({ read_only: true, allow_destructive: false });
  });

  it('shows every engine read-only on a --read-only server', async () => {
    const { rows } = await listed(['--read-only', '--allow-destructive']);
    expect(rows.main).toMatchObject({ read_only: true, allow_destructive: false });
  });
});
