/**
 * The 2026-era `tools/list` answer, kept per safety profile. The list is 50-65 KB of JSON and the
 * same for every caller with one profile; serialising it again for every request was half of the
 * server's CPU under load (JSON.stringify + encode in the SDK's SSE writer). A request whose body
 * (all but its id, as parsed) and protocol headers are byte-identical to one the SDK already answered with a
 * result gets that answer with its own id spliced in; anything else goes to the SDK as before.
 * The answer depends on nothing else: the catalogue is fixed, a profile object never changes (an
 * auth-file reload makes new ones), and the whole body — `_meta` included — is part of the key.
 */
import { principalOf } from './auth.ts';
import { BoundedMap } from './rate-limit.ts';

/** Requests whose key is longer than this are not cached (keys stay small; real list requests are ~300 bytes). */
const MAX_KEY = 2048;
/** Distinct request shapes kept per profile (clients differ only in their `clientInfo`). */
const MAX_ENTRIES = 64;
const KEY_HEADERS = ['accept', 'content-type', 'mcp-protocol-version', 'mcp-method'] as const;

export interface CachedAnswer {
  /** Everything before the id in the SSE frame. */
  prefix: string;
  headers: [string, string][];
}

/** The request's id and its key (parsed body without the id, plus the headers the SDK checks); undefined = do not cache. */
export function listRequestKey(
  parsed: unknown,
  headers: Headers,
): { id: string | number; key: string } | undefined {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { id, ...rest } = parsed as { id?: unknown; method?: unknown; params?: { cursor?: unknown } };
  if (rest.method !== 'tools/list' || rest.params?.cursor !== undefined) return undefined;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isSafeInteger(id))) return undefined;
  const key = JSON.stringify([KEY_HEADERS.map((h) => headers.get(h)), rest]);
  return key.length > MAX_KEY ? undefined : { id, key };
}

/** Keeps a successful single-message answer to request `id`, split around the id; undefined = not cacheable. */
export function cacheableAnswer(
  text: string,
  id: string | number,
  headers: Headers,
): CachedAnswer | undefined {
  const tail = `"id":${JSON.stringify(id)}}\n\n`;
  if (!text.startsWith('event: message\ndata: {"result":') || !text.endsWith(tail)) return undefined;
  // One frame only: a notification or second message would not be the same next time.
  if (text.indexOf('\n\n') !== text.length - 2) return undefined;
  const kept = [...headers].filter(
    ([name]) => !['date', 'content-length', 'transfer-encoding'].includes(name),
  );
  return { prefix: text.slice(0, text.length - tail.length), headers: kept };
}

export const answerFor = (a: CachedAnswer, id: string | number): Response =>
  new Response(`${a.prefix}"id":${JSON.stringify(id)}}\n\n`, { status: 200, headers: a.headers });

/** `serve(request, parsedBody, next)`: a cached answer for a repeated 2026-era tools/list, else `next()`. */
export function listAnswerCache() {
  const byProfile = new WeakMap<object, BoundedMap<CachedAnswer>>();
  return async (request: Request, parsedBody: unknown, next: () => Promise<Response>): Promise<Response> => {
    // The header (which the SDK checks against the body) lets every other request skip the body.
    if (request.method !== 'POST' || request.headers.get('mcp-method') !== 'tools/list') return next();
    const profile = principalOf(request)?.profile;
    if (!profile) return next();
    const req = listRequestKey(parsedBody, request.headers);
    if (!req) return next();
    let entries = byProfile.get(profile);
    const hit = entries?.get(req.key);
    if (hit) return answerFor(hit, req.id);
    const response = await next();
    if (response.status !== 200 || !response.headers.get('content-type')?.startsWith('text/event-stream'))
      return response;
    const text = await response.text();
    const answer = cacheableAnswer(text, req.id, response.headers);
    if (answer) {
      if (!entries) {
        entries = new BoundedMap(MAX_ENTRIES);
        byProfile.set(profile, entries);
      }
      entries.set(req.key, answer);
    }
    return new Response(text, response);
  };
}
