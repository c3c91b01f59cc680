/**
 * Refuses a declared oversize body before it is read. Bodies without a length (chunked) are bounded
 * where they are read: the SDK's `maxRequestBodySize` for /mcp, `readBounded` for /messages, and
 * Bun.serve's `maxRequestBodySize` under both.
 */
import { Elysia } from 'elysia';
import { jsonError } from './plugin.ts';
import { type OnRefused, screened } from './refusals.ts';

export function checkBodySize(contentLength: string | null, max: number): 'ok' | 'too_large' | 'invalid' {
  if (contentLength === null) return 'ok';
  if (!/^\d+$/.test(contentLength.trim())) return 'invalid';
  return Number(contentLength) > max ? 'too_large' : 'ok';
}

export const tooLarge = (max: number) =>
  jsonError(413, `request body too large: the limit is ${max} bytes (--max-body-bytes)`);

/**
 * A body sent compressed is refused unread: it is never inflated (no zip bomb), and the client is told
 * why rather than that its JSON does not parse.
 */
export function encodingRefused(contentEncoding: string | null): Response | undefined {
  const coding = contentEncoding?.trim().toLowerCase();
  if (!coding || coding === 'identity') return undefined;
  return jsonError(
    415,
    `unsupported Content-Encoding '${coding.slice(0, 40)}': send the request body uncompressed`,
    { 'accept-encoding': 'identity' },
  );
}

/** `onRefused` is told of each refusal (audit, log: refusals.ts). */
export function bodyLimit(o: { maxBytes: number; onRefused?: OnRefused }) {
  return new Elysia({ name: 'body-limit', seed: o }).onRequest(({ request }) => {
    const encoding = request.headers.get('content-encoding');
    const refused = encodingRefused(encoding);
    if (refused) {
      o.onRefused?.(request, {
        outcome: 'unsupported_encoding',
        detail: `body sent with Content-Encoding ${screened(encoding ?? '')}`,
      });
      return refused;
    }
    const length = request.headers.get('content-length');
    const verdict = checkBodySize(length, o.maxBytes);
    if (verdict === 'too_large') {
      o.onRefused?.(request, {
        outcome: 'body_too_large',
        detail: `body of ${length} bytes declared; the limit is ${o.maxBytes} (--max-body-bytes)`,
      });
      return tooLarge(o.maxBytes);
    }
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
