/**
 * What prompts and resources take from a caller, checked before the engine is asked: params of the
 * wrong type (-32602 naming them), prompt arguments and URI template parts that could not name a
 * container, and blank arguments.
 */
import { describe, expect, it } from 'bun:test';
import type { ToolError } from '../../src/core/errors.ts';
import { validateArgs } from '../../src/pipeline/validate.ts';
import { generateCompose } from '../../src/prompts/compose.ts';
import { promptArgs } from '../../src/prompts/define.ts';
import { securityAudit } from '../../src/prompts/security.ts';
import { troubleshootContainer } from '../../src/prompts/troubleshoot.ts';
import { matchTemplate, templateVars } from '../../src/resources/define.ts';
import { containerLogs } from '../../src/resources/logs.ts';
import { paramsProblem, stringMapProblem } from '../../src/server.ts';
import { createNetwork } from '../../src/tools/networks/manage.ts';
import { swarmInit } from '../../src/tools/swarm/cluster.ts';
import { createVolume } from '../../src/tools/volumes/manage.ts';

const thrown = (f: () => unknown): ToolError => {
  try {
    f();
  } catch (e) {
    return e as ToolError;
  }
  throw new Error('expected a refusal');
};

describe('prompts/get and resources/read params', () => {
  it('names a param of the wrong type or a missing one', () => {
    expect(paramsProblem({ name: 'x' }, 'name')).toBeUndefined();
    expect(paramsProblem({}, 'name')).toBe("'name' is required");
    expect(paramsProblem({ uri: 42 }, 'uri')).toBe("'uri' must be a string, got number");
    expect(stringMapProblem(undefined, 'arguments')).toBeUndefined();
    expect(stringMapProblem({ a: 'b' }, 'arguments')).toBeUndefined();
    expect(stringMapProblem(['a'], 'arguments')).toBe("'arguments' must be an object of strings, got array");
    expect(stringMapProblem({ container_id: 42 }, 'arguments')).toBe(
      `'arguments' value "container_id" must be a string, got number`,
    );
    expect(stringMapProblem({ container_id: null }, 'arguments')).toBe(
      `'arguments' value "container_id" must be a string, got null`,
    );
  });
});

describe('prompt arguments', () => {
  it('refuse what cannot name a container, naming the argument, as the tools do', () => {
    for (const bad of ['aud-inp\u0000x\nINJECTED: y', '../../info', 'a b', '%00']) {
      const e = thrown(() => promptArgs(troubleshootContainer, { container_id: bad }));
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toStartWith(
        "invalid argument 'container_id': has characters or a shape not allowed here (expected: a container name or ID), got ",
      );
    }
    const listed = thrown(() => promptArgs(generateCompose, { container_ids: 'web, ../x' }));
    expect(listed.message).toStartWith("invalid argument 'container_ids': has characters");
  });

  it('take a name, an ID or a list of them, trimmed', () => {
    expect(promptArgs(troubleshootContainer, { container_id: ' /web.1 ' })).toEqual({
      container_id: '/web.1',
    });
    expect(promptArgs(generateCompose, { container_ids: 'web, db,' })).toEqual({ container_ids: 'web, db,' });
  });

  it('refuse a blank one instead of taking it as "all running"; an empty one keeps its default', () => {
    for (const [prompt, name, value] of [
      [securityAudit, 'container_id', '  \t '],
      [generateCompose, 'container_ids', '  '],
      [generateCompose, 'container_ids', ',, ,'],
      [troubleshootContainer, 'container_id', ' '],
    ] as const) {
      const e = thrown(() => promptArgs(prompt, { [name]: value }));
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toBe(`invalid argument '${name}': names no container, got ${JSON.stringify(value)}`);
    }
    expect(thrown(() => promptArgs(securityAudit, { container_id: ' ' })).hint).toBe(
      "Give a container name or ID, or leave 'container_id' out.",
    );
    expect(promptArgs(securityAudit, { container_id: '' })).toEqual({});
    expect(promptArgs(securityAudit, {})).toEqual({});
  });
});

describe('resource template parts', () => {
  it('refuse a container part that cannot name a container, naming the variable', () => {
    for (const uri of [
      'container://logs/%00',
      'container://logs/a%0Ab',
      'container://logs/..%2F..%2Finfo%3F',
    ]) {
      const vars = matchTemplate(containerLogs, uri);
      expect(vars).toBeDefined();
      const e = thrown(() => templateVars(containerLogs, vars ?? {}));
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toStartWith(
        "invalid argument 'container_id': has characters or a shape not allowed here",
      );
    }
    expect(templateVars(containerLogs, { container_id: 'web' })).toEqual({ container_id: 'web' });
  });
});

describe('driver names and swarm addresses', () => {
  const refusal = async (p: unknown) => {
    try {
      await p;
    } catch (e) {
      return (e as ToolError).message;
    }
    return undefined;
  };

  it('refuse a volume or network driver no plugin can be named, naming driver', async () => {
    for (const driver of ['   \t ', 'aud-inp\u0000x\nINJECTED: y', 'Local', 'a b', '-x', 'x/', '../x']) {
      for (const [tool, args] of [
        [createVolume, { name: 'vv', driver }],
        [createNetwork, { name: 'n', driver }],
      ] as const)
        expect(await refusal(validateArgs(tool.input, args))).toStartWith(
          "invalid argument 'driver': has characters or a shape not allowed here (expected: a driver or plugin name",
        );
    }
  });

  it('take built-in drivers and any plugin reference', async () => {
    for (const driver of [
      'local',
      'bridge',
      'overlay',
      'macvlan',
      'aud-inp-nodrv',
      'vieux/sshfs:latest',
      'vieux/sshfs:Next_1.0',
      'localhost:5000/my.org/plugin-x:v2',
      `store/x/y@sha256:${'a'.repeat(64)}`,
    ]) {
      expect(await refusal(validateArgs(createVolume.input, { driver }))).toBeUndefined();
      expect(await refusal(validateArgs(createNetwork.input, { name: 'n', driver }))).toBeUndefined();
    }
  });

  it('refuse a swarm address with blanks or control characters, take IPs and interfaces', async () => {
    for (const advertise_addr of ['   \t ', 'a\u0000\nb', '\u202e10.0.0.1'])
      expect(await refusal(validateArgs(swarmInit.input, { advertise_addr }))).toStartWith(
        "invalid argument 'advertise_addr': has characters or a shape not allowed here (expected: an IP address",
      );
    for (const advertise_addr of [
      '10.0.0.5',
      '10.0.0.5:2377',
      'eth0',
      'eth0:2377',
      '[fd00::1]:2377',
      'fe80::1%eth0',
    ])
      expect(await refusal(validateArgs(swarmInit.input, { advertise_addr }))).toBeUndefined();
  });
});
