import type { Logger } from 'tslog';

/**
 * Logs go to stderr only: in stdio mode stdout carries the protocol. tslog's own console output is
 * hidden and a transport writes each pretty line to stderr.
 */
export function createLogger(minLevel: string) {
  // Required on first use, not imported: evaluating tslog (and the builtins it pulls in) at start-up
  // costs ~1 MiB of peak RSS in a server that may never log (bench/changes.md).
  const { Logger: TsLogger } = require('tslog') as typeof import('tslog');
  const log: Logger<unknown> = new TsLogger({
    name: 'mcp-docker',
    type: 'hidden',
    minLevel: minLevel.toUpperCase() as 'INFO',
    stack: { capture: 'off' },
  });
  log.attachTransport({
    format: 'pretty',
    write: (_record: unknown, line: string) => void process.stderr.write(`${line}\n`),
  });
  return log;
}

export type Log = ReturnType<typeof createLogger>;
