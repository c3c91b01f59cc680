import { describe, expect, it } from 'bun:test';
import Type from 'typebox';
import { ToolError } from '../../src/core/errors.ts';
import { defineTool } from '../../src/core/tool.ts';
import { type Observed, type PipelineEnv, runPipeline } from '../../src/pipeline/run.ts';
import { maskSecretArgs, secretValues, withoutSecrets } from '../../src/pipeline/secrets.ts';
import { catalogue } from '../../src/tools/index.ts';
import { type AuditEvent, type Auditor, auditCalls, auditLine } from '../../src/transport/http/audit.ts';
import { stubPipelineEnv, testProfile } from '../helpers/stub-engine.ts';

const PASSWORD = 'hunter2-correct-horse';
const TOKEN = 'tok-9f8e7d6c5b4a';

const recorded: AuditEvent[] = [];
const audit: Auditor = { record: (e) => void recorded.push(e), close() {} };
const env: PipelineEnv = stubPipelineEnv(testProfile(), {
  observe: auditCalls(audit, { clientId: 'stdio' }),
});

/** A push-like tool whose handler fails quoting what it was given, as a careless engine message might. */
const push = defineTool({
  name: 'docker_push_probe',
  title: 'Push',
  description: 'd',
  safety: 'moderate',
  idempotent: true,
  secretArgs: ['auth'],
  input: Type.Object({
    image: Type.String(),
    auth: Type.Optional(Type.Object({ username: Type.String(), password: Type.String() })),
  }),
  output: Type.Object({}, { additionalProperties: true }),
  handler: async ({ auth }) => {
    throw new ToolError('registry_auth', `login as ${auth?.username} with ${auth?.password} refused`, {
      hint: `check ${auth?.password}`,
    });
  },
});

describe('secretArgs', () => {
  it('masks the declared paths, copying only what it changes', () => {
    const args = { image: 'a', auth: { username: 'u', password: PASSWORD }, n: { x: 1 } };
    const masked = maskSecretArgs(args, ['auth']) as typeof args;
    expect(masked).toEqual({ image: 'a', auth: '***', n: { x: 1 } } as never);
    expect(masked.n).toBe(args.n);
    expect(args.auth.password).toBe(PASSWORD);
    expect(maskSecretArgs(args, ['auth.password'])).toEqual({
      ...args,
      auth: { username: 'u', password: '***' },
    });
    expect(maskSecretArgs({ image: 'a' }, ['auth'])).toEqual({ image: 'a' });
  });

  it('finds every value under a secret path and cuts it out of an error', () => {
    const values = secretValues({ auth: { username: 'bob', password: PASSWORD, identitytoken: TOKEN } }, [
      'auth',
    ]);
    expect(values).toContain(PASSWORD);
    const e = withoutSecrets(
      new ToolError('registry_auth', `bad ${PASSWORD}`, { hint: `or ${TOKEN}` }),
      values,
    );
    expect(e.message).toBe('bad ***');
    expect(e.hint).toBe('or ***');
    expect(e.kind).toBe('registry_auth');
  });

  it('masks a secret in any letter case and as JSON quotes it', () => {
    const e = withoutSecrets(
      new ToolError('invalid_argument', 'cap "DOTENV-SECRET-PW"; duration "tok\\"en\\\\v-9f8e7d"'),
      ['dotenv-secret-pw', 'tok"en\\v-9f8e7d'],
    );
    expect(e.message).toBe('cap "***"; duration "***"');
  });

  it('masks a short secret where it stands alone but keeps our own words that contain it', () => {
    const e = withoutSecrets(
      new ToolError('invalid_argument', "unknown argument 'x'; login arg:pw failed for 'arg'"),
      ['arg'],
    );
    expect(e.message).toBe("unknown argument 'x'; login ***:pw failed for '***'");
  });

  it('never reaches the audit line or the error text, though the handler gets it', async () => {
    recorded.length = 0;
    const out = await runPipeline(
      push,
      { image: 'registry.local/app', auth: { username: 'bob', password: PASSWORD } },
      env,
    );
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error.message).toBe('login as *** with *** refused');
      expect(out.error.hint).not.toContain(PASSWORD);
    }
    expect(recorded).toHaveLength(1);
    const line = auditLine(recorded[0] as AuditEvent);
    expect(line).not.toContain(PASSWORD);
    expect(JSON.parse(line)).toMatchObject({
      event: 'tool_call',
      tool: 'docker_push_probe',
      args: { auth: '***' },
    });
  });

  it('is declared on the registry auth of pull and push', () => {
    for (const name of ['docker_pull_image', 'docker_push_image'])
      expect(catalogue.find((t) => t.name === name)?.secretArgs).toEqual(['auth']);
  });

  // Values that carry passwords whatever they are called: `MY_VAR=s3cret` has no secret name to redact by.
  it('is declared on every environment, stdin and build args argument of every tool', () => {
    const carriers = new Set(['env', 'environment', 'stdin', 'build_args']);
    const undeclared = catalogue.flatMap((t) =>
      Object.keys((t.input as { properties?: object }).properties ?? {})
        .filter((k) => carriers.has(k) && !t.secretArgs?.includes(k))
        .map((k) => `${t.name}.${k}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('is declared on the file content copied into a container and on secret and config data', () => {
    const secretOf = (name: string) => catalogue.find((t) => t.name === name)?.secretArgs;
    expect(secretOf('docker_copy_to_container')).toEqual(['content']);
    expect(secretOf('docker_secret_create')).toEqual(['data']);
    expect(secretOf('docker_config_create')).toEqual(['data']);
  });
});

describe('secretResult', () => {
  it('returns the result to the caller and tells the observer nothing of it', async () => {
    const told: unknown[] = [];
    const seen: Observed[] = [];
    const token = defineTool({
      name: 'docker_token_probe',
      title: 'Token',
      description: 'd',
      safety: 'safe',
      idempotent: true,
      secretResult: true,
      input: Type.Object({}),
      output: Type.Object({ token: Type.String() }),
      handler: async () => ({ token: TOKEN }),
    });
    const out = await runPipeline(
      token,
      {},
      {
        ...env,
        observe: (call) => {
          seen.push(call);
          return (end) => void told.push(end.outcome);
        },
      },
    );
    expect(out).toEqual({ ok: true, data: { token: TOKEN } });
    expect(seen).toEqual([{ event: 'tool_call', tool: 'docker_token_probe', safety: 'safe', args: {} }]);
    expect(JSON.stringify(told)).not.toContain(TOKEN);
  });
});
