import { describe, expect, it } from 'bun:test';
import Type from 'typebox';
import { validateArgs } from '../../src/pipeline/validate.ts';

const schema = Type.Object(
  {
    filters: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
    opts: Type.Optional(
      Type.Object({
        tail: Type.Optional(Type.Integer({ default: 100 })),
        follow: Type.Optional(Type.Boolean()),
      }),
    ),
  },
  { additionalProperties: false },
);

describe('validated arguments are a copy', () => {
  it('fills defaults into the copy and leaves the caller’s arguments as they were', async () => {
    const raw = JSON.parse('{"filters":{"label":["a=b"]},"opts":{"follow":true}}');
    const args = await validateArgs(schema, raw);
    expect(args).toEqual({ filters: { label: ['a=b'] }, opts: { tail: 100, follow: true } });
    expect(raw).toEqual({ filters: { label: ['a=b'] }, opts: { follow: true } });
    (args.filters as Record<string, string[]>).label?.push('c=d');
    expect(raw.filters.label).toEqual(['a=b']);
  });

  it('keeps a "__proto__" key from the wire as data, never as the prototype', async () => {
    const raw = JSON.parse('{"filters":{"__proto__":["x"],"label":["a=b"]}}');
    const args = await validateArgs(schema, raw);
    const filters = args.filters as Record<string, unknown>;
    expect(Object.getPrototypeOf(filters)).toBe(Object.prototype);
    expect(Object.keys(filters)).toEqual(['__proto__', 'label']);
    expect(Object.getOwnPropertyDescriptor(filters, '__proto__')?.value).toEqual(['x']);
  });
});
