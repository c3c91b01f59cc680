/**
 * What a session loads to answer calls imports no Node builtin at the top of a module: in the compiled
 * binary such an import loads the builtin with its chunk, and a session on DOCKER_HOST needs none
 * (node:fs, node:path, node:os and node:async_hooks together were ~1 MiB of its peak RSS). They are
 * required where used (src/core/node-builtins.ts), and AsyncLocalStorage only for a call under
 * settings other than the server's own (src/docker/policy/scope.ts).
 */
import { describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { withoutComments } from '../helpers/source-files.ts';

const ROOT = resolve(import.meta.dir, '../..');

// A module loaded to answer tools/list and tools/call over stdio: start-up, the deps, the call path,
// and the part of the containers toolset that a list or inspect loads.
const ENTRIES = [
  'src/main.ts',
  'src/server-deps.ts',
  'src/tool-calls.ts',
  'src/tools/containers/inspect.ts',
  'src/tools/containers/rows.ts',
];

/** The imports that load something when the module loads: not `import type`, not import(). */
export function loadedImports(source: string): string[] {
  const code = withoutComments(source);
  const out: string[] = [];
  const imports =
    /^(?:import|export)\s+(type\s+)?([^;]*?)\s*from\s*'([^']+)'(\s*with\s*\{\s*type:\s*'macro')?/gm;
  for (const m of code.matchAll(imports)) {
    const [, typeOnly, what = '', spec = '', macro] = m;
    // A macro runs when the binary is built (catalogue-static.ts): nothing of it loads at run time.
    if (typeOnly || macro) continue;
    const names = /^\{([\s\S]*)\}$/.exec(what.trim())?.[1];
    if (names?.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    out.push(spec);
  }
  for (const m of code.matchAll(/^import\s+'([^']+)'/gm)) out.push(m[1] as string);
  return out;
}

/** Every module `entries` load, with the builtins each imports at its top. */
function builtinsLoaded(entries: string[]): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const spec of loadedImports(readFileSync(join(ROOT, path), 'utf8'))) {
      if (spec.startsWith('node:')) found.push(`${path} imports ${spec}`);
      else if (spec.startsWith('.')) visit(relative(ROOT, resolve(ROOT, dirname(path), spec)));
    }
  };
  for (const e of entries) visit(e);
  expect(seen.size).toBeGreaterThan(40);
  return found;
}

describe('builtins a session loads', () => {
  it('imports none at the top of any module a list or inspect session loads', () => {
    expect(builtinsLoaded(ENTRIES)).toEqual([]);
  });

  it('tells a loading import from a type-only one and from import()', () => {
    const source = [
      "import type { Stats } from 'node:fs';",
      "import { type Readable } from 'node:stream';",
      "import { join } from 'node:path';",
      "export { a } from './a.ts';",
      "import './side.ts';",
      "const os = await import('node:os');",
      "import { made } from './at-build.ts' with { type: 'macro' };",
      "// import { x } from 'node:crypto';",
    ].join('\n');
    expect(loadedImports(source)).toEqual(['node:path', './a.ts', './side.ts']);
  });
});
