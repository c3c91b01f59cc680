/**
 * Counts calls in progress so shutdown can wait for them. A call ends when its response body has
 * been sent (a streamed /mcp answer ends with its result) or, for legacy SSE, when its result is sent.
 */
export class InFlight {
  private n = 0;
  private waiters: (() => void)[] = [];

  get count(): number {
    return this.n;
  }

  /** Marks one call started; the returned function ends it (idempotent). */
  begin(): () => void {
    this.n++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.n--;
      if (this.n === 0) for (const w of this.waiters.splice(0)) w();
    };
  }

  /**
   * Ends the call (begun here or by `begin()`) when the response body is finished, cancelled or errors;
   * `gone` is told when the body is cancelled before its end (the client hung up).
   */
  track(response: Response, end = this.begin(), gone?: () => void): Response {
    if (!response.body) {
      end();
      return response;
    }
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            end();
            controller.close();
          } else controller.enqueue(value);
        } catch (e) {
          end();
          controller.error(e);
        }
      },
      cancel(reason) {
        end();
        gone?.();
        return reader.cancel(reason);
      },
    });
    return new Response(body, response);
  }

  /** Resolves when nothing is in flight, or after `ms`; true when everything finished. */
  idle(ms: number): Promise<boolean> {
    if (this.n === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/**
 * Waits for `work` to settle, at most `ms`: true when it did. Shutdown steps use it so that a close
 * that never completes (a stuck stream, a peer that stopped reading) cannot hold the process.
 */
export function settleWithin(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = work.then(
    () => true,
    () => true,
  );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}
