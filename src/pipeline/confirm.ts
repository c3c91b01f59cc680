/**
 * The confirm step (--confirm): a call at a tier that needs it is put to the human through MCP
 * elicitation before anything changes. The first round runs the tool's preview against the engine
 * and answers with a question and a sealed state (seal.ts); the answer round opens the state and runs
 * the call on exactly what the question named, or ends it: declined, nothing changed. A client that
 * cannot ask its user gets --confirm-fallback: allow (audited `unconfirmed`) or refuse.
 * Nothing here knows a tool: the question comes from its declared `preview`, else its name and arguments.
 */
import { ToolError } from '../core/errors.ts';
import type { Preview, Safety } from '../core/tool.ts';
import { canonicalJson, SEAL_TTL_MS, type SealBinding, type Sealer } from './seal.ts';

export type ConfirmMode = 'destructive' | 'all' | 'none';
export type ConfirmFallback = 'allow' | 'refuse';
/** What the audit log records for a call that needed confirmation. */
export type Confirmation = 'accepted' | 'declined' | 'cancelled' | 'abandoned' | 'unconfirmed';

export interface ConfirmSettings {
  /** Server-wide; a credential's profile may set its own (SafetyProfile.confirm). */
  mode: ConfirmMode;
  fallback: ConfirmFallback;
  /** Who is calling (an HTTP client id, `stdio`): a state sealed for one caller is refused to another. */
  caller: string;
  sealer: Sealer;
}

/** What the transport knows about this call's client. */
export interface ConfirmChannel {
  /** The client declared elicitation (initialize, or the 2026 request envelope). */
  canAsk: boolean;
  /** The answer round: the sealed state the question carried and the user's answer to it. */
  answer?: ConfirmAnswer;
}

export interface ConfirmAnswer {
  state: unknown;
  /**
   * The user's answer; `unanswered`: none came within --confirm-timeout, so the transport withdrew
   * the question; `ended`: the call ended first (the client's cancel, its session or connection gone,
   * the shutdown). Both are set only by a transport, never read from a client.
   */
  action: 'accept' | 'decline' | 'cancel' | 'missing' | 'unanswered' | 'ended';
  content?: Record<string, unknown>;
}

/** An elicitation/create form: what the client shows its user. */
export interface Question {
  message: string;
  requestedSchema: {
    type: 'object';
    properties: Record<string, { type: 'boolean'; title: string; description: string; default: boolean }>;
    required: string[];
  };
}

/** The key of the question in an input-required round trip, and of its one field. */
export const QUESTION_KEY = 'confirm';
const FIELD = 'confirm';

/** Whether a call at `tier` needs the user's confirmation under `mode`. */
export const needsConfirmation = (tier: Safety, mode: ConfirmMode): boolean =>
  mode === 'all' ? tier !== 'safe' : mode === 'destructive' ? tier === 'destructive' : false;

const MAX_NAMED = 50;

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

// Characters that would start a line, move or hide text, or reorder it in what the user reads.
// biome-ignore lint/complexity/useRegexLiterals: a literal here trips noControlCharactersInRegex.
const UNSEEN = new RegExp(
  String.raw`[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]`,
  'g',
);

/**
 * A line of the question as the user should read it: names come from the engine (a network may be
 * named with newlines), so control and invisible characters are shown escaped, never obeyed.
 */
const printable = (line: string): string =>
  line.replace(UNSEEN, (c) => (c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

/** An object of the list, quoted when it is more than a kind and a plain name (a comma would fake another). */
const objectName = (o: string): string =>
  /^(?:(?:container|network|volume|image|service|node|secret|config) )?[\w.:/@+-]+(?: \([\w ]+\))?$/.test(o)
    ? o
    : JSON.stringify(o);

/** The question: what will happen, to which objects, on which engine. */
export function questionOf(
  tool: string,
  engine: string,
  preview: Preview | undefined,
  args?: unknown,
): Question {
  const lines: string[] = [];
  if (preview) {
    lines.push(`Confirm on engine '${engine}': ${preview.action}.`);
    const objects = preview.objects ?? [];
    if (preview.objects) {
      const named = objects.slice(0, MAX_NAMED).map(objectName).join(', ');
      const more = objects.length > MAX_NAMED ? `, and ${objects.length - MAX_NAMED} more` : '';
      lines.push(
        objects.length === 0
          ? 'Nothing matches now: nothing will be removed.'
          : `${objects.length} object${objects.length === 1 ? '' : 's'} will go: ${named}${more}.`,
      );
    }
    if (preview.reclaims !== undefined)
      lines.push(
        preview.reclaimsAtLeast
          ? `Space reclaimed: at least ${bytes(preview.reclaims)} (${preview.reclaimsAtLeast}).`
          : `Space reclaimed: ${bytes(preview.reclaims)}.`,
      );
    if (preview.withArgs) lines.push(`The call: ${tool} with ${canonicalJson(args ?? {})}.`);
  } else {
    lines.push(`Confirm on engine '${engine}': ${tool} with ${canonicalJson(args ?? {})}.`);
  }
  lines.push(`Asked by the assistant through ${tool}; nothing changes unless you accept.`);
  return {
    message: lines.map(printable).join('\n'),
    requestedSchema: {
      type: 'object',
      properties: {
        [FIELD]: {
          type: 'boolean',
          title: 'Go ahead',
          description: 'Tick to let the assistant do this',
          default: false,
        },
      },
      required: [FIELD],
    },
  };
}

/**
 * A preview that removes nothing (no objects listed, and nothing beyond them): its plan is empty, so
 * the handler runs on it at once; a question whose every answer changes nothing is not put.
 */
export const nothingToAsk = (preview: Preview | undefined): boolean =>
  preview?.objects?.length === 0 && preview.plan !== undefined && !preview.beyondObjects;

/** The user said no: an error the model must not retry on its own. */
export const declined = () =>
  new ToolError('cancelled', 'the user declined; nothing changed', { retryable: false });

/** The question was closed without an answer (the user dismissed it, or the client could not show it). */
export const dismissed = () =>
  new ToolError('cancelled', 'the question was dismissed without an answer; nothing changed', {
    retryable: false,
  });

/** The call ended while the question was open: nobody is left to tell, but the audit line says so. */
export const ended = () =>
  new ToolError('cancelled', 'the call ended before the user answered; nothing changed', {
    retryable: false,
  });

/** No answer within --confirm-timeout (`seconds`): the question is withdrawn, nothing changed. */
export const unanswered = (seconds: number) =>
  new ToolError('cancelled', `the user did not answer within ${seconds} s; nothing changed`, {
    hint: 'Call the tool again when the user is there to answer.',
    retryable: false,
  });

/** How each reason a sealed state is refused reads; in every case nothing ran. */
const REFUSED: Record<string, string> = {
  malformed: 'is not one this server issued',
  forged: 'does not carry this server’s seal',
  replayed: 'was already used',
  'other call': 'was given for another call (tool, arguments, engine or caller differ)',
};

export type Settled =
  | { run: true; confirmation?: Confirmation; plan?: unknown }
  | { run: false; confirmation?: Confirmation; error: ToolError };

/**
 * The answer round: the state must be this call's (seal.ts), then accept with the box ticked runs
 * the plan the question showed; anything else ends the call, nothing changed. `seconds`: how long
 * the user had (--confirm-timeout), for the words of a question left unanswered or an expired state.
 */
export function settle(
  answer: ConfirmAnswer,
  binding: SealBinding,
  sealer: Sealer,
  seconds = SEAL_TTL_MS / 1000,
): Settled {
  // Nothing runs, so the state (by now expired) need not be opened.
  if (answer.action === 'unanswered')
    return { run: false, confirmation: 'cancelled', error: unanswered(seconds) };
  if (answer.action === 'ended') return { run: false, confirmation: 'abandoned', error: ended() };
  const opened = sealer.open(answer.state, binding);
  // A genuine state past its time: the user took longer than they had (2026 era: the client held it).
  if (!opened.ok && opened.reason === 'expired')
    return {
      run: false,
      confirmation: 'cancelled',
      error: new ToolError(
        'cancelled',
        `the confirmation has expired: the user did not answer within ${seconds} s; nothing changed`,
        { hint: 'Call the tool again without it: the user will be asked.', retryable: false },
      ),
    };
  if (!opened.ok)
    return {
      run: false,
      error: new ToolError('policy_denied', `the confirmation ${REFUSED[opened.reason]}; nothing changed`, {
        hint: 'Call the tool again without it: the user will be asked.',
        retryable: false,
      }),
    };
  if (answer.action === 'accept' && answer.content?.[FIELD] === true)
    return { run: true, confirmation: 'accepted', plan: opened.plan };
  if (answer.action === 'cancel' || answer.action === 'missing')
    return { run: false, confirmation: 'cancelled', error: dismissed() };
  return { run: false, confirmation: 'declined', error: declined() };
}

/** A client that cannot ask its user, under --confirm-fallback refuse. */
export function cannotAsk(tool: string, mode: ConfirmMode, remote: boolean): ToolError {
  const setting = remote
    ? 'ask the server’s operator for --confirm-fallback allow or a profile with confirm: none'
    : `restart with --confirm-fallback allow (MCP_DOCKER_CONFIRM_FALLBACK) or --confirm ${mode === 'all' ? 'destructive' : 'none'}`;
  return new ToolError(
    'policy_denied',
    `${tool} needs the user's confirmation (--confirm ${mode}) and this client cannot ask its user (it does not support elicitation)`,
    { hint: `Use a client that supports elicitation, or ${setting}.`, retryable: false },
  );
}
