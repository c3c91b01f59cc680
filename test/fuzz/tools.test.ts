/**
 * Every tool in the catalogue, fuzzed through the real pipeline (gate → validate → policy → run →
 * cap → redact → fence → map errors) with arguments generated from its own input schema, valid and
 * hostile. The engine is a recording stand-in that creates nothing, so accepted calls are harmless.
 *
 * Properties: every call answers (never throws, never hangs); a failure is an actionable ToolError;
 * a call the schema rejects (checked independently with TypeBox's Value.Check) or the policy refuses
 * sends NO request to the engine; no request path is steered by '..' segments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Value } from 'typebox/value';
import { MASK } from '../../src/core/redact.ts';
import type { AnyTool } from '../../src/core/tool.ts';
import { TOOLSETS } from '../../src/core/toolsets.ts';
import { runPipeline } from '../../src/pipeline/run.ts';
import { secretValues } from '../../src/pipeline/secrets.ts';
import { catalogue } from '../../src/tools/index.ts';
import {
  expectActionableError,
  expectNoTraversal,
  fcParams,
  fuzzTimeout,
  NAMES_THE_FIELD,
} from '../helpers/fuzz.ts';
import { pipelineEnv } from '../helpers/pipeline.ts';
import { type RecordingEngine, recordingEngine } from '../helpers/recording-engine.ts';
import { hostileArgs, type JsonSchema, validArgs, validValue } from '../helpers/schema-arbitrary.ts';

let dir: string;
let rec: RecordingEngine;
let env: ReturnType<typeof pipelineEnv>;
/** Host paths the generated calls may name: a private empty dir and file, and ones that must be refused. */
let hostPaths: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h8-fuzz-'));
  mkdirSync(join(dir, 'context'));
  rec = await recordingEngine(join(dir, 'e.sock'));
  // Every toolset on (swarm is off by default): its tools are fuzzed like the rest.
  env = pipelineEnv({ engine: rec.engineHandle(), timeoutMs: 10_000, profile: { toolsets: TOOLSETS } });
  hostPaths = [
    join(dir, 'context'),
    join(dir, 'out.tar'),
    '/etc',
    '/',
    '/var/run/docker.sock',
    `${dir}/../../etc`,
    'relative/ctx',
    '~/.ssh',
    '//etc//',
    rec.socketPath,
  ];
});

afterAll(async () => {
  await rec.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Host-path arguments never take a generated path: only ones inside our temp dir or known-refused ones. */
function confineHostPaths(tool: AnyTool, args: unknown, pick: number): unknown {
  if (!tool.hostPaths || typeof args !== 'object' || args === null || Array.isArray(args)) return args;
  const out = { ...(args as Record<string, unknown>) };
  for (const name of tool.hostPaths)
    if (typeof out[name] === 'string') out[name] = hostPaths[pick % hostPaths.length];
  return out;
}

const seen = { accepted: 0, rejected: 0, reachedEngine: 0 };

async function callAndCheck(tool: AnyTool, args: unknown): Promise<void> {
  rec.clear();
  const schemaAccepts = Value.Check(tool.input, args ?? {});
  const out = await runPipeline(tool, args, env);
  if (!schemaAccepts) {
    if (out.ok) throw new Error(`${tool.name} accepted arguments its schema rejects: ${preview(args)}`);
    expect(out.error.kind).toBe('invalid_argument');
    if (!namesTheField(out.error.message, secretValues(args, tool.secretArgs)))
      expect(out.error.message).toMatch(NAMES_THE_FIELD);
  }
  seen[schemaAccepts ? 'accepted' : 'rejected']++;
  if (rec.calls().length > 0) seen.reachedEngine++;
  if (!out.ok) {
    // 'internal' means a handler threw something unforeseen: a bug, whatever the input.
    if (out.error.kind === 'internal')
      throw new Error(`${tool.name}: internal error "${out.error.message}" for ${preview(args)}`);
    // The engine's socket path is ours to keep, unless the caller named it themselves.
    const named = (JSON.stringify(args) ?? '').includes(rec.socketPath);
    expectActionableError(out.error, named ? [] : [rec.socketPath]);
    const refusedBeforeRun = !schemaAccepts || out.error.kind === 'policy_denied';
    if (refusedBeforeRun && rec.requests.length > 0)
      throw new Error(
        `${tool.name}: rejected (${out.error.kind}: ${out.error.message}) yet the engine saw ${rec.requests
          .map((r) => `${r.method} ${r.path}`)
          .join(', ')} for ${preview(args)}`,
      );
  }
  expectNoTraversal(rec.calls());
}

/**
 * The message names the field, read with each masked secret value put back: a generated secret may be
 * one of the message's own words ('argument' as an env value), which the pipeline masks wherever it
 * appears, rightly, since it cannot tell our word from a quoted value.
 */
const namesTheField = (message: string, secrets: readonly string[]) =>
  [message, ...secrets.map((secret) => message.replaceAll(MASK, secret))].some((text) =>
    NAMES_THE_FIELD.test(text),
  );

const preview = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

describe('every tool, fuzzed through the real pipeline', () => {
  for (const tool of catalogue) {
    const schema = tool.input as unknown as JsonSchema;
    it(
      `${tool.name} answers every generated call and sends nothing to the engine for rejected ones`,
      async () => {
        const args = fc.tuple(fc.oneof(validArgs(schema), hostileArgs(schema)), fc.nat());
        await fc.assert(
          fc.asyncProperty(args, ([a, pick]) => callAndCheck(tool, confineHostPaths(tool, a, pick))),
          fcParams(40),
        );
      },
      fuzzTimeout(20_000),
    );
  }
});

describe('found by fuzzing', () => {
  it('control and non-ASCII characters in image references are refused before the engine (they ended as internal errors)', async () => {
    // The tools that put the reference into a request path (create/run send it in a JSON body).
    const imageTools = catalogue.filter((t) => (t.input as unknown as JsonSchema).properties?.image?.pattern);
    expect(imageTools.length).toBeGreaterThan(5);
    for (const t of imageTools)
      for (const image of [
        '\u0000',
        'busybox\u0000:latest',
        'a\u0007b',
        'x\u007f',
        'bad\u001b[31m',
        'Ā',
        '\ud800',
        'é/x',
      ]) {
        const args = confineHostPaths(
          t,
          { image, images: image, path: '/tmp', repository: 'r' },
          0,
        ) as Record<string, unknown>;
        const known = Object.keys((t.input as unknown as JsonSchema).properties ?? {});
        const out = await runPipeline(
          t,
          Object.fromEntries(Object.entries(args).filter(([k]) => known.includes(k))),
          env,
        );
        expect(out.ok ? 'ok' : out.error.kind).toBe('invalid_argument');
        if (!out.ok) expect(out.error.message).toContain("'image'");
      }
    const tag = catalogue.find((t) => t.name === 'docker_tag_image') as AnyTool;
    const out = await runPipeline(tag, { image: 'busybox', repository: 'r\u0000x' }, env);
    expect(out.ok ? 'ok' : out.error.kind).toBe('invalid_argument');
  });

  it("an image reference with a '.' component is refused before the engine (push sent /images/./push)", async () => {
    const imageTools = catalogue.filter((t) => (t.input as unknown as JsonSchema).properties?.image?.pattern);
    for (const t of imageTools)
      for (const image of ['.', './x', 'a/./b', 'a/.', 'localhost:5000/.hidden']) {
        const args = confineHostPaths(t, { image, path: '/tmp' }, 0) as Record<string, unknown>;
        const known = Object.keys((t.input as unknown as JsonSchema).properties ?? {});
        rec.clear();
        const out = await runPipeline(
          t,
          Object.fromEntries(Object.entries(args).filter(([k]) => known.includes(k))),
          env,
        );
        expect(out.ok ? 'ok' : out.error.message).toContain("'image'");
        expect(rec.requests).toHaveLength(0);
      }
    // A dot inside a component (a registry host, a tag) is still a reference.
    const inspect = catalogue.find((t) => t.name === 'docker_inspect_image') as AnyTool;
    const ok = await runPipeline(inspect, { image: 'registry.example:5000/a.b/c:1.2' }, env);
    expect(ok.ok ? 'ok' : ok.error.kind).toBe('not_found');
  });

  it('a misspelt registry credential key is refused readably (the redaction of errors had masked "unknown")', async () => {
    const pull = catalogue.find((t) => t.name === 'docker_pull_image') as AnyTool;
    rec.clear();
    const out = await runPipeline(pull, { image: 'busybox', auth: { user: 'a' } }, env);
    expect(out.ok ? 'ok' : out.error.message).toBe(
      `invalid argument 'auth': unknown key "user"; it takes: username, password, identitytoken`,
    );
    expect(rec.requests).toHaveLength(0);
  });

  it('an unknown key in a closed nested object is named with its field (was "arguments do not match the schema")', async () => {
    const prune = catalogue.find((t) => t.name === 'docker_system_prune') as AnyTool;
    // The counterexample fast-check shrank to: TypeBox reports only "schema is false" for these keys.
    const filters = { ' ': '', '!': 0, '"': null, '#': '', $: null, '%': false, '': 0, '&': 0 };
    rec.clear();
    const out = await runPipeline(prune, { filters }, env);
    expect(out.ok ? 'ok' : out.error.message).toMatch(/^invalid argument 'filters': unknown key/);
    expect(rec.requests).toHaveLength(0);
  });

  it('an oversized credential is refused naming it, never quoted back (a 10 MB identitytoken ended as engine_unreachable)', async () => {
    const pull = catalogue.find((t) => t.name === 'docker_pull_image') as AnyTool;
    for (const key of ['username', 'password', 'identitytoken']) {
      rec.clear();
      const out = await runPipeline(
        pull,
        { image: 'busybox', auth: { [key]: 's3cr3t'.repeat(20_000) } },
        env,
      );
      expect(out.ok ? 'ok' : out.error.message).toContain(`'auth.${key}'`);
      if (!out.ok) expect(`${out.error.message} ${out.error.hint}`).not.toContain('s3cr3t');
      expect(rec.requests).toHaveLength(0);
    }
  });

  it('an argument too long for the engine’s URL or headers is invalid_argument, not internal (HTTP 431)', async () => {
    const volume = catalogue.find((t) => t.name === 'docker_create_volume') as AnyTool;
    const out = await runPipeline(volume, { driver: 'A'.repeat(70_000) }, env);
    expect(out.ok ? 'ok' : out.error.kind).toBe('invalid_argument');
  });
});

/** Every string-typed property of a tool, top level and inside nested objects (auth.password), as paths. */
function stringFields(schema: JsonSchema, at: string[] = []): { path: string[]; schema: JsonSchema }[] {
  return Object.entries(schema.properties ?? {}).flatMap(([k, s]) => [
    ...([s.type].flat().includes('string') ? [{ path: [...at, k], schema: s }] : []),
    ...(s.properties ? stringFields(s, [...at, k]) : []),
  ]);
}

/** A character the field's pattern accepts over and over (so the length, not the pattern, is what refuses it). */
const fillFor = (s: JsonSchema): string =>
  ['x', 'a', '1', '7', '0'].find((c) => !s.pattern || new RegExp(s.pattern).test(c.repeat(64))) ?? 'x';

const typesOf = (s: JsonSchema) => [s.type ?? []].flat();
/** The schema of a map's values (`{"K":"v"}`), if `s` is a map rather than a closed object. */
const mapValue = (s: JsonSchema): JsonSchema | undefined =>
  Object.values(s.patternProperties ?? {})[0] ??
  (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
/** Holds a list or a map somewhere: labels, environment, filters, volumes, argv, system prune's filters. */
const holdsCollection = (s: JsonSchema): boolean =>
  (typesOf(s).includes('array') && s.items !== undefined) ||
  mapValue(s) !== undefined ||
  (s.anyOf ?? []).some(holdsCollection) ||
  Object.values(s.properties ?? {}).some(holdsCollection);
/** A key the map's own key rule accepts ('80' for ports), so only the value under test is wrong. */
const keyFor = (s: JsonSchema): string =>
  ['a', '80', 'label'].find(
    (k) => !s.propertyNames?.pattern || new RegExp(s.propertyNames.pattern).test(k),
  ) ?? 'a';
const sample = (s: JsonSchema): unknown => fc.sample(validValue(s), { numRuns: 1, seed: 8 })[0];

interface Slot {
  /** Where the huge string sits, below the argument: ['0'], ['a'], ['a', '0'], ['/src', 'bind']. */
  at: string[];
  /** The argument's whole value, the huge string included. */
  value: unknown;
  /** The huge string is a map key, named in the path (cut) with "the key". */
  onKey: boolean;
}

/**
 * Every place a string sits inside a list or map argument, each with a 10 MB string put there: a list
 * item, a map value, a map key, and so on down (a filter's list, a volume's bind, system prune's
 * filters). Strings directly in a closed object (auth.password) are stringFields' business.
 */
function collectionSlots(s: JsonSchema, huge: (field: JsonSchema) => string, inside = false): Slot[] {
  const slots: Slot[] = [];
  for (const alt of s.anyOf ?? []) slots.push(...collectionSlots(alt, huge, inside));
  if (inside && typesOf(s).includes('string')) slots.push({ at: [], value: huge(s), onKey: false });
  if (typesOf(s).includes('array') && s.items)
    for (const sub of collectionSlots(s.items, huge, true))
      slots.push({ ...sub, at: ['0', ...sub.at], value: [sub.value] });
  const values = mapValue(s);
  if (typesOf(s).includes('object') && values) {
    const key = keyFor(s);
    slots.push({
      at: [],
      value: { [huge({ type: 'string', ...s.propertyNames })]: sample(values) },
      onKey: true,
    });
    for (const sub of collectionSlots(values, huge, true))
      slots.push({ ...sub, at: [key, ...sub.at], value: { [key]: sub.value } });
  }
  if (typesOf(s).includes('object') && s.properties)
    for (const [name, prop] of Object.entries(s.properties)) {
      // The object's other required properties valid, so the one under test is the only thing wrong.
      const others = Object.fromEntries(
        (s.required ?? []).filter((r) => r !== name).map((r) => [r, sample(s.properties?.[r] ?? {})]),
      );
      for (const sub of collectionSlots(prop, huge, inside))
        slots.push({ ...sub, at: [name, ...sub.at], value: { ...others, [name]: sub.value } });
    }
  return slots;
}

describe('huge, deep and strange arguments', () => {
  const MB10 = 10 * 1024 * 1024;
  it('a 10 MB string in every string field of every tool is refused, naming the field, before the engine', async () => {
    const started = Date.now();
    const missed: string[] = [];
    let fields = 0;
    for (const tool of catalogue) {
      const schema = tool.input as unknown as JsonSchema;
      // The other required arguments valid, so the field under test is the only thing wrong.
      const base = Object.fromEntries(
        (schema.required ?? []).map((k) => [
          k,
          fc.sample(validValue(schema.properties?.[k] ?? {}), { numRuns: 1, seed: 8 })[0],
        ]),
      );
      for (const { path, schema: field } of stringFields(schema)) {
        const args = structuredClone(confineHostPaths(tool, base, 0)) as Record<string, unknown>;
        // Nested: {auth: {password: huge}}. The field under test is never confined: validation refuses it first.
        const huge = path.reduceRight<unknown>((v, k) => ({ [k]: v }), fillFor(field).repeat(MB10));
        Object.assign(args, huge);
        rec.clear();
        const out = await runPipeline(tool, args, env);
        const name = path.join('.');
        fields++;
        if (out.ok || out.error.kind !== 'invalid_argument' || !out.error.message.includes(`'${name}'`)) {
          missed.push(
            `${tool.name} ${name}: ${out.ok ? 'accepted' : `${out.error.kind}: ${out.error.message.slice(0, 120)}`}`,
          );
          continue;
        }
        expectActionableError(out.error);
        if (rec.requests.length > 0)
          missed.push(`${tool.name} ${name}: reached the engine (${rec.requests[0]?.path})`);
      }
    }
    console.log(`[fuzz] 10 MB in each of ${fields} string fields: ${Date.now() - started} ms`);
    expect(missed).toEqual([]);
    expect(fields).toBeGreaterThan(catalogue.length);
  }, 30_000);

  it('a 10 MB list item, map value and map key in every list and map argument of every tool is refused, naming the field, before the engine', async () => {
    const started = Date.now();
    const missed: string[] = [];
    let slots = 0;
    let collections = 0;
    for (const tool of catalogue) {
      const schema = tool.input as unknown as JsonSchema;
      const base = Object.fromEntries(
        (schema.required ?? []).map((k) => [k, sample(schema.properties?.[k] ?? {})]),
      );
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        if (!holdsCollection(prop)) continue;
        collections++;
        const found = collectionSlots(prop, (field) => fillFor(field).repeat(MB10));
        if (found.length === 0) missed.push(`${tool.name} ${name}: no string inside to fill`);
        for (const { at, value, onKey } of found) {
          const args = structuredClone(confineHostPaths(tool, base, 0)) as Record<string, unknown>;
          args[name] = value;
          rec.clear();
          const out = await runPipeline(tool, args, env);
          const path = [name, ...at].join('.');
          // A key is named in the path, cut ('labels.xxx…'), and the message says it is the key.
          const named = onKey ? `invalid argument '${path}.` : `invalid argument '${path}'`;
          const label = `${tool.name} ${onKey ? `${path} (key)` : path}`;
          slots++;
          if (out.ok || out.error.kind !== 'invalid_argument' || !out.error.message.startsWith(named)) {
            missed.push(
              `${label}: ${out.ok ? 'accepted' : `${out.error.kind}: ${out.error.message.slice(0, 120)}`}`,
            );
            continue;
          }
          if (onKey && !out.error.message.includes("': the key "))
            missed.push(`${label}: ${out.error.message}`);
          expectActionableError(out.error);
          if (rec.requests.length > 0) missed.push(`${label}: reached the engine (${rec.requests[0]?.path})`);
        }
      }
    }
    console.log(
      `[fuzz] 10 MB in ${slots} places inside ${collections} list/map arguments: ${Date.now() - started} ms`,
    );
    expect(missed).toEqual([]);
    // Labels, environment, ports, volumes, filters, options, capabilities, argv, aliases, tags, images…
    expect(collections).toBeGreaterThan(30);
  }, 60_000);

  it('a list or map argument of more entries than its limit is refused, naming it, before the engine', async () => {
    let checked = 0;
    for (const tool of catalogue) {
      const schema = tool.input as unknown as JsonSchema;
      const base = Object.fromEntries(
        (schema.required ?? []).map((k) => [k, sample(schema.properties?.[k] ?? {})]),
      );
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        const values = mapValue(prop);
        const tooMany = [
          ...(prop.maxItems !== undefined && prop.items
            ? [Array.from({ length: prop.maxItems + 1 }, () => sample(prop.items ?? {}))]
            : []),
          ...(prop.maxProperties !== undefined && values
            ? [
                Object.fromEntries(
                  Array.from({ length: prop.maxProperties + 1 }, (_, i) => [`k${i}`, sample(values)]),
                ),
              ]
            : []),
        ];
        for (const value of tooMany) {
          rec.clear();
          const args = { ...(confineHostPaths(tool, base, 0) as Record<string, unknown>), [name]: value };
          const out = await runPipeline(tool, args, env);
          expect(out.ok ? 'ok' : out.error.message).toStartWith(
            `invalid argument '${name}': must not have more than`,
          );
          expect(rec.requests).toHaveLength(0);
          checked++;
        }
      }
    }
    // Labels, environment (list and map), volumes (list and map), filters, options, capabilities…
    expect(checked).toBeGreaterThan(25);
  });

  it('arguments nested 10,000 deep are refused, naming the field, with no engine request', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    for (const tool of catalogue) {
      const name = Object.keys((tool.input as unknown as JsonSchema).properties ?? {})[0] ?? 'anything';
      await callAndCheck(tool, { [name]: deep });
    }
  });

  it('after all of the above the same pipeline still answers a plain call', async () => {
    const version = catalogue.find((t) => t.name === 'docker_version') as AnyTool;
    const out = await runPipeline(version, {}, env);
    // The stand-in answers /version, so the call succeeds; it reaches the engine exactly there.
    expect(out.ok).toBe(true);
  });

  it('the generators exercised both sides: calls the schema accepts (reaching the engine) and ones it rejects', () => {
    console.log(`[fuzz] tool calls: ${JSON.stringify(seen)}`);
    expect(seen.accepted).toBeGreaterThan(catalogue.length);
    expect(seen.rejected).toBeGreaterThan(catalogue.length);
    expect(seen.reachedEngine).toBeGreaterThan(catalogue.length);
  });
});
