/** The bench's report and chart are pure functions of its measurements; these pin what they state. */
import { describe, expect, it } from 'bun:test';
import { latencyChart } from '../../bench/chart.ts';
import { keptSections } from '../../bench/docs.ts';
import { summarize } from '../../bench/lib.ts';
import { type BenchReport, markdown, targets } from '../../bench/report.ts';

const series = (xs: number[]) => ({ ...summarize(xs), samples: xs });

function report(): BenchReport {
  return {
    date: '2026-11-24T12:00:00.000Z',
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      loadStart: [0.1, 0.2, 0.3],
      loadEnd: [0.2, 0.2, 0.3],
      bun: '1.4.5',
      node: 'v20',
      engine: '20.10 (API 1.41)',
      binaryMiB: 100,
      quick: false,
    },
    servers: [{ id: 'mcp-docker', runtime: 'Bun' }],
    skipped: [{ id: 'podman-mcp-server', why: 'not installed' }],
    cold: { 'Bun floor': series([10, 11, 12]), 'mcp-docker': series([30, 35, 50]) },
    calls: [
      {
        op: 'list',
        containers: 30,
        rows: 30,
        series: { 'raw API': series([1, 1, 1]), 'mcp-docker': series([1.5, 1.5, 1.5]) },
      },
    ],
    memory: { 'mcp-docker': { idleMiB: 40, peakMiB: 60, rssMiB: 55, calls: 1000 } },
    tools: {
      'mcp-docker': {
        count: 3,
        bytes: 5600,
        perTool: [
          { name: 'docker_create_container', bytes: 1500 },
          { name: 'docker_list_containers', bytes: 100 },
          { name: 'docker_compose_up', bytes: 4000 },
        ],
      },
    },
    results: { 'mcp-docker': { bytes: 3000, wire: 6000, scope: "this run's 30" } },
  };
}

describe('bench report', () => {
  it('marks each target met or missed from the medians', () => {
    const rows = targets(report());
    const byFigure = Object.fromEntries(rows.map((r) => [String(r[0]), r]));
    expect(byFigure['cold start → initialize (median)']?.[3]).toBe('met'); // median 35 ≤ 40
    expect(byFigure['per-call overhead, list at 30 containers']?.[1]).toBe('0.500 ms');
    expect(byFigure['per-call overhead, list at 30 containers']?.[3]).toBe('**missed**');
    expect(byFigure['peak RSS after 1000 calls']?.[3]).toBe('**missed**');
    // DECISIONS' counting: create at its size before Compose's options (1412 B), Compose on its own budget.
    const seed =
      byFigure["tool list, the seed's 2 tools (create and run counted as before Compose's options)"];
    expect(seed?.slice(1)).toEqual(['1512 B (756 B/tool)', '≤ 12288 B, ≤ 350 B/tool', '**missed**']);
    expect(byFigure['tool list, the 2 tools of the core toolsets (counted the same way)']?.[1]).toBe(
      '756 B/tool',
    );
    expect(byFigure['tool list, the 1 compose tools']?.slice(1)).toEqual(['4000 B', '≤ 5120 B', 'met']);
    expect(byFigure['tool list, all 3 tools']?.slice(1)).toEqual(['5600 B (1867 B/tool)', '—', '—']);
  });

  it('states the cold start to the first tool list when it was measured, and leaves the section out when not', () => {
    const withReady = { ...report(), ready: { 'mcp-docker': series([20, 22, 30]) } };
    const row = targets(withReady).find((r) => r[0] === 'cold start → first tools/list result (median)');
    expect(row?.[1]).toBe('22.0 ms');
    expect(markdown(withReady)).toContain('## Cold start to the first tool list');
    expect(markdown(withReady)).toContain('| mcp-docker | 22.0 | 20.4–28.4 | 3 |');
    expect(markdown(report())).not.toContain('first tool list');
  });

  it('names the machine, the servers not measured and why, and links the chart', () => {
    const md = markdown(report());
    expect(md).toContain('| Test CPU | 2 |');
    expect(md).toContain('not measured: **podman-mcp-server** — not installed');
    expect(md).toContain('![Latency distributions](benchmarks.svg)');
    expect(md).not.toMatch(/\n\n\n/);
  });

  it('draws one labelled row per series with samples, on a log axis', () => {
    const svg = latencyChart(
      [
        {
          title: 'Per call',
          series: [
            { label: 'raw API', samples: [1, 2, 3] },
            { label: 'empty', samples: [] },
            { label: 'x<y', samples: [100, 200] },
          ],
        },
      ],
      'caption',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('>raw API</text>');
    expect(svg).toContain('>x&lt;y</text>');
    expect(svg).not.toContain('>empty</text>');
    expect(svg).toContain('ms (log scale)');
  });
});

describe('the floor section (issue 20)', () => {
  it('states each figure beside the floor, its gap and the target, met or missed', async () => {
    const { floorSection } = await import('../../bench/floor-gap.ts');
    const s = (median: number) => summarize([median]);
    const md = floorSection(
      {
        containers: 30,
        calls: 1000,
        load: [1, 1, 1],
        ready: { 'mcp-docker': s(22), floor: s(14.5) },
        list: { 'mcp-docker': s(1.8), floor: s(1.65) },
        inspect: { 'mcp-docker': s(0.7), floor: s(0.65) },
        peakMiB: { 'mcp-docker': 60, floor: 50 },
        cpu: {
          ready: { 'mcp-docker': 20, floor: 15 },
          list: { 'mcp-docker': 0.3, floor: 0.25 },
          inspect: { 'mcp-docker': 0.3, floor: 0.2 },
          perCall: { 'mcp-docker': 0.4, floor: 0.3 },
        },
        wire: { tools: 51, bytes: 38357, inputBytes: 13635, outputBytes: 9777 },
      },
      '2026-12-06',
    );
    expect(md.startsWith('<!-- floor:start -->')).toBe(true);
    expect(md.endsWith('<!-- floor:end -->')).toBe(true);
    expect(md).toContain('| cold start → first tools/list (median ms) | 22.0 | 14.5 | 7.5 | ≤ 10 | met |');
    expect(md).toContain('| list 30 containers (median ms) | 1.800 | 1.650 | 0.150 | ≤ 0.1 | **missed** |');
    expect(md).toContain('| peak RSS after 1000 calls (MiB) | 60.0 | 50.0 | 10.0 | ≤ 8 | **missed** |');
    expect(md).toContain('38,357 B for 51 tools');
  });
});

describe('docs regenerated from latest.json', () => {
  const changed = '## What changed, and by how much\n\nnotes\n';
  const swarm = '<!-- swarm:start -->\n## Swarm\nrows\n<!-- swarm:end -->';
  const stack = '<!-- stack:start -->\n## Stack deploy\nrows\n<!-- stack:end -->';

  it('keeps the swarm and stack sections the bench parts wrote, in order, before what changed', () => {
    const before = `# Benchmarks\n\n${swarm}\n\n${stack}\n\n${changed}`;
    const out = keptSections(before, `# Benchmarks\n\n${changed}`);
    expect(out).toBe(`# Benchmarks\n\n${swarm}\n\n${stack}\n\n${changed}`);
  });

  it('does not add a section twice, nor one the old page did not have', () => {
    const md = `# Benchmarks\n\n${swarm}\n\n${changed}`;
    expect(keptSections(`${swarm}\n${stack}\n`, md)).toBe(
      `# Benchmarks\n\n${swarm}\n\n${stack}\n\n${changed}`,
    );
    expect(keptSections('# old page without parts\n', md)).toBe(md);
  });
});
