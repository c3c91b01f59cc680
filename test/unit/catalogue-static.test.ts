/**
 * tools/list is answered from the catalogue's data made at build time (src/catalogue-static.ts); these
 * tests hold that listing equal to the one made from the catalogue itself, for every profile shape and
 * with one engine or several, so the copy can never drift from the tools.
 */
import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import { UnknownToolError } from '../../src/call-result.ts';
import { STATIC_CATALOGUE } from '../../src/catalogue-listing.ts';
import { loadConfig } from '../../src/config/layers.ts';
import { runtimeOf } from '../../src/config/runtime.ts';
import type { Toolset } from '../../src/core/toolsets.ts';
import { listsBuildTimeText, startListing } from '../../src/default-listing.ts';
import { configuredEngines, engineRegistry } from '../../src/docker/engines.ts';
import { callTool, listTools, listToolsJson } from '../../src/tool-calls.ts';
import { defaultEngineListing, listedFor, type OutputSchemas } from '../../src/tool-listing.ts';
import { PART_LOADERS, TOOLSET_LOADERS } from '../../src/tools/by-toolset.ts';
import { catalogue } from '../../src/tools/index.ts';
import { PART_OF } from '../../src/tools/parts.ts';
import { stubEngine, stubEngines, stubPipelineEnv, testProfile } from '../helpers/stub-engine.ts';

const profiles = {
  default: testProfile(),
  'read-only': testProfile({ readOnly: true, allowModerate: false }),
  'all tiers': testProfile({ allowDestructive: true }),
  'allow list': testProfile({ allowedTools: ['docker_list_containers', 'docker_stop_container'] }),
  'deny list': testProfile({ deniedTools: ['docker_list_containers'] }),
};

describe('the catalogue data made at build time', () => {
  it('holds every tool of the catalogue, in order, without handlers', () => {
    expect(STATIC_CATALOGUE.map((t) => t.name)).toEqual(catalogue.map((t) => t.name));
    for (const t of STATIC_CATALOGUE) expect('handler' in t).toBe(false);
  });

  for (const [name, profile] of Object.entries(profiles))
    it(`lists what the catalogue lists, profile ${name}, one engine and three`, () => {
      const one = stubEngines();
      expect(listedFor(STATIC_CATALOGUE, one, profile)).toEqual(listedFor(catalogue, one, profile));
      const three = engineRegistry([stubEngine('a'), stubEngine('b'), stubEngine('c')]);
      expect(listedFor(STATIC_CATALOGUE, three, profile)).toEqual(listedFor(catalogue, three, profile));
    });
});

describe('tools/list as JSON text', () => {
  const shapes = {
    ...profiles,
    'one tool allowed': testProfile({ allowedTools: ['docker_list_containers'] }),
    'no tool allowed': testProfile({ allowedTools: ['docker_nothing'] }),
    'compose and swarm on': testProfile({ toolsets: ['containers', 'compose', 'swarm'] }),
  };
  const depsOf = (profile: ReturnType<typeof testProfile>, several: boolean, outputs: OutputSchemas) => ({
    catalogue: catalogue,
    prelisted: async () => STATIC_CATALOGUE,
    env: stubPipelineEnv(profile, {
      engines: several ? engineRegistry([stubEngine('a'), stubEngine('b')]) : stubEngines(),
    }),
    version: '0',
    outputSchemas: outputs,
  });

  for (const [name, profile] of Object.entries(shapes))
    it(`is the listing's JSON byte for byte, profile ${name}, lean and full, one engine and two`, async () => {
      for (const several of [false, true])
        for (const outputs of ['lean', 'full'] as const) {
          const deps = depsOf(profile, several, outputs);
          expect([name, several, outputs, await listToolsJson(deps)]).toEqual([
            name,
            several,
            outputs,
            JSON.stringify(await listTools(deps)),
          ]);
        }
    });

  // What main.ts's stdio start-up lists with, before the engine layer loads: the build-time text for
  // the default profile, else the catalogue's data against the default engine's name and ceiling.
  const { config, host } = loadConfig([], {});
  const rt = runtimeOf(config, host);
  const server = rt.pipeline.profile;
  // The server's default profile with one setting changed each: none of them may list the default text.
  const changed = {
    'server default, read-only': { ...server, readOnly: true, allowModerate: false },
    'server default, all tiers': { ...server, allowDestructive: true },
    'server default, deny list': { ...server, deniedTools: ['docker_list_containers'] },
    'server default, allow list': { ...server, allowedTools: ['docker_list_containers', 'docker_logs'] },
    'server default, a credential limited to one engine': { ...server, engines: ['default'] },
  };
  const startShapes = { 'server default': server, ...changed, ...shapes };

  it('lists a server with every setting at its default from the build-time text, and no other', () => {
    expect(listsBuildTimeText(rt.pipeline.profile)).toBe(true);
    for (const profile of Object.values({ ...changed, ...shapes }))
      expect(listsBuildTimeText(profile)).toBe(false);
    const set = loadConfig([], { MCP_DOCKER_TOOLSETS: 'containers' });
    expect(listsBuildTimeText(runtimeOf(set.config, set.host).pipeline.profile)).toBe(false);
  });
  for (const [name, profile] of Object.entries(startShapes))
    it(`is, before the engine layer loads, the listing of a server with no engine configured, profile ${name}`, async () => {
      expect(rt.engines).toEqual([]);
      for (const outputs of ['lean', 'full'] as const) {
        const deps = {
          ...depsOf(profile, false, outputs),
          env: stubPipelineEnv(profile, { engines: configuredEngines(rt.engines, rt.engineSettings) }),
        };
        const listed = await listToolsJson(deps);
        expect([name, outputs, await startListing(profile, outputs)]).toEqual([name, outputs, listed]);
        expect([name, outputs, await defaultEngineListing(profile, outputs)]).toEqual([
          name,
          outputs,
          listed,
        ]);
      }
    });

  it("joins the tools' build-time texts for the default listing, parsing none", async () => {
    const deps = depsOf(testProfile(), false, 'lean');
    const { tools } = await listTools(deps);
    const texts = tools.map((t) => STATIC_CATALOGUE.find((s) => s.name === t.name)?.listedJson);
    expect(texts.every((x) => typeof x === 'string')).toBe(true);
    expect(await listToolsJson(deps)).toBe(`{"tools":[${texts.join(',')}]}`);
  });
});

describe('the catalogue by toolset (a call loads only its tool’s category)', () => {
  it('holds the same tools as the catalogue, handlers included', async () => {
    const loaded = (await Promise.all(Object.values(TOOLSET_LOADERS).map((load) => load()))).flat();
    expect(loaded.map((t) => [t.name, t.toolset])).toEqual(catalogue.map((t) => [t.name, t.toolset]));
    for (const [i, t] of loaded.entries()) expect(t.handler).toBe(catalogue[i]?.handler as AnyHandler);
  });

  it('loads in each part only the tools parts.ts names for it, the same tools as the catalogue', async () => {
    const named = [...new Set(PART_OF.values())].sort();
    expect(Object.keys(PART_LOADERS).sort()).toEqual(named);
    for (const [part, load] of Object.entries(PART_LOADERS)) {
      const tools = await load();
      const want = [...PART_OF].filter(([, p]) => p === part).map(([t]) => t);
      expect(tools.map((t) => t.name).sort()).toEqual(want.sort());
      for (const t of tools) {
        const same = catalogue.find((c) => c.name === t.name);
        expect([t.toolset, t.handler]).toEqual([same?.toolset, same?.handler as AnyHandler]);
      }
    }
  });

  it('runs a call with its toolset alone, and knows no tool the data does not hold', async () => {
    const asked: (Toolset | string)[] = [];
    const docker = { modem: { dial: (_o: unknown, cb: (e: unknown, d: unknown) => void) => cb(null, []) } };
    const deps = {
      catalogue: async () => {
        throw new Error('the whole catalogue was loaded');
      },
      prelisted: async () => STATIC_CATALOGUE,
      toolset: (name: Toolset, part?: string) => {
        asked.push(part ?? name);
        return ((part && PART_LOADERS[part]) || TOOLSET_LOADERS[name])();
      },
      env: stubPipelineEnv(testProfile(), {
        engines: engineRegistry([stubEngine('default', docker as unknown as Dockerode)]),
      }),
      version: '0',
    };
    const signal = new AbortController().signal;
    const r = await callTool(
      deps,
      { name: 'docker_list_containers', arguments: {} },
      { signal, modern: false },
    );
    expect(r).toEqual({
      content: [{ type: 'text', text: '{"containers":[],"count":0}' }],
      structuredContent: { containers: [], count: 0 },
    });
    await callTool(
      deps,
      { name: 'docker_inspect_container', arguments: { container_id: 'x' } },
      { signal, modern: false },
    );
    // List and inspect load their part alone; any other container tool, the whole toolset, once.
    expect(asked).toEqual(['container-views']);
    await callTool(
      deps,
      { name: 'docker_container_top', arguments: { container_id: 'x' } },
      { signal, modern: false },
    );
    await callTool(
      deps,
      { name: 'docker_container_diff', arguments: { container_id: 'x' } },
      { signal, modern: false },
    );
    await callTool(deps, { name: 'docker_list_containers', arguments: {} }, { signal, modern: false });
    expect(asked).toEqual(['container-views', 'containers']);
    await expect(callTool(deps, { name: 'docker_nope' }, { signal, modern: false })).rejects.toBeInstanceOf(
      UnknownToolError,
    );
  });
});

type AnyHandler = (typeof catalogue)[number]['handler'];
