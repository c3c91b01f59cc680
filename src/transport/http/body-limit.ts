/**
 * Refuses a declared oversize body before it is read. Bodies without a length (chunked) are bounded
 * where they are read: the SDK's `maxRequestBodySize` for /mcp, `readBounded` for /messages, and
 * Bun.serve's `maxRequestBodySize` under both.
 */
import { Elysia } from 'elysia';
import { jsonError } from './plugin.ts';

export function checkBodySize(contentLength: string | null, max: number): 'ok' | 'too_large' | 'invalid' {
  if (contentLength === null) return 'ok';
  if (!/^\d+$/.test(contentLength.trim())) return 'invalid';
  return Number(contentLength) > max ? 'too_large' : 'ok';
}

export const tooLarge = (max: number) =>
  jsonError(413, `request body too large: the limit is ${max} bytes (--max-body-bytes)`);

export function bodyLimit(o: { maxBytes: number }) {
  return new Elysia({ name: 'body-limit', seed: o }).onRequest(({ request }) => {
    const verdict = checkBodySize(request.headers.get('content-length'), o.maxBytes);
    if (verdict === 'too_large') return tooLarge(o.maxBytes);
    if (verdict === 'invalid') return jsonError(400, 'invalid Content-Length');
    return undefined;
  });
}

/** Reads a body as text, failing with a 413 response once more than `max` bytes arrive. */
export async function readBounded(request: Request, max: number): Promise<string | Response> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return tooLarge(max);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
