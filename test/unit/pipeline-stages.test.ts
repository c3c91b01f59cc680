import { describe, expect, it } from 'bun:test';
import Type from 'typebox';
import { ToolError } from '../../src/core/errors.ts';
import type { AnyTool, Safety } from '../../src/core/tool.ts';
import { annotationsFor } from '../../src/pipeline/annotations.ts';
import { capResult } from '../../src/pipeline/cap.ts';
import { gate, type SafetyProfile } from '../../src/pipeline/gate.ts';
import { mapError } from '../../src/pipeline/map-errors.ts';
import { throttledProgress } from '../../src/pipeline/progress.ts';
import { callSignal } from '../../src/pipeline/signal.ts';
import { validateArgs } from '../../src/pipeline/validate.ts';

/** validateArgs as a promise: a refusal it throws at once rejects it too. */
const validated = async (schema: Parameters<typeof validateArgs>[0], raw: unknown) =>
  validateArgs(schema, raw);

const tool = (safety: Safety, name = `docker_x_${safety}`, extra: Partial<AnyTool> = {}): AnyTool => ({
  name,
  title: 'T',
  description: 'd',
  safety,
  idempotent: false,
  input: Type.Object({}),
  output: Type.Object({}),
  handler: async () => ({}),
  ...extra,
});
const profile = (p: Partial<SafetyProfile> = {}): SafetyProfile => ({
  allowModerate: true,
  allowDestructive: false,
  readOnly: false,
  allowedTools: [],
  deniedTools: [],
  ...p,
});

describe('annotations', () => {
  it('derives the hints from the safety level, writing only what differs from the spec defaults', () => {
    // Read-only: destructive/idempotent are ignored by clients, the title is the top-level one.
    expect(annotationsFor(tool('safe'))).toEqual({ readOnlyHint: true, openWorldHint: false });
    // destructiveHint is always stated for a tool that writes (the spec's default would be true).
    expect(annotationsFor(tool('moderate'))).toEqual({ destructiveHint: false, openWorldHint: false });
    expect(annotationsFor(tool('destructive', 'x', { idempotent: true, openWorld: true }))).toEqual({
      destructiveHint: true,
      idempotentHint: true,
    });
  });
});

describe('safety gate', () => {
  it('allows safe and moderate but not destructive by default', () => {
    expect(gate(tool('safe'), profile()).allowed).toBe(true);
    expect(gate(tool('moderate'), profile()).allowed).toBe(true);
    const d = gate(tool('destructive'), profile());
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.hint).toContain('SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true');
  });

  it('is read-only when both tiers are off, or with readOnly whatever the tiers say', () => {
    expect(gate(tool('moderate'), profile({ allowModerate: false })).allowed).toBe(false);
    expect(gate(tool('destructive'), profile({ allowDestructive: true, readOnly: true })).allowed).toBe(
      false,
    );
    expect(gate(tool('safe'), profile({ readOnly: true, allowModerate: false })).allowed).toBe(true);
  });

  it('lets the deny list win over the allow list', () => {
    const p = profile({ allowedTools: ['docker_x_safe'], deniedTools: ['docker_x_safe'] });
    const d = gate(tool('safe'), p);
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.hint).toContain('SAFETY_DENIED_TOOLS');
  });

  it('limits tools to the allow list when one is given', () => {
    const p = profile({ allowedTools: ['docker_x_safe'] });
    expect(gate(tool('safe'), p).allowed).toBe(true);
    expect(gate(tool('moderate'), p).allowed).toBe(false);
  });
});

describe('validation', () => {
  const schema = Type.Object(
    {
      container_id: Type.String({ minLength: 1 }),
      tail: Type.Optional(Type.Integer({ minimum: 0, default: 100 })),
    },
    { additionalProperties: false },
  );

  it('fills defaults', async () => {
    expect(await validated(schema, { container_id: 'web' })).toEqual({ container_id: 'web', tail: 100 });
  });

  it('refuses a string holding a lone surrogate, in a value or a map key, naming where (no engine request can carry it)', async () => {
    const maps = Type.Object({
      driver: Type.Optional(Type.String()),
      labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    });
    await expect(validated(maps, { driver: '\ud800' })).rejects.toThrow(
      "invalid argument 'driver': is not valid Unicode",
    );
    await expect(validated(maps, { labels: { a: 'x\udc00' } })).rejects.toThrow(
      "invalid argument 'labels.a': is not valid Unicode",
    );
    await expect(validated(maps, { labels: { 'k\ud800': 'x' } })).rejects.toThrow('is not valid Unicode');
    expect(await validated(maps, { driver: 'ok \u{1F600}' })).toEqual({ driver: 'ok \u{1F600}' });
  });

  it('names a missing required argument', async () => {
    await expect(validated(schema, {})).rejects.toThrow("missing required argument 'container_id'");
  });

  it('never prints a pattern: it says what is expected in words, or only that the shape is wrong', async () => {
    const refs = Type.Object({
      a: Type.String({ pattern: '^[a-z]+$', expects: 'a lowercase name' }),
      b: Type.Optional(Type.String({ pattern: '^[a-z]+$' })),
    });
    await expect(validated(refs, { a: '../x' })).rejects.toThrow(
      "invalid argument 'a': has characters or a shape not allowed here (expected: a lowercase name)",
    );
    await expect(validated(refs, { a: 'ok', b: '../x' })).rejects.toThrow(
      /^invalid argument 'b': has characters or a shape not allowed here, got/,
    );
  });

  it('names the full path of a key missing inside a nested value', async () => {
    const nested = Type.Object({ volumes: Type.Record(Type.String(), Type.Object({ bind: Type.String() })) });
    await expect(validated(nested, { volumes: { '/src': {} } })).rejects.toThrow(
      "missing required argument 'volumes./src.bind'",
    );
  });

  it('names the field, the rule and the value given', async () => {
    await expect(validated(schema, { container_id: 'x', tail: -1 })).rejects.toThrow(
      "invalid argument 'tail': must be >= 0, got -1",
    );
    await expect(validated(schema, { container_id: 5 })).rejects.toThrow(
      "invalid argument 'container_id': must be string, got 5",
    );
  });

  it('names a map key that breaks its rule as the key, cutting a long one, and quotes a nested value by its path', async () => {
    const maps = Type.Object({
      labels: Type.Optional(
        Type.Record(Type.String(), Type.String({ maxLength: 8 }), { propertyNames: { maxLength: 4 } }),
      ),
      volumes: Type.Optional(
        Type.Record(Type.String(), Type.Object({ bind: Type.String({ maxLength: 4 }) })),
      ),
    });
    await expect(validated(maps, { labels: { ['k'.repeat(100_000)]: 'v' } })).rejects.toThrow(
      `invalid argument 'labels.${'k'.repeat(57)}...': the key must not have more than 4 characters`,
    );
    await expect(validated(maps, { labels: { a: 'v'.repeat(9) } })).rejects.toThrow(
      `invalid argument 'labels.a': must not have more than 8 characters, got "vvvvvvvvv"`,
    );
    await expect(validated(maps, { volumes: { '/src': { bind: '/dst/x' } } })).rejects.toThrow(
      `invalid argument 'volumes./src.bind': must not have more than 4 characters, got "/dst/x"`,
    );
  });

  it('reports what is wrong in the alternative of the value’s type, not that it is not the other', async () => {
    const refs = Type.Object({
      images: Type.Union([Type.String({ maxLength: 4 }), Type.Array(Type.String({ maxLength: 4 }))]),
    });
    await expect(validated(refs, { images: ['a', 'toolong'] })).rejects.toThrow(
      `invalid argument 'images.1': must not have more than 4 characters, got "toolong"`,
    );
    await expect(validated(refs, { images: 5 })).rejects.toThrow(
      "invalid argument 'images': must be string, got 5",
    );
  });

  it('names an unknown argument and lists the ones the tool takes', async () => {
    await expect(validated(schema, { container_id: 'x', tial: 3 })).rejects.toThrow(
      "unknown argument 'tial'; this tool takes: container_id, tail",
    );
  });

  it('raises invalid_argument errors', async () => {
    for (const args of [null, []]) {
      const e = await validated(schema, args).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ToolError);
      expect((e as ToolError).kind).toBe('invalid_argument');
    }
  });
});

describe('response cap', () => {
  const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);

  it('leaves a small result alone', async () => {
    expect(capResult({ a: 1 }, 1024, 'head', 'h')).toEqual({ value: { a: 1 } });
  });

  it('keeps the newest lines for tail tools, under the cap, and says how to narrow', () => {
    const { value, truncated } = capResult({ container: 'web', lines }, 16_384, 'tail', 'Use tail or grep.');
    expect(Buffer.byteLength(JSON.stringify({ ...value, truncated }))).toBeLessThanOrEqual(16_384);
    const kept = value.lines as string[];
    expect(kept.at(-1)).toBe(lines.at(-1) as string);
    expect(kept.length).toBeGreaterThan(100);
    expect(truncated?.field).toBe('lines');
    expect(truncated?.dropped).toBe(5000 - kept.length);
    expect(truncated?.note).toContain('Use tail or grep.');
  });

  it('keeps the first rows for lists', () => {
    const { value } = capResult({ rows: lines }, 8192, 'head', 'h');
    expect((value.rows as string[])[0]).toBe(`line 0 ${'x'.repeat(40)}`);
  });

  it('trims a long string keeping its end', () => {
    const { value, truncated } = capResult({ stdout: `${'a'.repeat(50_000)}END` }, 4096, 'tail', 'h');
    expect((value.stdout as string).endsWith('END')).toBe(true);
    expect(truncated?.field).toBe('stdout');
  });
});

describe('call signal', () => {
  it('aborts with a timeout error naming the tool', async () => {
    const s = callSignal(undefined, 20, 'docker_x');
    await new Promise((r) => s.signal.addEventListener('abort', r));
    expect(s.reason()?.kind).toBe('timeout');
    expect(s.reason()?.message).toContain('docker_x');
    s.dispose();
  });

  it('aborts with cancelled when the client cancels', () => {
    const client = new AbortController();
    const s = callSignal(client.signal, 10_000, 'docker_x');
    client.abort();
    expect(s.signal.aborted).toBe(true);
    expect(s.reason()?.kind).toBe('cancelled');
    s.dispose();
  });

  it('aborts with a retryable cancelled saying the server is shutting down when stop fires', () => {
    const client = new AbortController();
    const stop = new AbortController();
    const s = callSignal(client.signal, 10_000, 'docker_x', stop.signal);
    expect(s.signal.aborted).toBe(false);
    stop.abort();
    expect(s.signal.aborted).toBe(true);
    expect(s.reason()).toMatchObject({ kind: 'cancelled', retryable: true });
    expect(s.reason()?.message).toBe('docker_x was cancelled: the server is shutting down');
    // The first reason stands: a later client cancel does not rewrite it.
    client.abort();
    expect(s.reason()?.message).toContain('shutting down');
    s.dispose();
  });

  it('asks a call that is not idempotent to check before calling again, not to retry, on shutdown and timeout', async () => {
    const stop = new AbortController();
    const s = callSignal(undefined, 10_000, 'docker_x', stop.signal, false);
    stop.abort();
    expect(s.reason()).toMatchObject({ kind: 'cancelled', retryable: false });
    expect(s.reason()?.hint).toBe(
      'It may still be running or have taken effect: check before calling it again once the server is back.',
    );
    s.dispose();
    const t = callSignal(undefined, 20, 'docker_x', undefined, false);
    await new Promise((r) => t.signal.addEventListener('abort', r));
    expect(t.reason()).toMatchObject({ kind: 'timeout', retryable: false });
    expect(t.reason()?.hint).toContain('check before calling it again');
    t.dispose();
    // An idempotent one may simply be called again.
    const i = callSignal(undefined, 20, 'docker_x');
    await new Promise((r) => i.signal.addEventListener('abort', r));
    expect(i.reason()).toMatchObject({ kind: 'timeout', retryable: true });
    i.dispose();
  });

  it('stops every call running under one stop signal, and none that has ended', () => {
    const stop = new AbortController();
    const ended = callSignal(undefined, 10_000, 'docker_a', stop.signal);
    const running = [1, 2, 3].map((n) => callSignal(undefined, 10_000, `docker_${n}`, stop.signal));
    ended.dispose();
    stop.abort();
    expect(ended.signal.aborted).toBe(false);
    for (const s of running) {
      expect(s.reason()).toMatchObject({ kind: 'cancelled', retryable: true });
      s.dispose();
    }
    // A call begun after the stop is stopped at once.
    const late = callSignal(undefined, 10_000, 'docker_late', stop.signal);
    expect(late.reason()?.kind).toBe('cancelled');
    late.dispose();
  });

  it('race settles as the work does, or rejects with the reason as soon as the call aborts', async () => {
    const client = new AbortController();
    const s = callSignal(client.signal, 10_000, 'docker_x');
    expect(await s.race(Promise.resolve(7))).toBe(7);
    await expect(s.race(Promise.reject(new Error('engine said no')))).rejects.toThrow('engine said no');
    const never = new Promise<number>(() => {});
    const raced = s.race(never);
    client.abort();
    await expect(raced).rejects.toMatchObject({ kind: 'cancelled' });
    // Once aborted, a new race rejects without waiting for its work.
    await expect(s.race(never)).rejects.toMatchObject({ kind: 'cancelled' });
    s.dispose();
  });
});

describe('error mapping', () => {
  const engineError = (statusCode: number, message: string) =>
    Object.assign(new Error('x'), { statusCode, json: { message } });

  it('maps engine statuses to kinds with a next step', () => {
    const nf = mapError(engineError(404, 'No such container: web'), {
      listers: { container: 'docker_list_containers' },
    });
    expect(nf.kind).toBe('not_found');
    expect(nf.hint).toBe('See what exists with docker_list_containers.');
    const c = mapError(
      engineError(
        409,
        'You cannot remove a running container abc. Stop the container before attempting removal or force remove',
      ),
    );
    expect(c.kind).toBe('conflict');
    expect(c.hint).toContain('force: true');
    expect(mapError(engineError(400, 'bad')).kind).toBe('invalid_argument');
  });

  it('reports connection failures as engine_unreachable, retryable', () => {
    const e = mapError(
      Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' }),
    );
    expect(e.kind).toBe('engine_unreachable');
    expect(e.retryable).toBe(true);
    expect(e.message).not.toContain('/var/run/docker.sock');
  });

  it('hides stack traces and scrubs the socket path from unexpected errors', () => {
    const e = mapError(new Error('boom at /tmp/x/docker.sock\n    at foo (file.ts:1:1)'), {
      scrub: ['/tmp/x/docker.sock'],
    });
    expect(e.kind).toBe('internal');
    expect(e.message).not.toContain('at foo');
    expect(e.message).not.toContain('/tmp/x/docker.sock');
  });

  it('prefers the abort reason over whatever the aborted request threw', () => {
    const reason = new ToolError('cancelled', 'cancelled by the client');
    expect(mapError(new Error('aborted'), { aborted: reason })).toBe(reason);
  });
});

describe('progress', () => {
  it('rate-limits notifications and always delivers the last value on flush', () => {
    const sent: number[] = [];
    const p = throttledProgress((x) => sent.push(x.progress), 1000);
    for (let i = 1; i <= 100; i++) p(i, 100);
    p.flush();
    expect(sent).toEqual([1, 100]);
  });

  it('sends a held-back value when its interval is up, without waiting for another update', async () => {
    const sent: number[] = [];
    const p = throttledProgress((x) => sent.push(x.progress), 30);
    p(1);
    p(2); // held back: inside the interval, and nothing follows
    expect(sent).toEqual([1]);
    await Bun.sleep(80);
    expect(sent).toEqual([1, 2]);
  });

  it('masks secrets in a message, as in a result', () => {
    const sent: (string | undefined)[] = [];
    const p = throttledProgress((x) => sent.push(x.message), 0);
    p(1, 6, 'Step 4/6: ENV API_KEY=supersecret');
    p(2, 6, 'Step 5/6: RUN make');
    expect(sent).toEqual(['Step 4/6: ENV API_KEY=***', 'Step 5/6: RUN make']);
  });

  it('masks a secret whose name colour codes split, as a terminal would show it', () => {
    const sent: (string | undefined)[] = [];
    const p = throttledProgress((x) => sent.push(x.message), 0);
    p(1, 2, 'Step 1/2: RUN echo \u001b[31mPASS\u001b[0mWORD=supersecret');
    expect(sent).toEqual(['Step 1/2: RUN echo PASSWORD=***']);
  });

  it('sends nothing after cancel', async () => {
    const sent: number[] = [];
    const p = throttledProgress((x) => sent.push(x.progress), 30);
    p(1);
    p(2);
    p.cancel();
    await Bun.sleep(80);
    expect(sent).toEqual([1]);
  });

  it('never sends a value that does not increase', () => {
    const sent: number[] = [];
    const p = throttledProgress((x) => sent.push(x.progress), 0);
    p(5);
    p(5);
    p(3);
    p(6);
    expect(sent).toEqual([5, 6]);
  });
});

describe('cancellation without an AbortSignal (stdio)', () => {
  it('cancels the call it is given to, before or during the call, and only while it runs', async () => {
    const { Cancellation } = await import('../../src/pipeline/signal.ts');
    const early = new Cancellation();
    early.cancel();
    const a = callSignal(early, 10_000, 'docker_a');
    expect(a.reason()?.message).toBe('docker_a was cancelled by the client');
    a.dispose();

    const during = new Cancellation();
    const b = callSignal(during, 10_000, 'docker_b');
    const raced = b.race(new Promise(() => {}));
    during.cancel();
    await expect(raced).rejects.toMatchObject({ kind: 'cancelled' });
    expect(b.signal.aborted).toBe(true);
    b.dispose();

    const after = new Cancellation();
    const c = callSignal(after, 10_000, 'docker_c');
    c.dispose();
    after.cancel();
    expect(c.signal.aborted).toBe(false);
    expect(after.signal().aborted).toBe(true);
  });
});
