/**
 * Which exec events are a container's own health check. The engine runs the check as an exec every
 * interval, three events a run (exec_create, exec_start, exec_die), so a few checked containers fill a
 * window of events with them. They are told apart by their command: the check's, as the engine words
 * it (`/bin/sh -c <test>` for CMD-SHELL, its own program and arguments for CMD); exec_die by the
 * exec's ID.
 */
import type Dockerode from 'dockerode';

export interface RawEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

interface Healthcheck {
  Test?: string[];
}

/**
 * The exec command line a container's health check shows in its events; undefined without one. The
 * engine words it as the program, a space, then its arguments joined by spaces (`false ` for CMD false).
 */
export function checkCommand(
  check: Healthcheck | undefined,
  shell: string[] | undefined,
): string | undefined {
  const [kind, ...rest] = check?.Test ?? [];
  const argv =
    kind === 'CMD'
      ? rest
      : kind === 'CMD-SHELL'
        ? [...(shell?.length ? shell : ['/bin/sh', '-c']), ...rest]
        : [];
  return argv.length > 0 ? `${argv[0]} ${argv.slice(1).join(' ')}` : undefined;
}

const EXEC = /^exec_(create|start): /;

/**
 * Classifies events in stream order. An exec of a container not yet looked up waits for its inspect
 * (one a container, started as its first exec arrives); `ready` runs as each one settles.
 */
export class HealthExecs {
  private readonly commands = new Map<string, string | undefined>();
  private readonly looking = new Set<Promise<void>>();
  private readonly pending = new Set<string>();
  private readonly execIds = new Set<string>();

  constructor(
    private readonly docker: Dockerode,
    private readonly signal: AbortSignal,
    private readonly ready: () => void,
  ) {}

  /** 'check' for a health check's event, 'other' for any other, 'unknown' while its container is looked up. */
  classify(e: RawEvent): 'check' | 'other' | 'unknown' {
    if (e.Type !== 'container' || !e.Action?.startsWith('exec_')) return 'other';
    const execId = e.Actor?.Attributes?.execID;
    if (e.Action === 'exec_die') return execId && this.execIds.has(execId) ? 'check' : 'other';
    const id = e.Actor?.ID ?? '';
    const m = EXEC.exec(e.Action);
    if (!m || !id) return 'other';
    if (this.pending.has(id)) return 'unknown';
    if (!this.commands.has(id)) {
      this.lookUp(id);
      return 'unknown';
    }
    const command = this.commands.get(id);
    if (command === undefined || e.Action.slice(m[0].length) !== command) return 'other';
    if (execId) this.execIds.add(execId);
    return 'check';
  }

  /** Settles once every lookup started so far has. */
  async settled(): Promise<void> {
    while (this.looking.size > 0) await Promise.all(this.looking);
  }

  private lookUp(id: string) {
    // Further events of this container wait on the same lookup.
    this.pending.add(id);
    const inspected = this.docker
      .getContainer(id)
      .inspect({ abortSignal: this.signal } as never) as unknown as Promise<{
      Config?: { Healthcheck?: Healthcheck; Shell?: string[] };
    }>;
    const look = inspected
      .then(
        (c) => {
          this.commands.set(id, checkCommand(c.Config?.Healthcheck, c.Config?.Shell));
        },
        // Removed since, or the engine failed: its execs are listed as they are.
        () => {
          this.commands.set(id, undefined);
        },
      )
      .finally(() => {
        this.pending.delete(id);
        this.looking.delete(look);
        this.ready();
      });
    this.looking.add(look);
  }
}
