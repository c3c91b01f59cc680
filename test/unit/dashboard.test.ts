/**
 * docker_dashboard's pure parts: rows from the engine's list, projects, the text summary, and the
 * view's page: one self-contained HTML file, a CSP that admits only its own script and style, small.
 */
import { describe, expect, it } from 'bun:test';
import { dashboardView, DASHBOARD_URI as RESOURCE_URI } from '../../src/resources/dashboard/index.ts';
import { listedTool } from '../../src/tool-listing.ts';
import { dashboard, DASHBOARD_URI as TOOL_URI } from '../../src/tools/system/dashboard.ts';
import { healthOf, hiddenList, projectsOf, rowOf, summaryOf } from '../../src/tools/system/dashboard-data.ts';
import { buildDashboardHtml } from '../../ui/build.ts';
import { unfenced } from '../../ui/dashboard/view.ts';

const listed = (over: Record<string, unknown> = {}) =>
  ({
    Id: 'a'.repeat(64),
    Names: ['/web-1'],
    Image: 'nginx:1',
    ImageID: 'sha256:x',
    Command: '',
    Created: 0,
    State: 'running',
    Status: 'Up 2 minutes (healthy)',
    Ports: [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
    Labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' },
    ...over,
  }) as never;

const sample = {
  cpu_percent: 12.5,
  memory: { used: 1024, limit: 4096, percent: 25 },
  network: { rx_bytes: 0, tx_bytes: 0 },
  block_io: { read_bytes: 0, write_bytes: 0 },
  pids: 1,
};

describe('docker_dashboard rows', () => {
  it('reads health from the status the engine lists', () => {
    expect(healthOf('Up 2 minutes (healthy)')).toBe('healthy');
    expect(healthOf('Up 1 second (health: starting)')).toBe('starting');
    expect(healthOf('Up 5 minutes (unhealthy)')).toBe('unhealthy');
    expect(healthOf('Exited (0) 2 hours ago')).toBeUndefined();
  });

  it('gives a row its ports, health, stats and, only when grouping, its project and service', () => {
    expect(rowOf(listed(), sample, true)).toEqual({
      id: 'aaaaaaaaaaaa',
      name: 'web-1',
      image: 'nginx:1',
      state: 'running',
      status: 'Up 2 minutes (healthy)',
      health: 'healthy',
      ports: ['127.0.0.1:8080->80/tcp'],
      project: 'shop',
      service: 'web',
      cpu_percent: 12.5,
      memory: { used: 1024, limit: 4096, percent: 25 },
    });
    const plain = rowOf(listed(), undefined, false);
    expect(plain.project).toBeUndefined();
    expect(plain.cpu_percent).toBeUndefined();
  });

  it('counts the running containers of each project and says so in one line', () => {
    const rows = [
      rowOf(listed(), sample, true),
      rowOf(
        listed({ Names: ['/db-1'], State: 'exited', Status: 'Exited (1) 1 minute ago' }),
        undefined,
        true,
      ),
      rowOf(listed({ Names: ['/solo'], Labels: {}, Status: 'Up 1 minute (unhealthy)' }), sample, true),
    ];
    const projects = projectsOf(rows);
    expect(projects).toEqual([{ name: 'shop', containers: 2, running: 1 }]);
    expect(summaryOf(rows, projects)).toBe('2 of 3 containers running; 1 unhealthy; 1 Compose project');
    expect(summaryOf(rows, projects, 7)).toBe(
      '2 of 3 containers running; 1 unhealthy; 1 Compose project; showing 3 of 7 (--max-list-results)',
    );
  });

  it('says what the caller may not see and why, in the summary and the list', () => {
    const rows = [rowOf(listed())];
    const containers = 'docker_list_containers is denied by configuration';
    const stats = 'docker_container_stats is denied by configuration';
    expect(summaryOf([], [], 0, { containers })).toBe(`Containers not shown: ${containers}`);
    expect(summaryOf(rows, [], 1, { stats })).toBe(
      `1 of 1 containers running; CPU and memory not shown: ${stats}`,
    );
    expect(hiddenList({ containers })).toEqual([`containers: ${containers}`]);
    expect(hiddenList({ stats })).toEqual([`CPU and memory: ${stats}`]);
    expect(hiddenList({})).toEqual([]);
  });
});

describe('docker_dashboard listing and view', () => {
  it('lists the view under _meta.ui.resourceUri and the legacy key, at the URI the resource serves', () => {
    expect(TOOL_URI).toBe(RESOURCE_URI);
    expect(dashboardView.uri).toBe(TOOL_URI);
    expect(listedTool(dashboard)._meta).toEqual({
      ui: { resourceUri: TOOL_URI },
      'ui/resourceUri': TOOL_URI,
    });
    expect(dashboardView.mimeType).toBe('text/html;profile=mcp-app');
  });

  it('builds one self-contained page whose CSP admits only its own script and style, under 150 KB gzipped', async () => {
    const html = await buildDashboardHtml();
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'none'");
    expect(csp).not.toContain('unsafe');
    expect(csp).not.toMatch(/https?:|\*/);
    const hash = async (text: string) =>
      `'sha256-${new Bun.CryptoHasher('sha256').update(text).digest('base64')}'`;
    const script = /<script type="module">([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    expect(csp).toContain(`script-src ${await hash(script)}`);
    expect(csp).toContain(`style-src ${await hash(style)}`);
    // Nothing loaded from elsewhere: no src or href attributes, one script element.
    expect(html.match(/<script/g)?.length).toBe(1);
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]*\s(src|href)=/);
    expect(Bun.gzipSync(html).length).toBeLessThanOrEqual(150 * 1024);
  });
});

describe("the view's log pane", () => {
  it("drops the fence's own delimiters and keeps every logged line, forged closers too", () => {
    const open = '<untrusted-ab12 source="logs of container x">';
    expect(unfenced([open, 'one', '</untrusted-zz99>', 'two', '</untrusted-ab12>'])).toEqual([
      'one',
      '</untrusted-zz99>',
      'two',
    ]);
    expect(unfenced([open, 'cut by the cap'])).toEqual(['cut by the cap']);
    expect(unfenced(['plain', '</untrusted-ab12>'])).toEqual(['plain', '</untrusted-ab12>']);
    expect(unfenced([])).toEqual([]);
  });
});
