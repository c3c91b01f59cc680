/**
 * docs/BENCHMARKS.md and docs/benchmarks.svg from a bench result: the last run's
 * (bench/results/latest.json) when run as `bun bench/docs.ts`, e.g. after editing bench/changes.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { latencyChart } from './chart.ts';
import { type BenchReport, markdown } from './report.ts';

/** Writes both files under `root`/docs; returns the markdown. */
export function writeDocs(r: BenchReport, root: string): string {
  mkdirSync(join(root, 'docs'), { recursive: true });
  const first = r.calls.find((c) => c.op === 'list');
  const svg = latencyChart(
    [
      {
        title: 'Cold start → initialize result',
        series: Object.entries(r.cold).map(([label, s]) => ({ label, samples: s.samples })),
      },
      {
        title: `List ${first?.containers ?? ''} containers, per call`,
        series: Object.entries(first?.series ?? {}).map(([label, s]) => ({ label, samples: s.samples })),
      },
    ],
    `${r.machine.cpu}, ${r.machine.cores} cores, engine ${r.machine.engine}, ${r.date.slice(0, 10)}. Box p25–p75, line = median, whiskers p5–p95, dots = samples.`,
  );
  writeFileSync(join(root, 'docs/benchmarks.svg'), svg);
  const notes = join(import.meta.dir, 'changes.md');
  const doc = join(root, 'docs/BENCHMARKS.md');
  const before = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
  const md = markdown(r, existsSync(notes) ? readFileSync(notes, 'utf8') : undefined);
  writeFileSync(doc, keptSections(before, md));
  return md;
}

/** Sections that bench parts write after the report (swarm, stack): not in latest.json, so carried over. */
const PART_SECTIONS = [
  ['<!-- swarm:start -->', '<!-- swarm:end -->'],
  ['<!-- stack:start -->', '<!-- stack:end -->'],
] as const;

/** `md` with the part sections `before` had and `md` lacks, in their order before "What changed". */
export function keptSections(before: string, md: string): string {
  let out = md;
  for (const [start, end] of PART_SECTIONS) {
    const i = before.indexOf(start);
    const j = before.indexOf(end);
    if (i < 0 || j < i || out.includes(start)) continue;
    const section = before.slice(i, j + end.length);
    out = out.replace('## What changed, and by how much', `${section}\n\n## What changed, and by how much`);
  }
  return out;
}

/**
 * Puts `section` (which carries its own `start`/`end` markers) into `doc` in place of the one between
 * those markers, or before "What changed" the first time: one bench part rewrites only its own section.
 */
export function replaceSection(doc: string, start: string, end: string, section: string): void {
  const md = readFileSync(doc, 'utf8');
  const i = md.indexOf(start);
  const j = md.indexOf(end);
  const next =
    i >= 0 && j > i
      ? md.slice(0, i) + section + md.slice(j + end.length)
      : md.replace('## What changed, and by how much', `${section}\n\n## What changed, and by how much`);
  writeFileSync(doc, next);
}

if (import.meta.main) {
  const root = resolve(import.meta.dir, '..');
  const report = JSON.parse(readFileSync(join(root, 'bench/results/latest.json'), 'utf8')) as BenchReport;
  writeDocs(report, root);
  console.error('wrote docs/BENCHMARKS.md, docs/benchmarks.svg from bench/results/latest.json');
}
