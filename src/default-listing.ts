/**
 * tools/list before the engine layer loads (main.ts, stdio with no engine configured). A server with the
 * default profile answers with the text made at build time (catalogue-static.ts), without loading the
 * gate or the catalogue's data; any other profile is listed from that data, against the default engine.
 */

import { staticDefaultListing } from './catalogue-static.ts' with { type: 'macro' };
import type { SafetyProfile } from './pipeline/gate.ts';
import type { OutputSchemas } from './tool-listing.ts';

const DEFAULT_LISTING: { profile: string; json: string } = staticDefaultListing();

/** Whether `profile` is the default one, which lists the build-time text. */
export const listsBuildTimeText = (profile: SafetyProfile): boolean =>
  JSON.stringify(profile) === DEFAULT_LISTING.profile;

/** The tools/list result as JSON text for `profile` on a server with its one default engine. */
export function startListing(profile: SafetyProfile, outputs: OutputSchemas): Promise<string> {
  if (outputs === 'lean' && listsBuildTimeText(profile)) return Promise.resolve(DEFAULT_LISTING.json);
  return import('./tool-listing.ts').then((m) => m.defaultEngineListing(profile, outputs));
}
