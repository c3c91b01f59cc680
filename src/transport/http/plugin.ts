/**
 * The shape of one HTTP concern. Elysia is not installed yet, so each concern is a small named object
 * with Elysia's lifecycle names: `onRequest` may answer early (a guard), `mapResponse` adjusts every
 * response, answered early or not. `src/transport/http.ts` composes them in order; moving to Elysia
 * means wrapping each one in `new Elysia({ name, seed: options })` with the same two hooks.
 */
export interface Plugin {
  name: string;
  /** Answers the request itself (403, 413, a preflight…) or returns undefined to let it through. */
  onRequest?(request: Request): Response | undefined | Promise<Response | undefined>;
  /** Runs on every response, in plugin order. */
  mapResponse?(request: Request, response: Response): Response;
}

/** A short JSON error body: a message for a person, never internals. */
export function jsonError(status: number, error: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error }, { status, headers });
}

/** A response whose headers can be changed (those from fetch() or a stream helper may be immutable). */
export function mutable(response: Response): Response {
  try {
    response.headers.set('x-mcp-docker-probe', '1');
    response.headers.delete('x-mcp-docker-probe');
    return response;
  } catch {
    return new Response(response.body, response);
  }
}
