/**
 * A dependency-free SVG of latency distributions: one row per series, a box (p25–p75) with the
 * median, whiskers p5–p95, and every sample as a faint dot, on a log-scale axis so a 2 ms and a
 * 200 ms series share one picture.
 */
import { percentile } from './lib.ts';

export interface Panel {
  title: string;
  series: { label: string; samples: number[] }[];
}

const W = 860;
const LEFT = 190;
const RIGHT = 30;
const ROW = 26;
const HEAD = 34;
const AXIS = 34;
const COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b7791f', '#718096'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(2));

function panel(p: Panel, top: number): { svg: string; height: number } {
  const series = p.series.filter((s) => s.samples.length > 0);
  const all = series.flatMap((s) => s.samples);
  const lo = Math.log10(Math.max(Math.min(...all), 0.01)) - 0.05;
  const hi = Math.log10(Math.max(...all)) + 0.05;
  const x = (ms: number) => LEFT + ((Math.log10(Math.max(ms, 0.01)) - lo) / (hi - lo)) * (W - LEFT - RIGHT);
  const height = HEAD + series.length * ROW + AXIS;
  const out: string[] = [`<text x="10" y="${top + 20}" font-weight="bold">${esc(p.title)}</text>`];
  // Decade and half-decade grid lines.
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) < lo || Math.log10(v) > hi) continue;
      const gx = x(v).toFixed(1);
      out.push(
        `<line x1="${gx}" y1="${top + HEAD - 6}" x2="${gx}" y2="${top + height - AXIS + 4}" stroke="#e2e8f0"/>`,
        `<text x="${gx}" y="${top + height - AXIS + 18}" text-anchor="middle" fill="#4a5568">${fmt(v)}</text>`,
      );
    }
  out.push(
    `<text x="${W - RIGHT}" y="${top + height - 4}" text-anchor="end" fill="#4a5568">ms (log scale)</text>`,
  );
  series.forEach((s, i) => {
    const y = top + HEAD + i * ROW + ROW / 2;
    const c = COLORS[i % COLORS.length];
    const q = (pc: number) => x(percentile(s.samples, pc));
    out.push(`<text x="${LEFT - 8}" y="${y + 4}" text-anchor="end">${esc(s.label)}</text>`);
    const step = Math.max(1, Math.ceil(s.samples.length / 120));
    s.samples.forEach((v, k) => {
      if (k % step) return;
      const jitter = (((k * 7919) % 13) - 6) * 0.8;
      out.push(
        `<circle cx="${x(v).toFixed(1)}" cy="${(y + jitter).toFixed(1)}" r="1.6" fill="${c}" fill-opacity="0.25"/>`,
      );
    });
    out.push(
      `<line x1="${q(5).toFixed(1)}" y1="${y}" x2="${q(95).toFixed(1)}" y2="${y}" stroke="${c}"/>`,
      `<rect x="${q(25).toFixed(1)}" y="${y - 7}" width="${Math.max(1, q(75) - q(25)).toFixed(1)}" height="14" fill="${c}" fill-opacity="0.15" stroke="${c}"/>`,
      `<line x1="${q(50).toFixed(1)}" y1="${y - 8}" x2="${q(50).toFixed(1)}" y2="${y + 8}" stroke="${c}" stroke-width="2.5"/>`,
      `<text x="${(q(95) + 6).toFixed(1)}" y="${y + 4}" fill="${c}" font-size="11">${fmt(percentile(s.samples, 50))}</text>`,
    );
  });
  return { svg: out.join('\n'), height };
}

/** The whole picture: panels stacked top to bottom. */
export function latencyChart(panels: Panel[], caption: string): string {
  let top = 0;
  const parts: string[] = [];
  for (const p of panels) {
    if (!p.series.some((s) => s.samples.length > 0)) continue;
    const { svg, height } = panel(p, top);
    parts.push(svg);
    top += height + 10;
  }
  const h = top + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="system-ui, sans-serif" font-size="12">`,
    '<title>mcp-docker benchmark latency distributions</title>',
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    `<text x="10" y="${h - 8}" fill="#718096" font-size="11">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
