import { Logger } from 'tslog';

/**
 * Logs go to stderr only: in stdio mode stdout carries the protocol. tslog's own console output is
 * hidden and a transport writes each pretty line to stderr.
 */
export function createLogger(minLevel: string) {
  const log = new Logger({
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
