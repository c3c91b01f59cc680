/**
 * Many engines in one server (issue 14, DECISIONS #11), end to end through the compiled binary with both
 * client generations, on a real test bed: the shared dev engine over unix, a private dockerd over
 * TCP+TLS (certificates made here with openssl), an ssh:// engine through a local sshd and a private
 * Podman service, plus
 * engines that cannot answer (a stopped one, one whose host key is unknown). One bed for the whole
 * file; the last scenario stops the TLS engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/client';
import {
  CLIENT_KINDS,
  type ClientKind,
  errorOf,
  type RunningServer,
  startServer,
  structured,
  textOf,
} from '../helpers/client.ts';
import {
  cleanupContainers,
  RUN_ID,
  TEST_IMAGE,
  TEST_LABEL,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';
import { type Bed, type EngineEntry, startBed } from '../helpers/engines/bed.ts';
import { call, killSpawned, serveHttp, spawnBinary } from '../helpers/http-binary.ts';

let bed: Bed;
let config = '';
/** One server per client kind, started on first use, so a server that cannot start fails each scenario with its reason. */
const servers = new Map<ClientKind, Promise<RunningServer>>();
const NAMES = ['default', 'tls', 'ssh', 'podman', 'frozen', 'stranger', 'gone'];

beforeAll(async () => {
  bed = await startBed({ podman: true });
  config = bed.configFile('engines.json', {
    default: bed.entries.default,
    tls: bed.entries.tls,
    ssh: bed.entries.ssh,
    podman: bed.entries.podman as EngineEntry,
    // The TLS engine again under a read-only ceiling: the same daemon, gated by the name used.
    frozen: { ...bed.entries.tls, readOnly: true, description: 'read-only view of tls' },
    // The sshd with a known_hosts that lacks its key.
    stranger: { ...bed.entries.ssh, knownHostsFile: bed.sshd.emptyKnownHostsFile },
    gone: { url: bed.goneUrl, description: 'an engine that was stopped' },
  });
}, 90_000);

afterAll(async () => {
  for (const s of servers.values()) await (await s.catch(() => undefined))?.close().catch(() => {});
  killSpawned();
  await cleanupContainers();
  await bed?.dispose();
}, 60_000);

function server(kind: ClientKind): Promise<RunningServer> {
  let s = servers.get(kind);
  if (!s) {
    s = startServer({ client: kind, args: ['--config', config, '--allow-destructive'] });
    servers.set(kind, s);
  }
  return s;
}
const callOn = async (kind: ClientKind, tool: string, args: Record<string, unknown> = {}) =>
  (await server(kind)).client.callTool(tool, args, { timeout: 60_000 });

interface Row {
  id: string;
  name: string;
}
const names = (r: CallToolResult) =>
  structured<{ containers: Row[] }>(r).containers.map((c) => c.name.replace(/^\//, ''));
const engineOf = (r: CallToolResult) => (r.structuredContent as { engine?: string } | undefined)?.engine;

async function createOn(kind: ClientKind, engine: string, name: string): Promise<CallToolResult> {
  return callOn(kind, 'docker_create_container', {
    engine,
    image: TEST_IMAGE,
    name,
    command: ['sleep', '3600'],
    network_mode: 'none',
    labels: testLabels(),
  });
}

describe.each(CLIENT_KINDS)('many engines (%s client)', (kind) => {
  it('lists the engine argument on tools, naming the configured engines', async () => {
    const tools = await (await server(kind)).client.listTools();
    const list = tools.find((t) => t.name === 'docker_list_containers');
    const engine = (list?.inputSchema.properties as Record<string, { enum?: string[]; description?: string }>)
      ?.engine;
    expect(engine).toBeDefined();
    const text = JSON.stringify(engine);
    for (const name of ['default', 'tls', 'ssh']) expect(text).toContain(name);
    expect(tools.some((t) => t.name === 'docker_list_engines')).toBe(true);
  });

  it('answers the same call from the engine it names', async () => {
    const [onDefault, onTls, onSsh] = await Promise.all(
      ['default', 'tls', 'ssh'].map((engine) => callOn(kind, 'docker_system_info', { engine })),
    );
    const root = (r: CallToolResult) => structured<{ root_dir: string }>(r).root_dir;
    expect(root(onTls as CallToolResult)).toBe(bed.tls.dataRoot);
    expect(root(onDefault as CallToolResult)).not.toBe(bed.tls.dataRoot);
    // The sshd's sessions reach the dev engine: the ssh engine is the default daemon seen over SSH.
    expect(root(onSsh as CallToolResult)).toBe(root(onDefault as CallToolResult));
    expect([onDefault, onTls, onSsh].map((r) => engineOf(r as CallToolResult))).toEqual([
      'default',
      'tls',
      'ssh',
    ]);
  });

  it('lists a container made on one engine only on that engine', async () => {
    const onTls = uniqueName('eng-tls');
    const onDefault = uniqueName('eng-def');
    const made = await Promise.all([createOn(kind, 'tls', onTls), createOn(kind, 'default', onDefault)]);
    for (const r of made) expect(textOf(r)).not.toContain('error');
    for (const r of made) expect(r.isError).toBeFalsy();
    const listed = async (engine: string) =>
      names(
        await callOn(kind, 'docker_list_containers', {
          engine,
          all: true,
          filters: { label: [`${TEST_LABEL}=${RUN_ID}`] },
        }),
      );
    const [tls, def, ssh] = await Promise.all(['tls', 'default', 'ssh'].map(listed));
    expect(tls).toContain(onTls);
    expect(tls).not.toContain(onDefault);
    expect(def).toContain(onDefault);
    expect(def).not.toContain(onTls);
    expect(ssh).toContain(onDefault);
    expect(ssh).not.toContain(onTls);
    // The engine itself agrees: the TLS daemon holds the one made there.
    expect(bed.tls.docker('ps', '-a', '--format', '{{.Names}}')).toContain(onTls);
    const removed = await callOn(kind, 'docker_remove_container', {
      engine: 'tls',
      container_id: onTls,
      force: true,
    });
    expect(removed.isError).toBeFalsy();
    expect(bed.tls.docker('ps', '-a', '--format', '{{.Names}}')).not.toContain(onTls);
  });

  it('acts on Podman as on the others: a container made there is listed only there', async () => {
    const name = uniqueName('eng-podman');
    const made = await createOn(kind, 'podman', name);
    expect(made.isError).toBeFalsy();
    expect(engineOf(made)).toBe('podman');
    const listed = async (engine: string) =>
      names(
        await callOn(kind, 'docker_list_containers', {
          engine,
          all: true,
          filters: { label: [`${TEST_LABEL}=${RUN_ID}`] },
        }),
      );
    const [onPodman, onDefault, onTls] = await Promise.all(['podman', 'default', 'tls'].map(listed));
    expect(onPodman).toContain(name);
    expect(onDefault).not.toContain(name);
    expect(onTls).not.toContain(name);
    const removed = await callOn(kind, 'docker_remove_container', {
      engine: 'podman',
      container_id: name,
      force: true,
    });
    expect(removed.isError).toBeFalsy();
    expect(
      names(await callOn(kind, 'docker_list_containers', { engine: 'podman', all: true })),
    ).not.toContain(name);
  });

  it('uses the default engine for a read without one, and says so', async () => {
    const r = await callOn(kind, 'docker_list_containers', { limit: 1 });
    expect(r.isError).toBeFalsy();
    expect(engineOf(r)).toBe('default');
  });

  it('refuses a write that names no engine, listing the names', async () => {
    const name = uniqueName('eng-none');
    const r = await callOn(kind, 'docker_create_container', {
      image: TEST_IMAGE,
      name,
      network_mode: 'none',
    });
    const err = errorOf(r);
    expect(err.kind).toBe('invalid_argument');
    for (const n of NAMES) expect(err.message).toContain(n);
    expect(bed.tls.docker('ps', '-a', '--format', '{{.Names}}')).not.toContain(name);
  });

  it('refuses writes on a read-only engine while its neighbour accepts them', async () => {
    const frozen = uniqueName('eng-frozen');
    const refused = errorOf(await createOn(kind, 'frozen', frozen));
    expect(refused.kind).toBe('policy_denied');
    expect(refused.message).toMatch(/engine 'frozen':/);
    expect(bed.tls.docker('ps', '-a', '--format', '{{.Names}}')).not.toContain(frozen);
    // Reads on it still work, from the same daemon as its neighbour.
    const info = await callOn(kind, 'docker_system_info', { engine: 'frozen' });
    expect(structured<{ root_dir: string }>(info).root_dir).toBe(bed.tls.dataRoot);
    const accepted = uniqueName('eng-neighbour');
    const made = await createOn(kind, 'tls', accepted);
    expect(made.isError).toBeFalsy();
    expect(bed.tls.docker('ps', '-a', '--format', '{{.Names}}')).toContain(accepted);
  });

  it('refuses an SSH engine whose host key is not in known_hosts, naming its fingerprint', async () => {
    const before = bed.sshd.log().match(/Accepted publickey/g)?.length ?? 0;
    const err = errorOf(await callOn(kind, 'docker_version', { engine: 'stranger' }));
    expect(err.message).toMatch(/^(\w+: )?engine 'stranger':/);
    expect(err.message).toContain(bed.sshd.fingerprint);
    expect(err.message).toContain('known_hosts');
    // Refused before authenticating: the server never offered its key to an unverified host.
    expect(bed.sshd.log().match(/Accepted publickey/g)?.length ?? 0).toBe(before);
  });

  it('fails fast on a stopped engine while the others answer', async () => {
    const started = Date.now();
    const results = await Promise.all(
      ['gone', 'default', 'tls', 'ssh'].map((engine) => callOn(kind, 'docker_version', { engine })),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    const [gone, ...others] = results as CallToolResult[];
    const err = errorOf(gone as CallToolResult);
    expect(err.kind).toBe('engine_unreachable');
    expect(err.message).toMatch(/engine 'gone':/);
    for (const r of others) expect(r.isError).toBeFalsy();
  });

  it('reuses one SSH connection across calls', async () => {
    await callOn(kind, 'docker_version', { engine: 'ssh' });
    const before = bed.sshd.connections();
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await callOn(kind, 'docker_version', { engine: 'ssh' }));
    for (const r of results) expect(r.isError).toBeFalsy();
    expect(bed.sshd.connections() - before).toBe(0);
  });

  it('reads a resource of the engine its URI names; the old URI keeps meaning the default engine', async () => {
    const name = uniqueName('eng-logs');
    // On the TLS engine only: a container that prints one line naming its engine, then waits.
    bed.tls.docker(
      ...['run', '-d', '--network', 'none', '--name', name, '--label', `${TEST_LABEL}=${RUN_ID}`],
      ...[TEST_IMAGE, 'sh', '-c', 'echo hello from tls; sleep 3600'],
    );
    const raw = (await server(kind)).client.raw as unknown as {
      listResourceTemplates(): Promise<{ resourceTemplates: { uriTemplate: string }[] }>;
      readResource(p: { uri: string }): Promise<{ contents: { text?: string }[] }>;
    };
    const templates = (await raw.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toContain('container://{engine}/logs/{container_id}');
    expect(templates).toContain('container://logs/{container_id}');
    const text = (await raw.readResource({ uri: `container://tls/logs/${name}` })).contents[0]?.text ?? '';
    expect(text).toContain('hello from tls');
    // Today's URI means the default engine, which has no such container.
    await expect(raw.readResource({ uri: `container://logs/${name}` })).rejects.toThrow();
  });

  it('docker_list_engines shows each engine: kind, reachable or why not, and its ceiling', async () => {
    const r = await callOn(kind, 'docker_list_engines');
    const rows = structured<{ engines: Record<string, unknown>[] }>(r).engines;
    expect(rows.map((e) => e.name).sort()).toEqual([...NAMES].sort());
    const row = (n: string) => rows.find((e) => e.name === n) as Record<string, unknown>;
    for (const n of ['default', 'tls', 'ssh', 'frozen']) {
      expect(row(n).kind).toBe('docker');
      expect(row(n).reachable).toBe(true);
    }
    expect(row('podman')).toMatchObject({ kind: 'podman', reachable: true });
    for (const n of ['gone', 'stranger']) {
      expect(row(n).reachable).toBe(false);
      expect(JSON.stringify(row(n))).toMatch(/reason|error/);
    }
    const ceiling = (n: string) => (row(n).ceiling ?? row(n)) as { readOnly?: boolean; read_only?: boolean };
    expect(ceiling('frozen').readOnly ?? ceiling('frozen').read_only).toBe(true);
    expect(ceiling('tls').readOnly ?? ceiling('tls').read_only).toBe(false);
  });
});

describe('one engine configured', () => {
  it('lists no engine argument: single-engine listings are unchanged', async () => {
    const single = await startServer({ client: 'v2' });
    try {
      const tools = await single.client.listTools();
      expect(tools.length).toBeGreaterThan(40);
      for (const t of tools) expect(Object.keys(t.inputSchema.properties ?? {})).not.toContain('engine');
      // Where docker_list_engines is listed with one engine, it shows that one, named default.
      if (tools.some((t) => t.name === 'docker_list_engines')) {
        const rows = structured<{ engines: { name: string }[] }>(
          await single.client.callTool('docker_list_engines', {}),
        ).engines;
        expect(rows.map((e) => e.name)).toEqual(['default']);
      }
    } finally {
      await single.close();
    }
  });
});

describe('an HTTP credential limited to one engine', () => {
  it('sees only that engine and is refused the others', async () => {
    const made = spawnBinary(['hash-token']);
    await made.proc.exited;
    await Bun.sleep(20);
    const token = /token: (\S+)/.exec(made.stdout())?.[1] as string;
    const hash = /hash: +(\S+)/.exec(made.stdout())?.[1] as string;
    // An auth-file profile limited to the TLS engine (DECISIONS #11: credentials limited to named engines).
    const authFile = join(bed.dir, 'auth.json');
    writeFileSync(
      authFile,
      JSON.stringify({
        profiles: { tls_only: { base: 'full', engines: ['tls'] } },
        clients: { tls_only: { profile: 'tls_only', tokens: [hash] } },
      }),
    );
    const http = await serveHttp(['--config', config, '--auth-file', authFile, '--allow-destructive']);
    const headers = { authorization: `Bearer ${token}` };
    const result = (text: string) => {
      const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '{}');
      return (JSON.parse(json) as { result?: CallToolResult }).result as CallToolResult;
    };
    const engines = result((await call(http.base, 'docker_list_engines', {}, headers)).text);
    const rows = structured<{ engines: { name: string }[] }>(engines).engines;
    expect(rows.map((e) => e.name)).toEqual(['tls']);
    const own = result((await call(http.base, 'docker_system_info', { engine: 'tls' }, headers)).text);
    expect(own.isError).toBeFalsy();
    const other = result((await call(http.base, 'docker_system_info', { engine: 'default' }, headers)).text);
    expect(other.isError).toBe(true);
    expect(textOf(other)).toContain("'default'");
    // It learns the names it may use, never the others'.
    expect(textOf(other)).toContain('tls');
    expect(textOf(other)).not.toContain('ssh');
    // Remote callers never see endpoints or paths.
    expect(JSON.stringify(engines)).not.toContain(bed.tls.url);
    expect(JSON.stringify(engines)).not.toContain(bed.dir);
  }, 30_000);
});

/** Live children of `pid` (an sshd's per-connection processes). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

describe('when the SSH connection drops', () => {
  it('is opened again for a later call', async () => {
    const kind: ClientKind = 'v2';
    expect((await callOn(kind, 'docker_version', { engine: 'ssh' })).isError).toBeFalsy();
    const sessions = childrenOf(bed.sshd.pid() as number);
    expect(sessions.length).toBeGreaterThan(0);
    const before = bed.sshd.connections();
    for (const p of sessions) process.kill(p, 'SIGKILL');
    // The first call may find the dead connection; the next is served over a new one.
    await callOn(kind, 'docker_version', { engine: 'ssh' });
    const again = await callOn(kind, 'docker_version', { engine: 'ssh' });
    expect(again.isError).toBeFalsy();
    expect(bed.sshd.connections()).toBeGreaterThan(before);
  }, 30_000);
});

describe('when a configured engine stops', () => {
  it('fails fast naming it, while the others keep answering', async () => {
    const kind: ClientKind = 'v2';
    expect((await callOn(kind, 'docker_version', { engine: 'tls' })).isError).toBeFalsy();
    await bed.tls.stop();
    const started = Date.now();
    const [tls, def, ssh] = (await Promise.all(
      ['tls', 'default', 'ssh'].map((engine) => callOn(kind, 'docker_version', { engine })),
    )) as CallToolResult[];
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(errorOf(tls as CallToolResult).message).toMatch(/engine 'tls':/);
    expect(def?.isError).toBeFalsy();
    expect(ssh?.isError).toBeFalsy();
    const rows = structured<{ engines: { name: string; reachable: boolean }[] }>(
      await callOn(kind, 'docker_list_engines'),
    ).engines;
    expect(rows.find((e) => e.name === 'tls')?.reachable).toBe(false);
    expect(rows.find((e) => e.name === 'default')?.reachable).toBe(true);
  }, 60_000);
});
