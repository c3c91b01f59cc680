/**
 * How an HTTP concern is written: a function of its options returning a named Elysia instance
 * (`new Elysia({ name, seed: options })`, so using it twice with the same options mounts it once).
 * The decision is a pure function next to it, unit-tested on its own; the plugin only wires it in:
 * - a guard that needs nothing but the request answers early from `onRequest` (runs before routing,
 *   for every path, in `.use` order) — Host/Origin, body limit, client IP allowlist;
 * - a guard that needs the caller uses `onBeforeHandle({ as: 'global' })` after the auth plugin
 *   and reads `principalOf(request)` — rate limits;
 * - an observer uses `onAfterResponse({ as: 'global' })` — audit.
 * Headers put in `set.headers` reach every response, refusals and errors included.
 */

/** A short JSON error body: a message for a person, never internals. */
export function jsonError(status: number, error: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error }, { status, headers });
}
