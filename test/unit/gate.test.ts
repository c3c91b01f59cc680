import { describe, expect, it } from 'bun:test';
import Type from 'typebox';
import { NO_CEILING } from '../../src/core/engine.ts';
import { type AnyTool, raisedTiers, type Safety } from '../../src/core/tool.ts';
import { DEFAULT_TOOLSETS, type Toolset } from '../../src/core/toolsets.ts';
import { annotationsFor } from '../../src/pipeline/annotations.ts';
import { engineTiers, gate, gateContent, tierOf } from '../../src/pipeline/gate.ts';
import { type PipelineEnv, runPipeline } from '../../src/pipeline/run.ts';
import { prompts } from '../../src/prompts/index.ts';
import { resources } from '../../src/resources/index.ts';
import { catalogue } from '../../src/tools/index.ts';
import { capProfile, resolveAuthFile } from '../../src/transport/http/credentials.ts';
import { stubPipelineEnv, testProfile } from '../helpers/stub-engine.ts';

const tool = (name: string, safety: Safety, toolset?: Toolset): AnyTool => ({
  name,
  title: 'T',
  description: 'd',
  safety,
  idempotent: false,
  input: Type.Object({}),
  output: Type.Object({}),
  handler: async () => ({}),
  ...(toolset && { toolset }),
});
const profile = testProfile;

const logs = tool('docker_container_logs', 'safe', 'containers');
const inspect = tool('docker_inspect_container', 'safe', 'containers');
const pull = tool('docker_pull_image', 'moderate', 'images');
const tools = new Map([logs, inspect, pull].map((t) => [t.name, t]));
const lookup = (n: string) => tools.get(n);

describe('gate: toolsets', () => {
  it('allows a tool of a default toolset when the profile names none, and refuses swarm', () => {
    expect(gate(logs, profile()).allowed).toBe(true);
    expect(gate(tool('docker_service_list', 'safe', 'swarm'), profile()).allowed).toBe(false);
  });

  it('refuses a tool whose toolset is off, naming the toolset and the flag that switches it on', () => {
    const d = gate(pull, profile({ toolsets: ['containers'] }));
    expect(d).toEqual({
      allowed: false,
      reason: "docker_pull_image belongs to toolset 'images', which is not switched on",
      hint: 'Add images to --toolsets (MCP_DOCKER_TOOLSETS) to use it.',
    });
  });

  it("words a credential's refusal from its origin, without the server's flags", () => {
    const p = profile({ toolsets: ['containers'], origin: "profile 'logs-only'" });
    const d = gate(pull, p);
    expect(d.allowed).toBe(false);
    if (d.allowed) return;
    expect(d.reason).toBe(
      "docker_pull_image belongs to toolset 'images', which your credential does not switch on",
    );
    expect(d.hint).toContain("profile 'logs-only'");
    expect(d.hint).not.toContain('--toolsets');
    const ro = gate(pull, profile({ readOnly: true, origin: "profile 'read-only'" }));
    expect(ro.allowed || ro.reason).toBe('docker_pull_image changes state and your credential is read-only');
    const server = gate(pull, profile({ readOnly: true }));
    expect(server.allowed || server.reason).toBe(
      'docker_pull_image changes state and the server is read-only',
    );
    expect(server.allowed || server.hint).toBe('Restart without --read-only to use it.');
  });

  it('gives the same answer for a listing and for a call with arguments on the default engine', () => {
    for (const p of [profile(), profile({ toolsets: ['images'] }), profile({ allowedTools: [logs.name] })])
      for (const t of [logs, inspect, pull])
        expect(
          gate(t, p, { args: { container_id: 'web' }, engine: { name: 'default', ceiling: NO_CEILING } }),
        ).toEqual(gate(t, p));
  });
});

describe('gate: escalation by argument', () => {
  const save: AnyTool = {
    ...tool('docker_save_image', 'moderate', 'images'),
    escalate: { overwrite: 'destructive' },
  };
  const refusal = (d: ReturnType<typeof gate>) => (d.allowed ? 'allowed' : `${d.reason} | ${d.hint}`);

  it('lists the tool by its own tier, and allows a call that leaves the argument out, false or null', () => {
    expect(gate(save, profile()).allowed).toBe(true);
    for (const args of [{}, { overwrite: false }, { overwrite: null }, { path: '/tmp/a.tar' }])
      expect(gate(save, profile(), { args }).allowed).toBe(true);
  });

  it("tells the audit hook the tier the call runs at, not the tool's own", async () => {
    const seen: string[] = [];
    const env: PipelineEnv = {
      ...stubPipelineEnv(profile({ allowDestructive: true })),
      observe: (c) => {
        if (c.event === 'tool_call') seen.push(c.safety);
        return undefined;
      },
    };
    const run = { ...save, input: Type.Object({ overwrite: Type.Optional(Type.Boolean()) }) };
    await runPipeline(run, {}, env);
    await runPipeline(run, { overwrite: true }, env);
    expect(seen).toEqual(['moderate', 'destructive']);
  });

  it('refuses a call that sets it while destructive is off, naming the argument and the setting', () => {
    expect(refusal(gate(save, profile(), { args: { overwrite: true } }))).toBe(
      "docker_save_image with 'overwrite' is destructive and destructive operations are disabled | " +
        "Set SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true to allow it, or call without 'overwrite'.",
    );
    // Any set value counts (validation refuses the wrong type afterwards): the gate errs on the safe side.
    expect(gate(save, profile(), { args: { overwrite: 'yes' } }).allowed).toBe(false);
    expect(gate(save, profile({ allowDestructive: true }), { args: { overwrite: true } }).allowed).toBe(true);
  });

  it('refuses it under read-only, where the tool is not even listed', () => {
    const ro = profile({ readOnly: true, allowDestructive: true });
    expect(gate(save, ro).allowed).toBe(false);
    expect(refusal(gate(save, ro, { args: { overwrite: true } }))).toContain(
      "docker_save_image with 'overwrite' changes state and the server is read-only",
    );
  });

  it('does not suggest leaving the argument out under read-only when the tool alone changes state', () => {
    const ro = profile({ readOnly: true, allowDestructive: true });
    const said = refusal(gate(save, ro, { args: { overwrite: true } }));
    expect(said).toContain('Restart without --read-only to use it.');
    expect(said).not.toContain('call without');
    const read: AnyTool = { ...tool('docker_x', 'safe'), escalate: { write: 'moderate' } };
    expect(refusal(gate(read, ro, { args: { write: true } }))).toContain(", or call without 'write'");
  });

  it("words a credential's refusal from its origin", () => {
    const p = profile({ origin: "profile 'ops'" });
    expect(gate(save, p).allowed).toBe(true);
    const d = gate(save, p, { args: { overwrite: true } });
    expect(refusal(d)).toBe(
      "docker_save_image with 'overwrite' is destructive and your credential does not allow destructive operations | " +
        "Your credential has profile 'ops', which does not allow it; ask the server's operator for a profile that does.",
    );
  });

  it('takes the highest tier among the arguments set, never lowering the tool’s own', () => {
    const t: AnyTool = { ...tool('docker_x', 'destructive'), escalate: { a: 'moderate' } };
    expect(tierOf(t, { a: true })).toEqual({ tier: 'destructive' });
    expect(tierOf(save, { overwrite: true })).toEqual({ tier: 'destructive', by: 'overwrite' });
    expect(tierOf(save)).toEqual({ tier: 'moderate' });
  });

  it('raises a per-value escalation only at its values', () => {
    const t: AnyTool = { ...tool('docker_x', 'moderate'), escalate: { role: { manager: 'destructive' } } };
    expect(tierOf(t, { role: 'manager' })).toEqual({ tier: 'destructive', by: 'role' });
    expect(tierOf(t, { role: 'worker' })).toEqual({ tier: 'moderate' });
    expect(tierOf(t, { role: 'constructor' })).toEqual({ tier: 'moderate' });
    expect(tierOf(t, { role: true })).toEqual({ tier: 'moderate' });
    expect(raisedTiers(t)).toEqual(['destructive']);
    expect(annotationsFor(t).destructiveHint).toBe(true);
  });

  it('marks the catalogue tools whose arguments escalate as destructive in their annotations', () => {
    expect(annotationsFor(save)).toMatchObject({ destructiveHint: true });
    expect(annotationsFor(save).readOnlyHint).toBeUndefined();
    for (const name of ['docker_save_image', 'docker_tag_image']) {
      const t = catalogue.find((c) => c.name === name) as AnyTool;
      expect(t.safety).toBe('moderate');
      expect(raisedTiers(t)).toContain('destructive');
      expect(annotationsFor(t).destructiveHint).toBe(true);
    }
    for (const t of catalogue) {
      const hints = annotationsFor(t);
      // A read-only tool states only that; the spec has clients ignore destructiveHint for it.
      expect(hints.readOnlyHint === true ? false : hints.destructiveHint).toBe(
        t.safety === 'destructive' || raisedTiers(t).includes('destructive'),
      );
    }
  });
});

describe('engine tiers as docker_list_engines shows them', () => {
  const flags = [false, true];
  const moderate = tool('docker_pull_image', 'moderate');
  const destructive = tool('docker_remove_image', 'destructive');
  it('agree with the gate for every profile and engine ceiling', () => {
    let cases = 0;
    for (const readOnly of flags)
      for (const allowModerate of flags)
        for (const allowDestructive of flags)
          for (const ceilingReadOnly of flags)
            for (const ceilingDestructive of flags) {
              const p = profile({ readOnly, allowModerate, allowDestructive });
              const engine = {
                name: 'e',
                ceiling: { readOnly: ceilingReadOnly, allowDestructive: ceilingDestructive },
              };
              const shown = engineTiers(p, engine.ceiling);
              const may = (t: AnyTool) => gate(t, p, { engine }).allowed;
              expect({ readOnly, allowModerate, allowDestructive, engine: engine.ceiling, shown }).toEqual({
                readOnly,
                allowModerate,
                allowDestructive,
                engine: engine.ceiling,
                shown: { readOnly: !may(moderate) && !may(destructive), allowDestructive: may(destructive) },
              });
              cases++;
            }
    expect(cases).toBe(32);
  });
});

describe('gate: prompts and resources', () => {
  const item = {
    toolset: 'containers' as const,
    uses: ['docker_inspect_container', 'docker_container_logs'],
  };

  it('allows content whose toolset is on and whose every used tool passes', () => {
    expect(gateContent(item, lookup, profile()).allowed).toBe(true);
  });

  it('refuses content when one used tool is not allowed, naming that tool', () => {
    const d = gateContent(item, lookup, profile({ allowedTools: ['docker_inspect_container'] }));
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.reason).toContain('docker_container_logs is not in the allowed tool list');
    expect(gateContent(item, lookup, profile({ deniedTools: ['docker_container_logs'] })).allowed).toBe(
      false,
    );
  });

  it('refuses content whose toolset is off even when its tools are allowed', () => {
    const d = gateContent({ ...item, toolset: 'networks' }, lookup, profile({ toolsets: ['containers'] }));
    expect(d.allowed || d.reason).toBe("it belongs to toolset 'networks', which is not switched on");
  });

  it('refuses content that uses a tool the catalogue does not hold', () => {
    expect(gateContent({ toolset: 'containers', uses: ['docker_nothing'] }, lookup, profile()).allowed).toBe(
      false,
    );
  });
});

describe('the catalogue', () => {
  const names = new Set(catalogue.map((t) => t.name));

  it('puts every tool in a toolset, by category', () => {
    for (const t of catalogue) expect(t.toolset).toBeDefined();
    expect(catalogue.find((t) => t.name === 'docker_pull_image')?.toolset).toBe('images');
    expect(catalogue.find((t) => t.name === 'docker_list_networks')?.toolset).toBe('networks');
    expect(catalogue.find((t) => t.name === 'docker_list_volumes')?.toolset).toBe('volumes');
    expect(catalogue.find((t) => t.name === 'docker_system_info')?.toolset).toBe('system');
  });

  it('gives every prompt and resource a toolset and only tools that exist as uses', () => {
    for (const c of [...prompts, ...resources]) {
      expect(DEFAULT_TOOLSETS).toContain(c.toolset);
      expect(c.uses.length).toBeGreaterThan(0);
      for (const u of c.uses) expect(names).toContain(u);
    }
  });

  it('shows a credential limited to docker_container_logs the logs resource and no prompt', () => {
    const p = profile({ allowedTools: ['docker_container_logs'] });
    const byName = (n: string) => catalogue.find((t) => t.name === n);
    expect(resources.filter((r) => gateContent(r, byName, p).allowed).map((r) => r.name)).toEqual([
      'container_logs',
    ]);
    expect(prompts.filter((x) => gateContent(x, byName, p).allowed)).toEqual([]);
    expect(catalogue.filter((t) => gate(t, p).allowed).map((t) => t.name)).toEqual(['docker_container_logs']);
  });

  it('shows a credential limited to the images toolset only image tools, and no prompt or resource', () => {
    const p = profile({ toolsets: ['images'] });
    const byName = (n: string) => catalogue.find((t) => t.name === n);
    const listed = catalogue.filter((t) => gate(t, p).allowed);
    expect(listed.length).toBeGreaterThan(0);
    for (const t of listed) expect(t.toolset).toBe('images');
    expect([...prompts, ...resources].filter((x) => gateContent(x, byName, p).allowed)).toEqual([]);
  });
});

describe('auth file toolsets', () => {
  const ceiling = profile({ allowDestructive: true });

  it('limits a credential to the toolsets its profile names, expanding default and all', () => {
    const auth = resolveAuthFile(
      {
        profiles: { img: { base: 'moderate', toolsets: ['images'] }, every: { toolsets: ['all'] } },
        clients: { a: { profile: 'img' }, b: { profile: 'every' }, c: { profile: 'read-only' } },
      },
      ceiling,
    );
    expect(auth.clients.get('a')?.profile.toolsets).toEqual(['images']);
    // 'all' is capped by the server's toolsets (the defaults: no swarm).
    expect(auth.clients.get('b')?.profile.toolsets).toEqual([...DEFAULT_TOOLSETS]);
    expect(auth.clients.get('c')?.profile.toolsets).toBeUndefined();
  });

  it('refuses an unknown toolset, naming the key and the known ones', () => {
    expect(() =>
      resolveAuthFile(
        { profiles: { x: { toolsets: ['dockerz'] } }, clients: { a: { profile: 'x' } } },
        ceiling,
      ),
    ).toThrow("profiles.x.toolsets: unknown toolset 'dockerz'; known: containers, images");
  });

  it('never gives a credential a toolset the server does not switch on', () => {
    const capped = capProfile(
      profile({ toolsets: ['images', 'swarm'] }),
      profile({ toolsets: ['containers', 'images'] }),
    );
    expect(capped.toolsets).toEqual(['images']);
    expect(capProfile(profile(), profile({ toolsets: ['volumes'] })).toolsets).toEqual(['volumes']);
  });
});
