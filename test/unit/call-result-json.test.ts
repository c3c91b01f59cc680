import { describe, expect, it } from 'bun:test';
import { callResultJson, toCallResult } from '../../src/call-result.ts';
import { ToolError } from '../../src/core/errors.ts';
import { capResult } from '../../src/pipeline/cap.ts';

describe('callResultJson', () => {
  it('is JSON.stringify of a successful result, byte for byte, without serializing its data again', () => {
    const datas: Record<string, unknown>[] = [
      { containers: [{ id: 'abc', name: 'web "quoted" \\ slash', note: 'tab\there\nline\u0001' }], count: 1 },
      { text: 'emoji 😀 and lone-free unicode é', empty: '', n: -0.5, nested: { a: [null, true] } },
      {},
    ];
    for (const data of datas) {
      // As the pipeline makes them: the cap measures the result, the text content reuses its JSON.
      const capped = capResult(data, 1_000_000, 'head', 'narrow');
      const result = toCallResult({ ok: true, data: capped.value }, false);
      expect(callResultJson(result)).toBe(JSON.stringify(result));
    }
  });

  it('leaves any other result to JSON.stringify', () => {
    const error = toCallResult({ ok: false, error: new ToolError('not_found', 'no such container') }, false);
    expect(callResultJson(error)).toBeUndefined();
    expect(
      callResultJson({ content: [{ type: 'text', text: '{}' }], structuredContent: {} }),
    ).toBeUndefined();
  });
});
