/**
 * Reading pull, push and build progress streams into progress reports and results, and turning the
 * registry failures they carry into errors a user can act on.
 */

import { ToolError } from '../../core/errors.ts';
import type { ProgressFn } from '../../core/progress.ts';
import type { ProgressMessage } from '../../docker/json-stream.ts';
import { EngineStreamError, refusal } from '../../docker/json-stream.ts';

const MB = 1_000_000;
const mb = (n: number) => (n / MB).toFixed(1);

interface Layer {
  current: number;
  total?: number;
  done: boolean;
  /** The registry (push) or the engine (pull) already had it: nothing moved. */
  skipped: boolean;
}

/** Statuses after which a layer has nothing left to move. */
const DONE = /^(download complete|pull complete|already exists|pushed|layer already exists|mounted from)/i;
const SKIPPED = /^(already exists|layer already exists|mounted from)/i;
/** Byte counters worth summing: the transfer, not pull's local extraction. */
const MOVING = /^(downloading|pushing)$/i;

/**
 * Per-layer state of a pull or push. Reports bytes moved over bytes known once any layer has a size,
 * otherwise layers done over layers seen; the message says both, e.g. "3/5 layers, 12.1/40.2 MB".
 */
export class LayerProgress {
  private layers = new Map<string, Layer>();
  private inBytes = false;

  constructor(private readonly report: ProgressFn) {}

  /** Takes one stream message; true if it was about a layer. */
  take(m: ProgressMessage): boolean {
    const status = m.status ?? '';
    // Only layer lines carry a 12-hex id; pull's first line uses the tag as id.
    if (!m.id || !/^[0-9a-f]{12}$/.test(m.id)) return false;
    let layer = this.layers.get(m.id);
    if (!layer) {
      layer = { current: 0, done: false, skipped: false };
      this.layers.set(m.id, layer);
    }
    const detail = m.progressDetail ?? {};
    if (MOVING.test(status) && typeof detail.current === 'number') {
      if (typeof detail.total === 'number' && detail.total > 0) layer.total = detail.total;
      // A push can count past its (uncompressed) total; never past it, never backwards.
      layer.current = Math.max(layer.current, Math.min(detail.current, layer.total ?? detail.current));
      this.inBytes = true;
    }
    if (DONE.test(status)) {
      layer.done = true;
      if (SKIPPED.test(status)) layer.skipped = true;
      else if (layer.total !== undefined) layer.current = layer.total;
    }
    this.send();
    return true;
  }

  get counts(): { moved: number; skipped: number; bytes: number } {
    let moved = 0;
    let skipped = 0;
    let bytes = 0;
    for (const l of this.layers.values()) {
      if (l.skipped) skipped++;
      else if (l.done) moved++;
      bytes += l.current;
    }
    return { moved, skipped, bytes };
  }

  private send(): void {
    const all = [...this.layers.values()];
    const done = all.filter((l) => l.done).length;
    const moving = all.filter((l) => !l.skipped);
    const bytes = moving.reduce((sum, l) => sum + l.current, 0);
    const sized = moving.every((l) => l.total !== undefined);
    const total = moving.reduce((sum, l) => sum + (l.total ?? 0), 0);
    const layers = `${done}/${all.length} layers`;
    if (this.inBytes) {
      const of = sized ? `${mb(bytes)}/${mb(total)} MB` : `${mb(bytes)} MB`;
      this.report(bytes, sized ? total : undefined, `${layers}, ${of}`);
    } else this.report(done, all.length, layers);
  }
}

const STEP = /^Step (\d+)\/(\d+) : (.*)$/;
const LOG_LINE_MAX = 400;

/**
 * Build output: "Step n/m : …" lines become progress, every line goes to a bounded tail, and the
 * current step is remembered so a failure can name it.
 */
export class BuildLog {
  readonly tail: string[] = [];
  /** The current step as the log says it ('Step 2/5: RUN make'): the Dockerfile's words. */
  step?: string;
  /** Its number alone ('Step 2/5'), for a message of our own. */
  stepNumber?: string;
  /** Output lines since the current step started, for a failure message. */
  private stepOutput: string[] = [];
  private partial = '';
  imageId?: string;

  constructor(
    private readonly report: ProgressFn,
    private readonly maxLines: number,
  ) {}

  take(m: ProgressMessage): void {
    if (m.aux?.ID) this.imageId = m.aux.ID;
    if (m.stream !== undefined) {
      const text = this.partial + m.stream;
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.line(line);
    } else if (m.status && !m.progressDetail?.total) {
      // Base-image pulls inside the build: keep the milestones, not the byte counters.
      this.line(m.id ? `${m.id}: ${m.status}` : m.status);
    }
  }

  /** The last, unterminated line. */
  flush(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  lastOutput(n: number): string[] {
    return this.stepOutput.slice(-n);
  }

  private line(raw: string): void {
    const line = raw.replace(/\r$/, '').replace(/\s+$/, '');
    if (!line) return;
    const cut = line.length > LOG_LINE_MAX ? `${line.slice(0, LOG_LINE_MAX)}…` : line;
    this.tail.push(cut);
    if (this.tail.length > this.maxLines) this.tail.shift();
    const step = STEP.exec(line);
    if (step) {
      this.stepNumber = `Step ${step[1]}/${step[2]}`;
      this.step = `${this.stepNumber}: ${step[3]}`;
      this.stepOutput = [];
      const message = this.step.length > 80 ? `${this.step.slice(0, 79)}…` : this.step;
      this.report(Number(step[1]), Number(step[2]), message);
    } else if (!line.startsWith(' ---> ')) {
      this.stepOutput.push(cut);
      if (this.stepOutput.length > 50) this.stepOutput.shift();
    }
  }
}

const AUTH_FAILURE =
  /unauthorized|authentication required|no basic auth credentials|denied|incorrect username or password|access forbidden|\b401\b/i;
const MISSING =
  /manifest unknown|not found|does not exist|no such image|repository name not known|name unknown/i;
const UNREACHABLE = /connection refused|no such host|i\/o timeout|dial tcp|tls: |server gave HTTP response/i;

/**
 * A registry operation's failure as a ToolError: what failed, what to do, and the engine's words, which
 * relay the registry's: they go as the error's quote, which the pipeline screens before anyone reads it.
 * `what` names the operation and image, e.g. "pull of 127.0.0.1:5000/app:v1".
 */
export function registryFailure(
  e: unknown,
  what: string,
  registry: string,
  opts: { authArgument?: boolean } = {},
): unknown {
  const refused = refusal(e);
  const text = e instanceof EngineStreamError ? e.message : refused?.message;
  if (text === undefined) return e; // not an engine answer: the pipeline maps it
  const message = `${what} failed`;
  const quote = { by: `the engine, relaying registry ${registry},`, text };
  const login =
    `log in to ${registry} (docker login, or an auths/credHelpers entry in ~/.docker/config.json on the server)` +
    (opts.authArgument === false ? '' : ', or pass auth');
  // The registry answered DENIED. Registries that hide private names (Docker Hub) answer so for a
  // missing repository too, so the hint names both causes.
  if (/pull access denied|repository does not exist/i.test(text))
    return new ToolError('registry_auth', message, {
      quote,
      hint: `The registry denied access: ${login}; if the credentials are right, check the repository name (a registry may deny a name that does not exist).`,
    });
  if (AUTH_FAILURE.test(text))
    return new ToolError('registry_auth', message, {
      quote,
      hint: `${login.charAt(0).toUpperCase()}${login.slice(1)}.`,
    });
  if (UNREACHABLE.test(text))
    return new ToolError('internal', message, {
      quote,
      hint: `The engine could not reach ${registry}; check the registry address and that it is up.`,
      retryable: true,
    });
  if (MISSING.test(text) || refused?.status === 404)
    return new ToolError('not_found', message, {
      quote,
      hint: 'Check the repository and tag; local images are listed by docker_list_images. A private repository may also need auth.',
    });
  if (refused?.status === 400 || /invalid reference format/i.test(text))
    return new ToolError('invalid_argument', message, {
      quote,
      hint: 'Fix the image reference: repo[:tag|@digest].',
    });
  return new ToolError('internal', message, {
    quote,
    hint: 'The engine or registry reported an error; check it and retry.',
  });
}
