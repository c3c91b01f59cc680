/**
 * The registry of engines by name, apart from the Engine class: the stdio start-up lists tools against
 * the default engine's name and ceiling before any connection code is loaded (main.ts).
 */
import { type EngineView, NO_CEILING } from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';
import type { EngineRegistry } from './engines.ts';

export const DEFAULT_ENGINE = 'default';

/** A registry over engine handles (names must be unique; at least one). */
export function engineRegistry<H extends EngineView>(handles: readonly H[]): EngineRegistry<H> {
  const byName = new Map<string, H>();
  for (const h of handles) {
    if (byName.has(h.name)) throw new Error(`engine '${h.name}' is configured twice`);
    byName.set(h.name, h);
  }
  const first = handles[0];
  if (!first) throw new Error('no engine configured');
  const defaultName = byName.has(DEFAULT_ENGINE) ? DEFAULT_ENGINE : first.name;
  // The registry never changes once built: every call reads this one list (several? allowed?).
  const names = Object.freeze([...byName.keys()]);
  return {
    defaultName,
    names: () => names,
    resolve(name) {
      const h = byName.get(name ?? defaultName);
      if (h) return h;
      throw new ToolError('invalid_argument', `no engine named '${name}'`, {
        hint: `Use one of: ${[...byName.keys()].join(', ')}.`,
        retryable: false,
      });
    },
  };
}

/**
 * The gate's view of the registry main.ts builds when no engine is configured (defaultEngines): one
 * engine named 'default' without a ceiling.
 */
export const defaultEngineView = (): EngineRegistry<EngineView> =>
  engineRegistry([{ name: DEFAULT_ENGINE, ceiling: NO_CEILING }]);
