/**
 * Which engine a call acts on. With one engine configured nothing here shows: no `engine` argument is
 * listed or taken, results and errors read as they always did. With several, the call's `engine`
 * argument is taken out before the tool's own validation and names the engine; a call that changes
 * state must name one, a read without one uses the default (the caller's first engine when a
 * credential is limited to others) and says which it used.
 */
import type { EngineView } from '../core/engine.ts';
import { reword, ToolError } from '../core/errors.ts';
import { redactText } from '../core/redact.ts';
import type { EngineHandle, EngineRegistry } from '../docker/engines.ts';
import { engineAllowed, type SafetyProfile } from './gate.ts';

/** The argument's name, in every tool's listing when more than one engine is configured. */
export const ENGINE_ARG = 'engine';

/** More than one engine configured: the `engine` argument, result field and error prefix appear. */
export const severalEngines = (engines: EngineRegistry<EngineView>): boolean => engines.names().length > 1;

/** The engines a caller may use, in configured order (all of them, the registry's own list, when unlimited). */
export const callerEngines = (
  engines: EngineRegistry<EngineView>,
  profile: SafetyProfile,
): readonly string[] =>
  profile.engines === undefined ? engines.names() : engines.names().filter((n) => engineAllowed(profile, n));

/** The engine a read without `engine` uses: the default one, or the caller's first when it may not use that. */
export function defaultEngineFor(
  engines: EngineRegistry<EngineView>,
  profile: SafetyProfile,
): string | undefined {
  if (engineAllowed(profile, engines.defaultName)) return engines.defaultName;
  return callerEngines(engines, profile)[0];
}

/** The arguments without `engine`, and the value it had (only with several engines; else untouched). */
export function takeEngineArg(
  raw: unknown,
  engines: EngineRegistry,
): { args: unknown; named: unknown; given: boolean } {
  if (!severalEngines(engines) || !isRecord(raw) || !Object.hasOwn(raw, ENGINE_ARG))
    return { args: raw, named: undefined, given: false };
  const { [ENGINE_ARG]: named, ...rest } = raw;
  return { args: rest, named, given: true };
}

const useOneOf = (names: readonly string[]) => `Use one of: ${names.join(', ') || '(none)'}.`;

/**
 * The engine `named` names, for this caller; an unknown name, or one the caller may not use, is
 * refused listing the caller's engines (a credential never learns the names of the others). Without a
 * name: the default engine, unless `mustName` (a call that changes state, with several engines).
 */
export function chooseEngine(
  engines: EngineRegistry,
  profile: SafetyProfile,
  named: unknown,
  mustName?: string,
): EngineHandle {
  const mine = callerEngines(engines, profile);
  if (named === undefined) {
    if (mustName !== undefined && severalEngines(engines))
      throw new ToolError('invalid_argument', `${mustName} changes state: name the engine it acts on`, {
        hint: `Add the argument 'engine'. ${useOneOf(mine)}`,
        retryable: false,
      });
    const fallback = defaultEngineFor(engines, profile);
    if (fallback === undefined)
      throw new ToolError('policy_denied', 'your credential allows none of the configured engines', {
        hint: "Ask the server's operator to add an engine to your profile's engines.",
      });
    return engines.resolve(fallback);
  }
  if (typeof named !== 'string' || !mine.includes(named))
    throw new ToolError(
      'invalid_argument',
      typeof named === 'string'
        ? `no engine named '${named.length > 60 ? `${named.slice(0, 57)}...` : named}'`
        : "invalid argument 'engine': must be a string",
      { hint: useOneOf(mine), retryable: false },
    );
  return engines.resolve(named);
}

/** The `engine` argument every prompt lists when several engines are configured. */
export const engineArgument = (engines: EngineRegistry, profile: SafetyProfile) => ({
  name: ENGINE_ARG,
  description: `Engine to read (default: ${defaultEngineFor(engines, profile) ?? engines.defaultName})`,
  required: false,
});

/** What an audit line names as the engine of a call, get or read: only with several engines, a known name. */
export function engineObserved(
  engines: EngineRegistry,
  profile: SafetyProfile,
  named: unknown,
): { engine?: string } {
  if (!severalEngines(engines)) return {};
  const name = named ?? defaultEngineFor(engines, profile);
  return typeof name === 'string' && engines.names().includes(name) ? { engine: name } : {};
}

/**
 * The engine a refusal made before any engine was chosen is about: the one the call named (when this
 * caller may use it), or the default a read would use. A state-changing call that names none has none.
 */
export function engineOfRefusal(
  engines: EngineRegistry,
  profile: SafetyProfile,
  named: unknown,
  changes: boolean,
): string | undefined {
  if (!severalEngines(engines)) return undefined;
  if (named === undefined) return changes ? undefined : defaultEngineFor(engines, profile);
  return typeof named === 'string' && callerEngines(engines, profile).includes(named) ? named : undefined;
}

/**
 * The error as the caller reads it: its words redacted, then with several engines `engine 'NAME': `
 * first. Redacting before the prefix is added keeps an engine named like a secret ('secrets', 'pw')
 * from reading as an assignment `'NAME': value` that masks the whole message. A message that already
 * starts with a configured engine's prefix (an error from another engine the call used) keeps it.
 */
export function onEngine(error: ToolError, name: string | undefined, engines: EngineRegistry): ToolError {
  const several = severalEngines(engines);
  const worded = (message: string) => {
    const lead = several ? leadingEngine(message, engines) : '';
    const prefix = lead || (name !== undefined && several ? `engine '${name}': ` : '');
    return `${prefix}${redactText(message.slice(lead.length))}`;
  };
  return reword(error, worded, (h) => h && redactText(h));
}

/** `engine 'NAME': ` at the start of `message` for a configured NAME, else ''. */
function leadingEngine(message: string, engines: EngineRegistry): string {
  if (!message.startsWith("engine '")) return '';
  const end = message.indexOf("': ", 8);
  return end > 8 && engines.names().includes(message.slice(8, end)) ? message.slice(0, end + 3) : '';
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
