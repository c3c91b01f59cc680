/** The tools/list answer cache: what it keys on, what it keeps, and that a hit is the same answer with the caller's id. */
import { describe, expect, it } from 'bun:test';
import { answerFor, cacheableAnswer, listRequestKey } from '../../src/transport/http/list-cache.ts';

const headers = new Headers({
  accept: 'application/json, text/event-stream',
  'content-type': 'application/json',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/list',
});
const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' };
const body = (id: unknown, params: Record<string, unknown> = { _meta: meta }): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/list',
  params,
});
const frame = (id: unknown) =>
  `event: message\ndata: {"result":{"tools":[]},"jsonrpc":"2.0","id":${JSON.stringify(id)}}\n\n`;

describe('list request key', () => {
  it('is the same for two requests that differ only in their id', () => {
    expect(listRequestKey(body(1), headers)?.key).toBe(listRequestKey(body('a'), headers)?.key as string);
  });

  it('differs when the body or a checked header differs', () => {
    const base = listRequestKey(body(1), headers)?.key;
    expect(listRequestKey(body(1, { _meta: { ...meta, x: 1 } }), headers)?.key).not.toBe(base as string);
    const other = new Headers(headers);
    other.set('mcp-protocol-version', '2025-11-25');
    expect(listRequestKey(body(1), other)?.key).not.toBe(base as string);
  });

  it('refuses pages, other methods, odd ids, batches and long bodies, and nothing', () => {
    expect(listRequestKey(body(1, { cursor: 'x' }), headers)).toBeUndefined();
    expect(listRequestKey({ ...body(1), method: 'tools/call' }, headers)).toBeUndefined();
    for (const id of [null, 1.5, { a: 1 }, undefined])
      expect(listRequestKey(body(id), headers)).toBeUndefined();
    expect(listRequestKey([body(1)], headers)).toBeUndefined();
    expect(listRequestKey(body(1, { _meta: { pad: 'x'.repeat(3000) } }), headers)).toBeUndefined();
    expect(listRequestKey(undefined, headers)).toBeUndefined();
  });
});

describe('cached answer', () => {
  const sse = new Headers({ 'content-type': 'text/event-stream', date: 'x', 'cache-control': 'no-store' });

  it("answers a later request with the same bytes and that request's id", async () => {
    const kept = cacheableAnswer(frame(7), 7, sse);
    if (!kept) throw new Error('not kept');
    for (const id of [8, 'req-9']) {
      const res = answerFor(kept, id);
      expect(await res.text()).toBe(frame(id));
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(res.headers.get('date')).toBeNull();
    }
  });

  it('keeps only a single successful frame for the same id', () => {
    expect(cacheableAnswer(frame(7), 8, sse)).toBeUndefined();
    expect(cacheableAnswer(frame(7).replace('"result"', '"error"'), 7, sse)).toBeUndefined();
    const twoFrames = `event: message\ndata: {"result":{},"jsonrpc":"2.0","id":0}\n\n${frame(7)}`;
    expect(cacheableAnswer(twoFrames, 7, sse)).toBeUndefined();
  });
});
