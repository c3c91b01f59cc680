/**
 * The layering is a test, not a hope: every import in src/ (static, type-only, dynamic) must be allowed by
 * the ```layers block of DEVELOPERS.md, which says which folder may import which.
 */
import { describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { sourceFiles, withoutComments } from '../helpers/source-files.ts';

const ROOT = resolve(import.meta.dir, '../..');

interface Layer {
  name: string;
  paths: string[];
  allowed: Set<string>;
}

/** The rules as DEVELOPERS.md writes them: `name  path path… -> allowed allowed…`, one layer a line. */
export function parseLayers(markdown: string): Layer[] {
  const block = /```layers\n([\s\S]*?)```/.exec(markdown)?.[1];
  if (!block) throw new Error('DEVELOPERS.md has no ```layers block');
  return block
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [left = '', right = ''] = line.split('->');
      const [name = '', ...paths] = left.trim().split(/\s+/);
      return { name, paths, allowed: new Set(right.trim().split(/\s+/).filter(Boolean)) };
    });
}

/** The layer a repository path belongs to: the longest matching path (a folder with '/', or a file). */
export function layerOf(layers: Layer[], path: string): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of layers)
    for (const p of layer.paths) {
      const hit = p.endsWith('/') ? path.startsWith(p) : path === p;
      if (hit && (!best || p.length > best.length)) best = { layer, length: p.length };
    }
  return best?.layer;
}

// import … from '…', export … from '…', import('…'), import '…'; comments are stripped first.
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;

export function importsOf(source: string): string[] {
  const code = withoutComments(source);
  return [...code.matchAll(IMPORT)].map((m) => m[1] as string);
}

/** Every import that breaks a rule, as 'file imports target (layer a may not import layer b)'. */
export function violations(layers: Layer[], files: { path: string; source: string }[]): string[] {
  const found: string[] = [];
  for (const { path, source } of files) {
    const from = layerOf(layers, path);
    if (!from) {
      found.push(`${path} belongs to no layer: add it to the layers block in DEVELOPERS.md`);
      continue;
    }
    for (const spec of importsOf(source)) {
      const target = relative(ROOT, resolve(ROOT, dirname(path), spec));
      if (!target.startsWith('src/')) continue; // package.json for the version, and the like
      const to = layerOf(layers, target);
      if (!to) found.push(`${path} imports ${spec}, which belongs to no layer`);
      else if (to !== from && !from.allowed.has(to.name))
        found.push(`${path} imports ${spec} (${from.name} may not import ${to.name})`);
    }
  }
  return found;
}

const layers = parseLayers(readFileSync(join(ROOT, 'DEVELOPERS.md'), 'utf8'));

describe('layering', () => {
  it('allows every import in src/ that DEVELOPERS.md allows, and no other', () => {
    const files = sourceFiles(join(ROOT, 'src')).map((abs) => ({
      path: relative(ROOT, abs),
      source: readFileSync(abs, 'utf8'),
    }));
    expect(files.length).toBeGreaterThan(50);
    expect(violations(layers, files)).toEqual([]);
  });

  it('keeps the contract floor free of imports of ours', () => {
    expect(layers.find((l) => l.name === 'core')?.allowed.size).toBe(0);
  });

  it('refuses an import that goes up a layer, a type-only one and a dynamic one alike', () => {
    const files = [
      { path: 'src/core/x.ts', source: "import type { T } from '../pipeline/run.ts';" },
      { path: 'src/docker/y.ts', source: "const m = await import('../tools/index.ts');" },
      { path: 'src/tools/z.ts', source: "export { a } from '../pipeline/gate.ts';\n// from '../server.ts'" },
      { path: 'src/tools/ok.ts', source: "import { ToolError } from '../core/errors.ts';" },
      { path: 'src/stray.ts', source: '' },
    ];
    expect(violations(layers, files)).toEqual([
      'src/core/x.ts imports ../pipeline/run.ts (core may not import pipeline)',
      'src/docker/y.ts imports ../tools/index.ts (docker may not import tools)',
      'src/tools/z.ts imports ../pipeline/gate.ts (tools may not import pipeline)',
      'src/stray.ts belongs to no layer: add it to the layers block in DEVELOPERS.md',
    ]);
  });
});
