/**
 * The JSON body of a POST to /mcp or /messages, read once (bounded) and parsed once per request, then
 * shared: the rate limit counts its calls, the list cache keys on it and the SDK gets it as
 * `parsedBody`. Nobody clones the request or reads the bytes again, so a body costs one copy.
 */
import { isJsonContentType } from '@modelcontextprotocol/server';
import { readBounded } from './body-limit.ts';

/** The parsed body; `invalid` when it is empty or not JSON; a Response (413) when it is too large. */
export type JsonBody = { value: unknown } | { invalid: true } | Response;

const bodies = new WeakMap<Request, Promise<JsonBody>>();

/** Whether the body is JSON by its Content-Type (other bodies are refused unread). */
export const isJsonBody = (request: Request) => isJsonContentType(request.headers.get('content-type'));

/** Reads and parses `request`'s body the first time; later callers get the same result. */
export function jsonBodyOf(request: Request, maxBytes: number): Promise<JsonBody> {
  let body = bodies.get(request);
  if (!body) {
    body = read(request, maxBytes);
    bodies.set(request, body);
  }
  return body;
}

async function read(request: Request, maxBytes: number): Promise<JsonBody> {
  // A declared length was checked by the body-limit plugin: read it natively; otherwise count as it comes.
  const text = request.headers.has('content-length')
    ? await request.text()
    : await readBounded(request, maxBytes);
  if (text instanceof Response) return text;
  if (text.length === 0) return { invalid: true };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { invalid: true };
  }
}
