/**
 * An engine stand-in on a unix socket that records every request and creates nothing: it answers
 * /_ping and /version like a Docker 20.10 engine (so the server connects), the containers it is given
 * to their inspect, the networks it is given to GET /networks, and 404 to the rest.
 * Fuzzers point the real pipeline at it to see which inputs reach the engine, without any risk of
 * creating or destroying real objects. With `upstream`, requests are forwarded to a real engine
 * instead (and still recorded), which lets fault tests see when the server drops a request.
 */
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Engine } from '../../src/docker/engine.ts';
import type { EngineHandle } from '../../src/docker/engines.ts';

export interface RecordedRequest {
  method: string;
  /** Path without the /v1.xx prefix, query included. */
  path: string;
  /** Request body (first 64 KB), for asserting what would have been created. */
  body: string;
  /** Set when the client closed the connection before the answer was complete. */
  abortedByClient: boolean;
  finished: boolean;
}

export interface RecordingEngine {
  /** unix://… address for DOCKER_HOST. */
  host: string;
  socketPath: string;
  requests: RecordedRequest[];
  /** Requests other than the connection probe (/_ping, /version). */
  calls(): RecordedRequest[];
  clear(): void;
  /** A fresh Engine (our src/docker client) aimed at this socket. */
  engineHandle(): EngineHandle;
  close(): Promise<void>;
}

const VERSION = {
  Version: '20.10.24',
  ApiVersion: '1.41',
  MinAPIVersion: '1.12',
  Os: 'linux',
  Arch: 'amd64',
};
const PROBE = /^\/(?:v[\d.]+\/)?(?:_ping|version)(?:\?|$)/;
const unversioned = (url: string) => url.replace(/^\/v[\d.]+\//, '/');

export async function recordingEngine(
  socketPath: string,
  opts: {
    upstream?: string;
    /** Milliseconds to hold the upstream's answer to a request (sent on at once): a slow engine. */
    holdAnswer?: (r: RecordedRequest) => number;
    /** Containers the stand-in knows, by name: GET /containers/{name}/json answers with each. */
    containers?: Record<string, unknown>;
    /** What GET /networks answers (the engine's networks, as a network list). */
    networks?: unknown[];
  } = {},
): Promise<RecordingEngine> {
  rmSync(socketPath, { force: true });
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: unversioned(req.url ?? '/'),
      body: '',
      abortedByClient: false,
      finished: false,
    };
    requests.push(rec);
    res.on('close', () => {
      if (!res.writableFinished) rec.abortedByClient = true;
    });
    res.on('finish', () => {
      rec.finished = true;
    });
    if (opts.upstream) return forward(req, res, rec, opts.upstream, opts.holdAnswer?.(rec) ?? 0);
    req.on('data', (chunk: Buffer) => {
      if (rec.body.length < 65_536) rec.body += chunk.toString('utf8');
    });
    req.on('end', () => answer(req, res, opts.containers ?? {}, opts.networks));
  });
  // Hijacked requests (exec/attach start with Upgrade: tcp) are spliced byte for byte.
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const rec: RecordedRequest = {
      method: req.method ?? 'POST',
      path: unversioned(req.url ?? '/'),
      body: '',
      abortedByClient: false,
      finished: false,
    };
    requests.push(rec);
    if (!opts.upstream) return void client.destroy();
    const up = connect(opts.upstream);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) up.write(head);
    client.pipe(up).pipe(client);
    let upstreamEnded = false;
    up.on('end', () => {
      upstreamEnded = true;
      rec.finished = true;
    });
    client.on('close', () => {
      if (!upstreamEnded) rec.abortedByClient = true;
      up.destroy();
    });
    up.on('close', () => client.destroy());
    for (const sock of [client, up]) sock.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  const handle = () =>
    new Engine({
      dockerHost: `unix://${socketPath}`,
      dockerConfigDir: '/nonexistent/.docker',
      tlsVerify: false,
      home: '/nonexistent',
      platform: 'linux',
      uid: 0,
    });
  return {
    host: `unix://${socketPath}`,
    socketPath,
    requests,
    calls: () => requests.filter((r) => !PROBE.test(r.path)),
    clear: () => {
      requests.length = 0;
    },
    engineHandle: handle,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  containers: Record<string, unknown>,
  networks: unknown[] | undefined,
): void {
  const path = unversioned(req.url ?? '/');
  const known = /^\/containers\/([^/?]+)\/json(?:\?|$)/.exec(path)?.[1];
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.41' });
    res.end(JSON.stringify(body));
  };
  if (path.startsWith('/_ping')) {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Api-Version': '1.41' });
    res.end('OK');
  } else if (path.startsWith('/version')) json(200, VERSION);
  else if (req.method === 'GET' && known && containers[known]) json(200, containers[known]);
  else if (req.method === 'GET' && networks && /^\/networks(?:\?|$)/.test(path)) json(200, networks);
  else json(404, { message: 'recording engine: no such object' });
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  rec: RecordedRequest,
  upstream: string,
  holdMs: number,
): void {
  const up = request(
    { socketPath: upstream, method: req.method, path: req.url, headers: req.headers },
    (upRes) => {
      const answer = () => {
        if (res.destroyed) return upRes.resume();
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      };
      if (holdMs > 0) setTimeout(answer, holdMs);
      else answer();
    },
  );
  up.on('error', () => res.destroy());
  // The server went away mid-answer: drop the upstream request too, as a real client's close would.
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.on('data', (chunk: Buffer) => {
    if (rec.body.length < 65_536) rec.body += chunk.toString('utf8');
  });
  req.pipe(up);
}
