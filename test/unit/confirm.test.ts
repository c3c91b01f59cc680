import { describe, expect, it } from 'bun:test';
import Type from 'typebox';
import { answerOf, answerRound, type Reply } from '../../src/call-result.ts';
import { defineTool } from '../../src/core/tool.ts';
import { engineRegistry } from '../../src/docker/engines.ts';
import { canElicit } from '../../src/initialize.ts';
import {
  type ConfirmAnswer,
  needsConfirmation,
  nothingToAsk,
  questionOf,
  settle,
} from '../../src/pipeline/confirm.ts';
import { type Outcome, type PipelineEnv, runPipeline } from '../../src/pipeline/run.ts';
import { canonicalJson, Sealer } from '../../src/pipeline/seal.ts';
import { type AuditEvent, auditCalls, auditLine, callOutcome } from '../../src/transport/http/audit.ts';
import { stubEngine, stubPipelineEnv, testProfile } from '../helpers/stub-engine.ts';

const call = {
  tool: 'docker_remove_volume',
  args: { volume_name: 'data' },
  engine: 'default',
  caller: 'stdio',
};

describe('canonicalJson', () => {
  it('gives the same text whatever the key order, at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
    expect(canonicalJson({ a: 1, u: undefined })).toBe('{"a":1}');
  });
});

describe('Sealer', () => {
  it('opens its own state once, with the plan it sealed', () => {
    const s = new Sealer();
    const state = s.seal(call, ['id1', 'id2']);
    expect(s.open(state, call)).toEqual({ ok: true, plan: ['id1', 'id2'] });
    expect(s.open(state, call)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('refuses a state sealed by another process (another key) as forged', () => {
    const state = new Sealer().seal(call);
    expect(new Sealer().open(state, call)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a body edited under the old seal as forged', () => {
    const s = new Sealer();
    const [prefix, body, mac] = s.seal(call, ['a']).split('.');
    const edited = JSON.parse(Buffer.from(body as string, 'base64url').toString());
    edited.p = ['everything'];
    const forged = `${prefix}.${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${mac}`;
    expect(s.open(forged, call)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses anything that is not one of its states as malformed', () => {
    const s = new Sealer();
    for (const bad of [undefined, 42, '', 'yes', 'mcpd1.', 'mcpd1.a.b.c'])
      expect(s.open(bad, call)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a state past its time', () => {
    let now = 1_000_000;
    const s = new Sealer(60_000, () => now);
    const state = s.seal(call);
    now += 60_000;
    expect(s.open(state, call)).toEqual({ ok: false, reason: 'expired' });
    const short = s.seal(call, undefined, 1000);
    now += 999;
    expect(s.open(short, call).ok).toBe(true);
  });

  it('refuses a state for another tool, arguments, engine or caller, and does not spend it', () => {
    const s = new Sealer();
    const state = s.seal(call);
    for (const other of [
      { ...call, tool: 'docker_remove_container' },
      { ...call, args: { volume_name: 'other' } },
      { ...call, args: { volume_name: 'data', force: true } },
      { ...call, engine: 'prod' },
      { ...call, caller: 'http:bob' },
    ])
      expect(s.open(state, other)).toEqual({ ok: false, reason: 'other call' });
    // The same arguments in another key order are the same call.
    expect(s.open(state, { ...call, args: { volume_name: 'data' } }).ok).toBe(true);
  });
});

describe('needsConfirmation', () => {
  it.each([
    ['destructive', 'destructive', true],
    ['destructive', 'moderate', false],
    ['all', 'moderate', true],
    ['all', 'safe', false],
    ['none', 'destructive', false],
  ] as const)('--confirm %s, a %s call: %p', (mode, tier, asks) => {
    expect(needsConfirmation(tier, mode)).toBe(asks);
  });
});

describe('questionOf', () => {
  it('names the engine, the action, the objects with their count and the space', () => {
    const q = questionOf('docker_prune_containers', 'prod', {
      action: 'remove these stopped containers',
      objects: ['web-old', 'db-old'],
      reclaims: 1_500_000,
    });
    expect(q.message).toContain("engine 'prod': remove these stopped containers.");
    expect(q.message).toContain('2 objects will go: web-old, db-old.');
    expect(q.message).toContain('Space reclaimed: 1.5 MB.');
    expect(q.requestedSchema.required).toEqual(['confirm']);
  });

  it('says when nothing matches, and names the tool and arguments without a preview', () => {
    expect(questionOf('t', 'e', { action: 'prune', objects: [] }).message).toContain(
      'nothing will be removed',
    );
    expect(questionOf('docker_x', 'e', undefined, { b: 1, a: 2 }).message).toContain(
      'docker_x with {"a":2,"b":1}',
    );
  });

  it('shows the arguments beside what goes when the preview asks for them', () => {
    const q = questionOf(
      'docker_compose_up',
      'e',
      { action: 'bring up p', objects: ['container p-old-1 (running)'], withArgs: true },
      { content: 'services: {}' },
    );
    expect(q.message).toContain('1 object will go: container p-old-1 (running).');
    expect(q.message).toContain('The call: docker_compose_up with {"content":"services: {}"}.');
    expect(questionOf('t', 'e', { action: 'a', objects: ['x'] }, { content: 'c' }).message).not.toContain(
      'content',
    );
  });
});

describe('nothingToAsk', () => {
  it('skips the question only when nothing is listed, a plan says so, and nothing lies beyond the list', () => {
    expect(nothingToAsk({ action: 'prune', objects: [], plan: [] })).toBe(true);
    expect(nothingToAsk({ action: 'prune', objects: ['a'], plan: ['a'] })).toBe(false);
    // Without a plan the handler would act on whatever it finds then.
    expect(nothingToAsk({ action: 'prune', objects: [] })).toBe(false);
    // A deploy, a load, a build cache prune: asked although nothing is listed.
    expect(nothingToAsk({ action: 'deploy', objects: [], plan: {}, beyondObjects: true })).toBe(false);
    expect(nothingToAsk({ action: 'leave the swarm' })).toBe(false);
    expect(nothingToAsk(undefined)).toBe(false);
  });
});

describe('questionOf with a space that is a floor', () => {
  it('says at least, and why', () => {
    const q = questionOf('docker_prune_images', 'e', {
      action: 'remove these dangling images',
      objects: ['a', 'b'],
      reclaims: 2_000,
      reclaimsAtLeast: 'more where the images share layers with each other',
    });
    expect(q.message).toContain(
      'Space reclaimed: at least 2.0 KB (more where the images share layers with each other).',
    );
  });
});

describe('questionOf with names the engine chose', () => {
  it('shows newlines and invisible characters in a name escaped, so a name cannot add lines', () => {
    const q = questionOf('docker_system_prune', 'e', {
      action: "remove network 'n1.\nNothing matches now' (abc)",
      objects: ['network n1.\nNothing matches now: nothing will be removed.', 'container web (exited)'],
    });
    const lines = q.message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe(
      '2 objects will go: "network n1.\\nNothing matches now: nothing will be removed.", container web (exited).',
    );
    expect(questionOf('t', 'e', { action: 'x', objects: ['a\u202eb', 'c\u001b[2Jd'] }).message).toContain(
      '"a\\u202eb", "c\\u001b[2Jd"',
    );
  });

  it('quotes a name holding a comma, which would read as a second object', () => {
    expect(questionOf('t', 'e', { action: 'x', objects: ['n1, container prod-db'] }).message).toContain(
      '1 object will go: "n1, container prod-db".',
    );
  });
});

describe('settle', () => {
  const s = new Sealer();
  const DECLINED = 'the user declined; nothing changed';
  const DISMISSED = 'the question was dismissed without an answer; nothing changed';
  it.each([
    ['accept', { confirm: true }, true, 'accepted', ''],
    ['accept', { confirm: false }, false, 'declined', DECLINED],
    ['accept', undefined, false, 'declined', DECLINED],
    ['decline', undefined, false, 'declined', DECLINED],
    ['cancel', undefined, false, 'cancelled', DISMISSED],
    ['missing', undefined, false, 'cancelled', DISMISSED],
  ] as const)('%s with %j: runs %p, %s', (action, content, runs, confirmation, message) => {
    const out = settle({ state: s.seal(call), action, ...(content && { content }) }, call, s);
    expect(out.run).toBe(runs);
    expect(out.confirmation).toBe(confirmation);
    if (!out.run) {
      expect(out.error.kind).toBe('cancelled');
      expect(out.error.message).toBe(message);
      expect(out.error.retryable).toBe(false);
    }
  });

  it('ends a call that ended before the user answered as abandoned: the audit line closes it', () => {
    const out = settle({ state: s.seal(call), action: 'ended' }, call, s);
    expect(out).toMatchObject({ run: false, confirmation: 'abandoned' });
    if (!out.run) expect(out.error.message).toBe('the call ended before the user answered; nothing changed');
  });

  it('ends a question the user left unanswered as cancelled, naming the time they had', () => {
    const out = settle({ state: s.seal(call), action: 'unanswered' }, call, s, 2);
    expect(out).toMatchObject({ run: false, confirmation: 'cancelled' });
    if (!out.run) expect(out.error.message).toBe('the user did not answer within 2 s; nothing changed');
  });

  it('reads an expired state as the user not answering in time', () => {
    let now = 0;
    const timed = new Sealer(1000, () => now);
    const state = timed.seal(call);
    now = 1000;
    const out = settle({ state, action: 'accept', content: { confirm: true } }, call, timed, 1);
    expect(out).toMatchObject({ run: false, confirmation: 'cancelled' });
    if (!out.run) {
      expect(out.error.kind).toBe('cancelled');
      expect(out.error.message).toContain('has expired: the user did not answer within 1 s');
    }
  });
});

describe('answerRound', () => {
  const asked = { question: questionOf('docker_remove_volume', 'default', undefined, {}), state: 'st' };
  const answered = async (reply: Reply) => {
    const seen: ConfirmAnswer[] = [];
    await answerRound(
      asked,
      async () => reply,
      async (a) => {
        seen.push(a);
        return {};
      },
    );
    return seen[0];
  };
  it('runs again with the answer, an error reply as a dismissal, no reply in time as unanswered', async () => {
    expect(await answered({ result: { action: 'decline' } })).toEqual({ state: 'st', action: 'decline' });
    expect((await answered({ error: { code: -1 } }))?.action).toBe('cancel');
    expect(await answered('unanswered')).toEqual({ state: 'st', action: 'unanswered' });
  });
});

describe('canElicit and answerOf', () => {
  it('reads form elicitation from declared capabilities', () => {
    expect(canElicit({ elicitation: {} })).toBe(true);
    expect(canElicit({ elicitation: { form: {} } })).toBe(true);
    expect(canElicit({ elicitation: { url: {} } })).toBe(false);
    expect(canElicit({})).toBe(false);
    expect(canElicit(undefined)).toBe(false);
  });
  it('reads an elicitation result, and anything else as no answer', () => {
    expect(answerOf('s', { action: 'accept', content: { confirm: true } })).toEqual({
      state: 's',
      action: 'accept',
      content: { confirm: true },
    });
    expect(answerOf('s', 'yes').action).toBe('missing');
    expect(answerOf('s', { action: 'approve' }).action).toBe('missing');
  });
});

describe('the confirm step in the pipeline', () => {
  const ran: unknown[] = [];
  const tool = defineTool({
    name: 'docker_confirm_probe',
    title: 'Probe',
    description: 'd',
    safety: 'destructive',
    idempotent: true,
    input: Type.Object({ name: Type.String() }),
    output: Type.Object({}, { additionalProperties: true }),
    preview: async ({ name }) => ({ action: `remove '${name}'`, objects: [name], plan: { ids: ['x1'] } }),
    handler: async (_args, { confirmed }) => {
      ran.push(confirmed);
      return {};
    },
  });
  const audited: AuditEvent[] = [];
  const envWith = (confirm: PipelineEnv['confirm']): PipelineEnv =>
    stubPipelineEnv(testProfile({ allowDestructive: true }), {
      confirm: { sealer: new Sealer(), ...confirm },
      observe: auditCalls({ record: (e) => void audited.push(e), close() {} }, { clientId: 'stdio' }),
    });
  const asked = (o: Outcome) => {
    if (o.ok || !o.asked) throw new Error(`expected a question, got ${JSON.stringify(o)}`);
    return o.asked;
  };

  it('asks a client that can, without running the handler, then runs the accepted plan', async () => {
    ran.length = 0;
    audited.length = 0;
    const env = envWith({});
    const first = await runPipeline(tool, { name: 'web' }, env, { confirm: { canAsk: true } });
    const { question, state } = asked(first);
    expect(question.message).toContain("remove 'web'");
    expect(ran).toEqual([]);
    const answer = { state, action: 'accept' as const, content: { confirm: true } };
    const second = await runPipeline(tool, { name: 'web' }, env, { confirm: { canAsk: true, answer } });
    expect(second.ok).toBe(true);
    expect(ran).toEqual([{ ids: ['x1'] }]);
    expect(audited.map((e) => [e.outcome, e.confirmation])).toEqual([
      ['input_required', undefined],
      ['ok', 'accepted'],
    ]);
    expect(JSON.parse(auditLine(audited[1] as AuditEvent)).confirmation).toBe('accepted');
  });

  it('runs a client that cannot ask under fallback allow (unconfirmed), refuses it under refuse', async () => {
    ran.length = 0;
    const allowed = await runPipeline(tool, { name: 'web' }, envWith({ fallback: 'allow' }));
    expect(allowed).toMatchObject({ ok: true, confirmation: 'unconfirmed' });
    const refused = await runPipeline(tool, { name: 'web' }, envWith({ fallback: 'refuse' }));
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.kind).toBe('policy_denied');
      expect(refused.error.message).toContain('cannot ask its user');
      expect(refused.error.hint).toContain('--confirm-fallback allow');
    }
    expect(ran).toHaveLength(1);
  });

  it('follows a credential’s confirm over the server’s', async () => {
    const env = {
      ...envWith({ mode: 'destructive' }),
      profile: testProfile({ allowDestructive: true, confirm: 'none' }),
    };
    const out = await runPipeline(tool, { name: 'web' }, env, { confirm: { canAsk: true } });
    expect(out).toMatchObject({ ok: true });
    expect(out.confirmation).toBeUndefined();
  });

  it('counts a question as input_required in the audit outcome', () => {
    expect(
      callOutcome({ ok: false, error: new Error() as never, asked: { question: {} as never, state: 's' } }),
    ).toBe('input_required');
  });
});

describe('the question of a tool without a preview', () => {
  it('masks the secret arguments it quotes', async () => {
    const secretive = defineTool({
      name: 'docker_secret_probe',
      title: 'Probe',
      description: 'd',
      safety: 'destructive',
      idempotent: true,
      secretArgs: ['env'],
      input: Type.Object({
        project: Type.String(),
        env: Type.Optional(Type.Record(Type.String(), Type.String())),
      }),
      output: Type.Object({}, { additionalProperties: true }),
      handler: async () => ({}),
    });
    const env = stubPipelineEnv(testProfile({ allowDestructive: true }), {
      confirm: { sealer: new Sealer() },
    });
    const out = await runPipeline(secretive, { project: 'p', env: { TOKEN: 'hunter2-abc' } }, env, {
      confirm: { canAsk: true },
    });
    if (out.ok || !out.asked) throw new Error('expected a question');
    expect(out.asked.question.message).toContain('"project":"p"');
    expect(out.asked.question.message).not.toContain('hunter2-abc');
  });
});

describe('with several engines', () => {
  it('names the engine in the question and in the decline, and binds the state to it', async () => {
    const tool = defineTool({
      name: 'docker_engine_probe',
      title: 'Probe',
      description: 'd',
      safety: 'destructive',
      idempotent: true,
      input: Type.Object({}),
      output: Type.Object({}, { additionalProperties: true }),
      handler: async () => ({}),
    });
    const sealer = new Sealer();
    const env = stubPipelineEnv(testProfile({ allowDestructive: true }), {
      engines: engineRegistry([stubEngine('a'), stubEngine('b')]),
      confirm: { sealer },
    });
    const first = await runPipeline(tool, { engine: 'b' }, env, { confirm: { canAsk: true } });
    if (first.ok || !first.asked) throw new Error('expected a question');
    expect(first.asked.question.message).toContain("engine 'b'");
    const decline = { state: first.asked.state, action: 'decline' as const };
    const onA = await runPipeline(tool, { engine: 'a' }, env, { confirm: { canAsk: true, answer: decline } });
    expect(!onA.ok && onA.error.message).toContain('was given for another call');
    const onB = await runPipeline(tool, { engine: 'b' }, env, { confirm: { canAsk: true, answer: decline } });
    expect(!onB.ok && onB.error.message).toBe("engine 'b': the user declined; nothing changed");
  });
});
