/**
 * Names in --allowed-tools, --denied-tools, --allowed-prompts and --allowed-resources that match
 * nothing. A typo there would quietly leave a tool callable that was meant to be denied, so each one
 * stops start-up (main.ts) and shows in `doctor`, with the closest name when one is close. The
 * catalogue is loaded only when one of the lists is set.
 */
import type { Sources } from '../config/layers.ts';
import type { Config } from '../config/schema.ts';
import { nearest } from '../core/tool-names.ts';

type ListKey = 'allowedTools' | 'deniedTools' | 'allowedPrompts' | 'allowedResources';

const LISTS: [ListKey, string][] = [
  ['allowedTools', 'tool'],
  ['deniedTools', 'tool'],
  ['allowedPrompts', 'prompt'],
  ['allowedResources', 'resource'],
];

export const namesAnything = (config: Config): boolean => LISTS.some(([key]) => config[key].length > 0);

/** The known names of each kind: resources by name, URI or URI template (what the filter takes). */
async function knownNames(): Promise<Record<string, { names: string[]; suggest: string[] }>> {
  const [{ STATIC_CATALOGUE }, { prompts }, { resources }, { isTemplate }] = await Promise.all([
    import('../catalogue-listing.ts'),
    import('../prompts/index.ts'),
    import('../resources/index.ts'),
    import('../resources/define.ts'),
  ]);
  const tools = STATIC_CATALOGUE.map((t) => t.name);
  const promptNames = prompts.map((p) => p.name);
  const resourceNames = resources.map((r) => r.name);
  return {
    tool: { names: tools, suggest: tools },
    prompt: { names: promptNames, suggest: promptNames },
    resource: {
      names: [...resourceNames, ...resources.map((r) => (isTemplate(r) ? r.uriTemplate : r.uri))],
      suggest: resourceNames,
    },
  };
}

/** One line per name that matches nothing: the setting, where it came from, the name and the fix. */
export async function unknownNames(config: Config, sources: Sources): Promise<string[]> {
  if (!namesAnything(config)) return [];
  const known = await knownNames();
  const out: string[] = [];
  for (const [key, kind] of LISTS) {
    const { names, suggest } = known[kind] as { names: string[]; suggest: string[] };
    for (const name of config[key].filter((n) => !names.includes(n)))
      out.push(
        `setting '${key}' (from ${sources[key]}): names no ${kind} '${name}'${nearest(name, suggest)}; correct it or remove it${
          // Some fifty tools are too many to list; the README's tables name them.
          kind === 'tool' ? '' : ` (${kind}s: ${suggest.join(', ')})`
        }`,
      );
  }
  return out;
}
