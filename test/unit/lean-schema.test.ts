/**
 * The listed copy of an input schema is shorter than the one the pipeline validates against; these
 * tests pin that what the listed copy leaves out is still enforced, with an error naming the field.
 */
import { describe, expect, it } from 'bun:test';
import type { TObject } from 'typebox';
import { ToolError } from '../../src/core/errors.ts';
import { leanSchema } from '../../src/lean-schema.ts';
import { validateArgs } from '../../src/pipeline/validate.ts';
import { createContainer } from '../../src/tools/containers/create.ts';
import { listContainers } from '../../src/tools/containers/inspect.ts';
import { containerStats } from '../../src/tools/containers/observe.ts';
import { pullImage } from '../../src/tools/images/pull.ts';

type Listed = { additionalProperties?: unknown; properties: Record<string, Record<string, unknown>> };
const listed = (schema: TObject) => leanSchema(schema) as unknown as Listed;

const refusal = async (f: () => unknown): Promise<string> => {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(ToolError);
    return (e as ToolError).message;
  }
  throw new Error('expected a refusal');
};

describe('lean listed schemas', () => {
  it('drop the top-level additionalProperties: false, and an unknown argument is still refused by name', async () => {
    expect(listed(listContainers.input).additionalProperties).toBeUndefined();
    expect(await refusal(() => validateArgs(listContainers.input, { al: true }))).toContain(
      "unknown argument 'al'",
    );
  });

  it('list a filter map as its example only, and a value of the wrong shape is still refused by name', async () => {
    const filters = listed(listContainers.input).properties.filters;
    expect(filters).toEqual({ type: 'object', description: 'e.g. {"status":["exited"]}' });
    expect(await validateArgs(listContainers.input, { filters: { status: ['exited'] } })).toEqual({
      filters: { status: ['exited'] },
    });
    expect(
      await refusal(() => validateArgs(listContainers.input, { filters: { status: 'exited' } })),
    ).toContain("'filters.status'");
  });

  it('keep environment, ports and volumes checked in full although only their examples are listed', async () => {
    const props = listed(createContainer.input).properties;
    for (const k of ['environment', 'ports', 'volumes']) {
      expect(props[k]?.additionalProperties).toBeUndefined();
      expect(props[k]?.description).toBeString();
    }
    // [arguments, what the refusal names] (a nested required key is named by itself).
    const bad: [Record<string, unknown>, string][] = [
      [{ environment: { A: 1 } }, "'environment.A'"],
      [{ ports: { '80/tcp': true } }, "'ports.80"],
      [{ volumes: { '/src': { mode: 'ro' } } }, "'volumes./src.bind'"],
    ];
    for (const [args, named] of bad)
      expect(await refusal(() => validateArgs(createContainer.input, { image: 'x', ...args }))).toContain(
        named,
      );
  });

  it('leave out plain-string element schemas, and a non-string element is still refused by name', async () => {
    const props = listed(createContainer.input).properties;
    expect(props.cap_add).toEqual({ type: 'array' });
    expect(props.labels).toEqual({ type: 'object' });
    expect(await refusal(() => validateArgs(createContainer.input, { image: 'x', cap_add: [1] }))).toContain(
      "'cap_add.0'",
    );
    expect(
      await refusal(() => validateArgs(createContainer.input, { image: 'x', labels: { a: 1 } })),
    ).toContain("'labels.a'");
  });

  it('do not list a parameter kept only for the seed, which is still accepted', async () => {
    expect(listed(containerStats.input).properties.stream).toBeUndefined();
    expect(await validateArgs(containerStats.input, { container_id: 'web', stream: true })).toEqual({
      container_id: 'web',
      stream: true,
    });
  });

  it('list registry credentials by their shape only, and a wrong key is still refused by name', async () => {
    expect(listed(pullImage.input).properties.auth).toEqual({
      type: 'object',
      description: '{"username","password"} or {"identitytoken"}; default: docker config',
    });
    expect(await refusal(() => validateArgs(pullImage.input, { image: 'x', auth: { user: 'a' } }))).toBe(
      `invalid argument 'auth': unknown key "user"; it takes: username, password, identitytoken`,
    );
  });

  it('name the keys a lean-listed object takes, and the shape a value of the wrong type needs', async () => {
    const create = (args: Record<string, unknown>) =>
      refusal(() => validateArgs(createContainer.input, { image: 'x', ...args }));
    expect(await create({ healthcheck: { cmd: 'true' } })).toStartWith(
      `invalid argument 'healthcheck': unknown key "cmd"; it takes: test,`,
    );
    expect(await create({ environment: 'A=1' })).toStartWith(
      `invalid argument 'environment': must be either object or array (expected: {"K":"v"} or ["K=v"])`,
    );
  });
});
