/**
 * Toolsets group tools, prompts and resources so a server or a credential can switch a family on or
 * off as one (`--toolsets default,swarm`). Every name is known here even before its tools exist, so a
 * config naming one is valid on every version that documents it.
 */
export const TOOLSETS = [
  'containers',
  'images',
  'networks',
  'volumes',
  'system',
  'compose',
  'swarm',
] as const;
export type Toolset = (typeof TOOLSETS)[number];

/** On unless `--toolsets` says otherwise; `swarm` is opt-in. */
export const DEFAULT_TOOLSETS: readonly Toolset[] = TOOLSETS.filter((t) => t !== 'swarm');
