import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import { validateArgs } from '../../src/pipeline/validate.ts';
import { listContainers } from '../../src/tools/containers/inspect.ts';
import { createVolume } from '../../src/tools/volumes/manage.ts';

async function invalid(
  schema: Parameters<typeof validateArgs>[0],
  args: unknown,
): Promise<string | undefined> {
  try {
    await validateArgs(schema, args);
    return undefined;
  } catch (e) {
    return e instanceof ToolError ? `${e.kind}: ${e.message}` : String(e);
  }
}

describe('map keys', () => {
  it('refuses a label key with a control character, naming the field and the key escaped', async () => {
    expect(await invalid(createVolume.input, { labels: { 'a\nb': 'c' } })).toBe(
      "invalid_argument: invalid argument 'labels.a\\nb': the key has characters or a shape not allowed here (expected: text without control characters: no newline, tab or NUL)",
    );
    expect(await invalid(createVolume.input, { labels: { 'com.example/a b': 'c' } })).toBeUndefined();
  });

  it('checks the value under a key holding a newline (the key no longer escapes the value rule)', async () => {
    expect(await invalid(createVolume.input, { labels: { 'k\n': { x: 1 } } })).toStartWith(
      "invalid_argument: invalid argument 'labels.k\\n': ",
    );
    expect(await invalid(listContainers.input, { filters: { 'status\n': 5 } })).toStartWith(
      "invalid_argument: invalid argument 'filters.status\\n': ",
    );
  });

  it('takes filter names in the shape Docker writes them, and says what one looks like otherwise', async () => {
    expect(
      await invalid(listContainers.input, { filters: { status: ['exited'], 'is-task': ['false'] } }),
    ).toBe(undefined);
    expect(await invalid(listContainers.input, { filters: { 'label!': ['a'] } })).toBeUndefined();
    expect(await invalid(listContainers.input, { filters: { 'Status x': ['a'] } })).toContain(
      '(expected: a filter name such as label or status',
    );
  });
});
