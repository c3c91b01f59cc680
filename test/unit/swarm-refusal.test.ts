import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import { swarmRefusal } from '../../src/docker/swarm/api.ts';
import { givenArgs, inArgumentTerms, inComposeTerms } from '../../src/docker/swarm/service-refusal.ts';

const HINT = 'Set SAFETY_ALLOW_PRIVILEGED_CONTAINERS=true (--allow-privileged) to allow it.';
const denied = (message: string) => new ToolError('policy_denied', message, { hint: HINT });
const mount = denied("TaskTemplate.ContainerSpec.Mounts[1].Source: host path '/etc' is refused: outside");
const cap = denied("TaskTemplate.ContainerSpec.CapabilityAdd[0]: capability 'SYS_ADMIN' is refused");

describe('inArgumentTerms', () => {
  it("names the argument the caller wrote instead of the engine's field, keeping the hint", () => {
    const e = inArgumentTerms(
      mount,
      givenArgs({ mounts: ['a:/a', '/etc:/e'] }),
      "service 'web'",
    ) as ToolError;
    expect(e.message).toBe("mounts[1]: host path '/etc' is refused: outside");
    expect(e.kind).toBe('policy_denied');
    expect(e.hint).toBe(HINT);
    const n = denied(
      "TaskTemplate.Networks[0]: the host network is refused: it shares the nodes' network namespace",
    );
    expect((inArgumentTerms(n, givenArgs({ networks: ['host'] }), 'x') as ToolError).message).toStartWith(
      'networks[0]: the host network is refused',
    );
  });

  it('says the setting is already in the service when the call did not write it', () => {
    const e = inArgumentTerms(
      cap,
      givenArgs({ env: { A: 'b' }, mounts: undefined }),
      "service 'web' as it is now",
    );
    expect((e as ToolError).message).toBe(
      "service 'web' as it is now: TaskTemplate.ContainerSpec.CapabilityAdd[0]: capability 'SYS_ADMIN' is refused",
    );
    expect((e as ToolError).hint).toBe(HINT);
  });

  it('leaves any other error as it is', () => {
    const other = new ToolError('not_found', 'TaskTemplate.ContainerSpec.Mounts[0]: gone');
    expect(inArgumentTerms(other, givenArgs({ mounts: [] }), 'x')).toBe(other);
    const plain = new Error('boom');
    expect(inArgumentTerms(plain, givenArgs({}), 'x')).toBe(plain);
  });
});

describe('inComposeTerms', () => {
  it('names the Compose service and key, as Compose up does', () => {
    const e = inComposeTerms(mount, 'worker', ' (nothing was deployed)') as ToolError;
    expect(e.message).toBe(`service "worker" (key volumes): ${mount.message} (nothing was deployed)`);
    expect(e.hint).toBe(HINT);
    expect((inComposeTerms(cap, 'api') as ToolError).message).toStartWith('service "api" (key cap_add): ');
    const unknown = denied('TaskTemplate.ContainerSpec.Foo: an unknown container setting is refused');
    expect((inComposeTerms(unknown, 'api') as ToolError).message).toStartWith('service "api": TaskTemplate');
  });
});

describe('swarmRefusal', () => {
  const refusal = (statusCode: number, message: string) => ({ statusCode, json: { message } });

  it('reads the manager’s gRPC code rather than the HTTP status, without the wrapping', () => {
    const bad = swarmRefusal(
      refusal(500, 'rpc error: code = Unknown desc = constraint expected one operator from ==, !='),
    );
    expect(bad?.kind).toBe('invalid_argument');
    expect(bad?.message).toBe('constraint expected one operator from ==, !=');
    const port = swarmRefusal(
      refusal(400, "rpc error: code = InvalidArgument desc = port '80' is already in use by service 'x'"),
    );
    expect(port?.kind).toBe('invalid_argument');
    expect(swarmRefusal(refusal(409, 'rpc error: code = AlreadyExists desc = name conflicts'))?.kind).toBe(
      'conflict',
    );
    expect(swarmRefusal(refusal(500, 'network nope not found'))?.kind).toBe('not_found');
  });

  it('leaves trouble of the cluster itself internal, and what is no engine answer to the pipeline', () => {
    expect(swarmRefusal(refusal(500, 'rpc error: code = Unknown desc = raft: no leader'))?.kind).toBe(
      'internal',
    );
    expect(swarmRefusal({ code: 'ECONNREFUSED' })).toBeUndefined();
  });
});
