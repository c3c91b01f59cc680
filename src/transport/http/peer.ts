/**
 * The socket peer of each request, recorded by `startHttp` from Bun's `server.requestIP` (Elysia's
 * `app.handle` does not see the server). Undefined for in-process requests that never had a socket.
 */
const peers = new WeakMap<Request, string>();

export function recordPeer(request: Request, address: string | undefined): void {
  if (address !== undefined) peers.set(request, address);
}

export const peerAddress = (request: Request): string | undefined => peers.get(request);
