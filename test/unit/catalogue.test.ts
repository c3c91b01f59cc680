/**
 * Guard-rails over every tool, and committed snapshots of what models see, so a change to a
 * name, description, schema or annotation shows up in review. UPDATE_TOOLSNAPS=1 rewrites them.
 */
import { describe, expect, it } from 'bun:test';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BEFORE_COMPOSE_OPTIONS, countedBytes, SEED_TOOLS } from '../../bench/seed-tools.ts';
import { DEFAULT_TOOLSETS, type Toolset } from '../../src/core/toolsets.ts';
import { gate, type SafetyProfile } from '../../src/pipeline/gate.ts';
import { declaredOutput, listedTool } from '../../src/tool-listing.ts';
import { composeTools } from '../../src/tools/compose/index.ts';
import { containerTools } from '../../src/tools/containers/index.ts';
import { imageTools } from '../../src/tools/images/index.ts';
import { catalogue } from '../../src/tools/index.ts';
import { networkTools } from '../../src/tools/networks/index.ts';
import { swarmTools } from '../../src/tools/swarm/index.ts';
import { systemTools } from '../../src/tools/system/index.ts';
import { volumeTools } from '../../src/tools/volumes/index.ts';

const SNAP_DIR = join(import.meta.dir, '..', '__toolsnaps__');
const update = process.env.UPDATE_TOOLSNAPS === '1';

const sortKeys = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sortKeys)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        )
      : v;

function matchSnapshot(file: string, value: unknown) {
  const path = join(SNAP_DIR, file);
  const text = `${JSON.stringify(sortKeys(value), null, 2)}\n`;
  if (update || (!existsSync(path) && !process.env.CI)) {
    mkdirSync(SNAP_DIR, { recursive: true });
    writeFileSync(path, text);
    return;
  }
  if (!existsSync(path))
    throw new Error(`missing snapshot ${file}: run UPDATE_TOOLSNAPS=1 bun test and commit it`);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

const modelFacingBytes = (t: ReturnType<typeof listedTool>) =>
  Buffer.byteLength(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema }));

describe('tool catalogue', () => {
  const listed = catalogue.map((t) => listedTool(t));

  it('names every tool docker_<verb>_<noun> (or a seed name such as docker_events), uniquely', () => {
    const names = catalogue.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^docker_[a-z]+(_[a-z]+)*$/);
  });

  it('is sorted by category then name, so tools/list is deterministic', () => {
    const categories = [
      containerTools,
      imageTools,
      networkTools,
      volumeTools,
      systemTools,
      composeTools,
      swarmTools,
    ];
    const expected = categories.flatMap((c) => c.map((t) => t.name).sort((a, b) => a.localeCompare(b)));
    expect(catalogue.map((t) => t.name)).toEqual(expected);
  });

  // Every listed byte is read on every turn, so a property is described only when its name (plus type,
  // enum or default) leaves something open. Names that say it all are listed here; a new property
  // outside the list needs a description, and units and formats always do.
  const SELF_EXPLANATORY = new Set(
    `all_tags build_args cap_add cap_drop container_id cpus enable_ipv6 entrypoint force full gateway
    hostname image ipc_mode labels project_dir project_name profiles services remove_orphans limit max_events name network_id new_name no_cache overwrite pid_mode
    privileged security_opt stderr stdin stdout tag tags tail timestamps tty userns_mode volume_name wait
    workdir working_dir service node task replicas env networks limit_cpus update_config rollback_config
    manager_engine role availability`.split(/\s+/),
  );
  // Compose's service keys on create and run (issue 15) take Compose's shapes, which models know;
  // describing each would cost the budget below. Their durations and sizes are still described.
  // Compose's project keys, described on config and up, mean what `--project-directory` and `-f` mean.
  SELF_EXPLANATORY.add('files');
  for (const k of 'healthcheck read_only tmpfs ulimits init dns extra_hosts networks stop_signal'.split(' '))
    SELF_EXPLANATORY.add(k);
  const NEEDS_UNIT_OR_FORMAT = new Set(
    `timeout max_wait mem_limit memory_swap cpu_shares ports volumes environment command since until
    user path mode devices subnet filters shm_size stop_grace_period`.split(/\s+/),
  );

  it('describes every input property whose name alone is ambiguous, and keeps descriptions short', () => {
    for (const t of listed) {
      expect(t.description?.length ?? 0).toBeLessThanOrEqual(200);
      expect(t.title?.length ?? 0).toBeGreaterThan(0);
      const props = (t.inputSchema.properties ?? {}) as Record<
        string,
        { description?: string; enum?: unknown }
      >;
      for (const [k, p] of Object.entries(props)) {
        expect(p.description?.length ?? 0).toBeLessThanOrEqual(80);
        if (p.description) continue;
        if (NEEDS_UNIT_OR_FORMAT.has(k) && !p.enum)
          throw new Error(`${t.name}.${k} needs its unit or format`);
        if (!SELF_EXPLANATORY.has(k) && !p.enum) throw new Error(`${t.name}.${k} has no description`);
      }
    }
  });

  // The listed copy leaves out `additionalProperties: false` (bytes); the schema the pipeline validates
  // against keeps it, so an unknown argument is still refused by name.
  it('has plain object input schemas: no top-level anyOf/oneOf/allOf, unknown arguments refused', () => {
    for (const t of listed) {
      const s = t.inputSchema as Record<string, unknown>;
      expect(s.type).toBe('object');
      for (const k of ['anyOf', 'oneOf', 'allOf']) expect(s[k]).toBeUndefined();
      expect(s.additionalProperties).toBeUndefined();
      const own = catalogue.find((c) => c.name === t.name)?.input as { additionalProperties?: unknown };
      expect(own.additionalProperties).toBe(false);
    }
  });

  it('sets a safety level on every tool and derives all hints from it', () => {
    for (const t of listed) {
      expect(['safe', 'moderate', 'destructive']).toContain(
        catalogue.find((c) => c.name === t.name)?.safety as string,
      );
      const hints = t.annotations as Record<string, unknown>;
      // Either read-only, or a writer that states whether it destroys; never both, never neither.
      expect(hints.readOnlyHint === true).toBe(hints.destructiveHint === undefined);
      if (hints.readOnlyHint !== true) expect(typeof hints.destructiveHint).toBe('boolean');
      for (const v of Object.values(hints)) expect(typeof v).toBe('boolean');
    }
  });

  // Issue 7's targets: 350 B/tool on average, and the seed's 36 tools within 12 KB (bench/ reports the
  // same figures). A new option or tool has to pay for its bytes somewhere.
  // DECISIONS: the core toolsets keep 350 B/tool on average, counting create and run at their size
  // before Compose's options (bench/seed-tools.ts, which the bench's report shares).
  it('keeps the model-facing tool list small: core ≤ 350 B per tool on average, the seed 36 ≤ 12 KB, ≤ 1.7 KB any tool (create and run ≤ 2 KB)', () => {
    const sizes = listed.map((t) => [t.name, modelFacingBytes(t)] as const);
    const counted = countedBytes;
    const core = sizes.filter(
      ([name]) => !composeTools.some((t) => t.name === name) && !swarmTools.some((t) => t.name === name),
    );
    const total = core.reduce((n, [name, b]) => n + counted(name, b), 0);
    expect(total / core.length).toBeLessThanOrEqual(350);
    const seed = sizes.filter(([name]) => SEED_TOOLS.has(name));
    expect(seed).toHaveLength(36);
    expect(seed.reduce((n, [name, b]) => n + counted(name, b), 0)).toBeLessThanOrEqual(12 * 1024);
    for (const [name, b] of sizes)
      if (b > (name in BEFORE_COMPOSE_OPTIONS ? 2048 : 1700)) throw new Error(`${name} lists ${b} bytes`);
  });

  const TOOLSET_BUDGET: Partial<Record<Toolset, number>> = { compose: 5 * 1024, swarm: 12 * 1024 };
  it('keeps each toolset within its byte budget, and the default listing within 23 KB', () => {
    const bytesOf = (ts: readonly Toolset[]) =>
      catalogue
        .filter((t) => t.toolset && ts.includes(t.toolset))
        .reduce((n, t) => n + modelFacingBytes(listedTool(t)), 0);
    for (const [ts, budget] of Object.entries(TOOLSET_BUDGET)) {
      const b = bytesOf([ts as Toolset]);
      if (b > (budget as number)) throw new Error(`toolset ${ts} lists ${b} bytes (budget ${budget})`);
    }
    expect(bytesOf(composeTools.length ? ['compose'] : [])).toBeGreaterThan(0);
    expect(bytesOf(DEFAULT_TOOLSETS)).toBeLessThanOrEqual(23 * 1024);
  });

  it('lists lean schemas: constraints the server enforces are not repeated to the model', () => {
    const keywords = new Set<string>();
    const walk = (node: unknown, isPropertyMap = false): void => {
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if (!isPropertyMap) keywords.add(k);
        walk(v, !isPropertyMap && k === 'properties');
      }
    };
    for (const t of listed) walk(t.inputSchema);
    for (const k of ['pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'patternProperties'])
      expect(keywords.has(k)).toBe(false);
    expect(keywords.has('description')).toBe(true); // the walk did reach the properties
  });

  // The snapshot is the tool as `--output-schemas full` lists it, so a change to a result's declared
  // fields shows in review too; the default listing differs only in its one shared output schema.
  it('matches the committed snapshot of every tool', () => {
    for (const t of catalogue) matchSnapshot(`${t.name}.json`, listedTool(t, undefined, 'full'));
  });

  it('lists every output schema as the same object schema by default, and the declared one in full', () => {
    for (const [i, t] of listed.entries()) {
      expect(t.outputSchema).toEqual({ type: 'object' });
      const full = listedTool(catalogue[i] as (typeof catalogue)[number], undefined, 'full');
      expect(full.outputSchema).toEqual(declaredOutput(catalogue[i] as (typeof catalogue)[number]));
      expect({ ...full, outputSchema: t.outputSchema }).toEqual(t);
    }
  });

  it('matches the committed tool lists of the default, read-only and all-tiers modes', () => {
    const base: SafetyProfile = {
      allowModerate: true,
      allowDestructive: false,
      readOnly: false,
      allowedTools: [],
      deniedTools: [],
    };
    const modes: Record<string, SafetyProfile> = {
      default: base,
      'read-only': { ...base, readOnly: true },
      'all-tiers': { ...base, allowDestructive: true },
    };
    for (const [mode, p] of Object.entries(modes))
      matchSnapshot(
        `_list.${mode}.json`,
        catalogue.filter((t) => gate(t, p).allowed).map((t) => t.name),
      );
  });
});
