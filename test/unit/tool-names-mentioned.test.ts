/**
 * Every docker_* tool a prompt, a tool description or an error hint tells the model to call exists:
 * a prompt once named docker_exec_container, a tool there is not (it is docker_exec_command).
 */
import { describe, expect, it } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogue } from '../../src/tools/index.ts';

const SRC = join(import.meta.dir, '..', '..', 'src');
const TOOLS = new Set(catalogue.map((t) => t.name));

/** docker_* words in the source that name something other than a tool. */
const NOT_TOOLS = new Set([
  'docker_gwbridge', // the bridge network Swarm makes on each node
  'docker_engine', // Docker Desktop's named pipe on Windows
]);

// A whole word: `docker_compose_${verb}` (a name being built) is not a mention.
const MENTION = /\bdocker_[a-z0-9_]+\b(?!\$)/g;

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

describe('docker_* names in prompts, descriptions and hints', () => {
  it('each name a tool in the catalogue, in every source file', () => {
    const unknown: string[] = [];
    for (const file of sources(SRC))
      for (const [word] of readFileSync(file, 'utf8').matchAll(MENTION))
        if (!TOOLS.has(word) && !NOT_TOOLS.has(word)) unknown.push(`${file.slice(SRC.length + 1)}: ${word}`);
    expect(unknown).toEqual([]);
  });

  it('each name a tool in the catalogue, in every tool description as listed', () => {
    const unknown = catalogue.flatMap((t) =>
      [...JSON.stringify([t.description, t.input, t.narrowHint ?? '']).matchAll(MENTION)]
        .map(([word]) => word)
        .filter((w) => !TOOLS.has(w))
        .map((w) => `${t.name}: ${w}`),
    );
    expect(unknown).toEqual([]);
  });

  it('finds a name that is not a tool', () => {
    expect([...'e.g. docker_exec_container running nslookup'.matchAll(MENTION)].map(([w]) => w)).toEqual([
      'docker_exec_container',
    ]);
    expect(TOOLS.has('docker_exec_container')).toBe(false);
  });
});
