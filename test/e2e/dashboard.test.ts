/**
 * docker_dashboard over stdio against the compiled binary: its listing names the MCP App view, the
 * ui:// resource is listed and served exactly when the tool is, the result reads well as text for
 * clients without MCP Apps, and with several engines it names them. The view itself is driven in a
 * real browser by test/browser/dashboard.test.ts.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { buildDashboardHtml } from '../../ui/build.ts';
import { type RunningServer, startServer, structured } from '../helpers/client.ts';
import { cleanupContainers, makeContainer } from '../helpers/engine.ts';

const URI = 'ui://mcp-docker/dashboard.html';

interface Dashboard {
  summary: string;
  containers: { name: string; state: string; cpu_percent?: number; memory?: unknown }[];
  total: number;
  hidden?: string[];
}
const servers: RunningServer[] = [];

async function start(opts: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

async function offered(s: RunningServer) {
  const tools = await s.client.listTools();
  const { resources } = (await s.client.raw.listResources()) as {
    resources: { uri: string; mimeType?: string }[];
  };
  return {
    tool: tools.find((t) => t.name === 'docker_dashboard'),
    resource: resources.find((r) => r.uri === URI),
  };
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await cleanupContainers();
});

describe('docker_dashboard', () => {
  it('lists the view at _meta.ui.resourceUri and serves it as one MCP App page', async () => {
    const s = await start();
    const { tool, resource } = await offered(s);
    expect(tool?._meta).toEqual({ ui: { resourceUri: URI }, 'ui/resourceUri': URI });
    expect(resource?.mimeType).toBe('text/html;profile=mcp-app');
    const read = (await s.client.raw.readResource({ uri: URI })) as {
      contents: { mimeType: string; text: string; _meta?: { ui?: { csp?: unknown } } }[];
    };
    const [page] = read.contents;
    expect(page?.mimeType).toBe('text/html;profile=mcp-app');
    expect(page?.text).toStartWith('<!doctype html>');
    expect(page?.text).toContain("default-src 'none'");
    expect(page?._meta?.ui?.csp).toEqual({ connectDomains: [], resourceDomains: [] });
  });

  it('serves the page whole: not redacted, and not cut even under a small response cap', async () => {
    const s = await start({ args: ['--max-response-bytes', '8192'] });
    const read = (await s.client.raw.readResource({ uri: URI })) as { contents: { text: string }[] };
    expect(read.contents[0]?.text).toBe(await buildDashboardHtml());
  });

  it('lists and serves the view with the tool whatever --allowed-resources names', async () => {
    const s = await start({ args: ['--allowed-resources', 'container_logs'] });
    const { tool, resource } = await offered(s);
    expect(tool?._meta).toMatchObject({ ui: { resourceUri: URI } });
    expect(resource?.mimeType).toBe('text/html;profile=mcp-app');
    const read = (await s.client.raw.readResource({ uri: URI })) as { contents: { text: string }[] };
    expect(read.contents[0]?.text).toStartWith('<!doctype html>');
    const { resources } = (await s.client.raw.listResources()) as { resources: { uri: string }[] };
    expect(resources.map((r) => r.uri)).not.toContain('docker://containers');
  });

  const hidden: [string, Parameters<typeof startServer>[0]][] = [
    ['its toolset is off', { args: ['--toolsets', 'containers'] }],
    ['the tool is denied', { env: { SAFETY_DENIED_TOOLS: 'docker_dashboard' } }],
  ];
  for (const [why, opts] of hidden)
    it(`neither lists nor serves the view when ${why}`, async () => {
      const s = await start(opts);
      const { tool, resource } = await offered(s);
      expect(tool).toBeUndefined();
      expect(resource).toBeUndefined();
      await expect(s.client.raw.readResource({ uri: URI })).rejects.toThrow();
    });

  it('answers a client without MCP Apps with a one-line summary and the rows as text', async () => {
    const c = await makeContainer();
    const s = await start();
    const r = await s.client.callTool('docker_dashboard', {});
    expect(r.isError).toBeFalsy();
    const text = (r.content as { type: string; text: string }[])[0]?.text ?? '';
    const data = JSON.parse(text);
    expect(data.summary).toMatch(/^\d+ of \d+ containers running/);
    const row = data.containers.find((x: { name: string }) => x.name === c.name);
    expect(row).toMatchObject({ state: 'running', image: expect.any(String) });
    expect(row.cpu_percent).toBeNumber();
    expect(row.memory.used).toBeNumber();
    expect(data.actions).toEqual([
      'docker_start_container',
      'docker_stop_container',
      'docker_restart_container',
      'docker_container_logs',
    ]);
    expect(data.projects).toBeArray();
  });

  it('offers remove and prune only when destructive operations are allowed', async () => {
    const s = await start({ env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' } });
    const r = await s.client.callTool('docker_dashboard', { stats: false });
    expect((r.structuredContent as { actions: string[] }).actions).toContain('docker_remove_container');
    expect((r.structuredContent as { actions: string[] }).actions).toContain('docker_prune_containers');
  });

  it('shows no containers to a caller denied the container list, and says why', async () => {
    await makeContainer();
    const s = await start({ env: { SAFETY_DENIED_TOOLS: 'docker_list_containers,docker_container_stats' } });
    const data = structured<Dashboard>(await s.client.callTool('docker_dashboard', {}));
    expect(data.containers).toEqual([]);
    expect(data.total).toBe(0);
    expect(data.summary).toBe('Containers not shown: docker_list_containers is denied by configuration');
    expect(data.hidden).toEqual(['containers: docker_list_containers is denied by configuration']);
    // The view holds no engine data: it stays listed with the tool, and shows what the tool returns.
    expect((await offered(s)).resource).toBeDefined();
  });

  it('shows no CPU or memory to a caller denied docker_container_stats, and says why', async () => {
    const c = await makeContainer();
    const s = await start({ env: { SAFETY_DENIED_TOOLS: 'docker_container_stats' } });
    const data = structured<Dashboard>(await s.client.callTool('docker_dashboard', {}));
    const row = data.containers.find((x) => x.name === c.name);
    expect(row?.state).toBe('running');
    expect(data.containers.some((x) => x.cpu_percent !== undefined || x.memory !== undefined)).toBe(false);
    expect(data.summary).toEndWith(
      '; CPU and memory not shown: docker_container_stats is denied by configuration',
    );
    expect(data.hidden).toEqual(['CPU and memory: docker_container_stats is denied by configuration']);
  });

  it('names the engines when several are configured, and the one that answered', async () => {
    const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    const s = await start({ args: ['--engine', `one=${host}`, '--engine', `two=${host}`] });
    const r = await s.client.callTool('docker_dashboard', { engine: 'two', stats: false });
    expect(r.isError).toBeFalsy();
    const data = r.structuredContent as { engines: { name: string }[]; engine: string };
    expect(data.engines.map((e) => e.name)).toEqual(['one', 'two']);
    expect(data.engine).toBe('two');
  });
});
