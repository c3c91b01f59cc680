import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
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
