/**
 * The dashboard's DOM, built only with createElement and textContent: every string a container controls
 * (its name, image, labels, log lines) lands as text, never as markup.
 */

import type { DashboardRow, ProjectRow } from '../../src/tools/system/dashboard-data.ts';

/** A container row as docker_dashboard returns it (the server's type, erased from the bundle). */
export type Row = DashboardRow;

export interface Dashboard {
  summary: string;
  containers: Row[];
  count: number;
  total: number;
  projects?: ProjectRow[];
  engines?: { name: string; default?: boolean; read_only: boolean }[];
  actions: string[];
  /** What the caller may not see, and why (the summary says it too). */
  hidden?: string[];
  sampled_at: string;
  engine?: string;
}

const SVG = 'http://www.w3.org/2000/svg';

/** An element with a class and text (text only: never parsed as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const W = 80;
const H = 18;

/**
 * A sparkline of the last values, newest on the right. CPU is drawn from 0 to its highest value (at
 * least 1 %); memory over its own range, so a change of a few KiB still shows.
 */
export function sparkline(values: readonly number[], kind: 'cpu' | 'mem'): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', `spark ${kind}`);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(H));
  const line = document.createElementNS(SVG, 'polyline');
  const low = kind === 'cpu' ? 0 : Math.min(...values);
  const high = kind === 'cpu' ? Math.max(1, ...values) : Math.max(...values);
  const span = high - low;
  const y = (v: number) => (span > 0 ? H - 1 - ((v - low) / span) * (H - 2) : H / 2).toFixed(1);
  const step = values.length > 1 ? W / (values.length - 1) : 0;
  const points =
    values.length === 1
      ? [`0,${y(values[0] ?? 0)}`, `${W},${y(values[0] ?? 0)}`]
      : values.map((v, i) => `${(i * step).toFixed(1)},${y(v)}`);
  line.setAttribute('points', points.join(' '));
  svg.append(line);
  svg.dataset.samples = String(values.length);
  return svg;
}

export const bytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
};

/** The rows in groups: one per Compose project (when projects are given), then the rest. */
export function groupsOf(d: Dashboard): { title?: string; rows: Row[] }[] {
  if (!d.projects || d.projects.length === 0) return [{ rows: d.containers }];
  const out: { title?: string; rows: Row[] }[] = d.projects.map((p) => ({
    title: `${p.name} · ${p.running}/${p.containers} running`,
    rows: d.containers.filter((r) => r.project === p.name),
  }));
  const rest = d.containers.filter((r) => !r.project);
  if (rest.length > 0) out.push({ title: 'Other containers', rows: rest });
  return out;
}

const FENCE_OPEN = /^<untrusted-([0-9a-z]+) source="[^"]*">$/;

/**
 * Log lines without the server's fence: its opening line first and its matching closing line last
 * (the tag is random per call, so a container cannot forge the closing one). Anything else is kept.
 */
export function unfenced(lines: readonly string[]): string[] {
  const tag = FENCE_OPEN.exec(lines[0] ?? '')?.[1];
  if (!tag) return [...lines];
  const end = lines.length - 1;
  return lines.slice(1, lines[end] === `</untrusted-${tag}>` && end > 0 ? end : undefined);
}
