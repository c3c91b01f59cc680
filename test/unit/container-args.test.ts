import { describe, expect, it } from 'bun:test';
import { bytes } from '../../src/docker/spec-values.ts';
import { validateArgs } from '../../src/pipeline/validate.ts';
import { updateContainer } from '../../src/tools/containers/create.ts';
import { knownSignal } from '../../src/tools/containers/lifecycle.ts';

describe('knownSignal', () => {
  it('takes the engine’s signal names, with or without SIG and in any case, and numbers 1-64', () => {
    for (const s of [
      'SIGKILL',
      'KILL',
      'term',
      'SigHup',
      'USR1',
      'RTMIN',
      'RTMIN+3',
      'RTMAX',
      '1',
      '9',
      '64',
    ])
      expect(knownSignal(s)).toBe(true);
  });

  it('refuses 0, numbers past 64 and names Linux does not have', () => {
    for (const s of ['0', '65', '99', 'SIGFOO', 'RTMIN+16', 'SIG', 'KILLALL'])
      expect(knownSignal(s)).toBe(false);
  });
});

describe('memory_swap -1', () => {
  it('is taken as the string "-1" as well as the number, meaning unlimited', async () => {
    for (const memory_swap of ['-1', -1]) {
      const args = await validateArgs(updateContainer.input, {
        container_id: 'web',
        mem_limit: '32m',
        memory_swap,
      });
      expect(bytes(args.memory_swap as string | number, 'memory_swap')).toBe(-1);
    }
  });

  it('still refuses other negative sizes', async () => {
    await expect(
      Promise.resolve().then(() =>
        validateArgs(updateContainer.input, { container_id: 'web', memory_swap: '-2' }),
      ),
    ).rejects.toThrow("'memory_swap'");
  });
});
