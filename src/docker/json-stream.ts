/**
 * The engine's JSON progress streams (pull, push, build, load): one JSON object per line. An object
 * carrying `errorDetail` means the operation failed although the HTTP status was 200; it ends the read
 * with an EngineStreamError. Knows nothing of MCP or of any tool.
 */
import type { Readable } from 'node:stream';
import { consume, LineSplitter } from './streams.ts';

export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  /** Pre-rendered bar ("[===>  ] 1.2MB/4MB"): meant for terminals, ignored here. */
  progress?: string;
  /** Build output text, not necessarily whole lines. */
  stream?: string;
  aux?: { ID?: string; Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/** A failure the engine reported inside a 200 stream. */
export class EngineStreamError extends Error {
  override name = 'EngineStreamError';
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

/** Generous: a build's output line can be long, but not unbounded. */
const MAX_LINE_BYTES = 1_048_576;

/**
 * Hands each message of a progress stream to `onMessage` until the stream ends; throws the
 * EngineStreamError of an `errorDetail` message. Aborting the signal destroys the stream (which
 * closes the request, so the engine stops the operation) and rejects with the signal's reason.
 */
export async function readProgressStream(
  stream: Readable,
  onMessage: (message: ProgressMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  let failure: EngineStreamError | undefined;
  const lines = new LineSplitter((line) => {
    if (failure || line.trim() === '') return;
    let message: ProgressMessage;
    try {
      message = JSON.parse(line) as ProgressMessage;
    } catch {
      return; // not JSON (a proxy's noise): nothing to report
    }
    if (message.errorDetail || message.error) {
      failure = new EngineStreamError(
        message.errorDetail?.message || message.error || 'the engine reported an error',
        message.errorDetail?.code,
      );
      return;
    }
    onMessage(message);
  }, MAX_LINE_BYTES);
  await consume(
    stream,
    (chunk) => {
      lines.push(chunk);
      return failure ? false : undefined;
    },
    signal,
  );
  if (!failure) lines.flush();
  if (failure) throw failure;
}

/**
 * Status and the engine's own words from a stream request the engine refused before streaming.
 * docker-modem puts the body of such an answer only in `message`, as "(HTTP code N) reason - text ".
 */
export function refusal(e: unknown): { status: number; message: string } | undefined {
  const err = e as { statusCode?: unknown; json?: { message?: unknown } | null; message?: unknown };
  if (typeof err?.statusCode !== 'number') return undefined;
  const fromJson = typeof err.json?.message === 'string' ? err.json.message : undefined;
  const raw = fromJson ?? String(err.message ?? '');
  const message = raw.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  return { status: err.statusCode, message: message || `engine answered HTTP ${err.statusCode}` };
}
