/**
 * tools/list is answered from the catalogue's data made at build time (src/catalogue-static.ts); these
 * tests hold that listing equal to the one made from the catalogue itself, for every profile shape and
 * with one engine or several, so the copy can never drift from the tools.
 */
import { describe, expect, it } from 'bun:test';
import { STATIC_CATALOGUE } from '../../src/catalogue-listing.ts';
import { engineRegistry } from '../../src/docker/engines.ts';
import { listedFor } from '../../src/tool-calls.ts';
import { catalogue } from '../../src/tools/index.ts';
import { stubEngine, stubEngines, testProfile } from '../helpers/stub-engine.ts';

const profiles = {
  default: testProfile(),
  'read-only': testProfile({ readOnly: true, allowModerate: false }),
  'all tiers': testProfile({ allowDestructive: true }),
  'allow list': testProfile({ allowedTools: ['docker_list_containers', 'docker_stop_container'] }),
  'deny list': testProfile({ deniedTools: ['docker_list_containers'] }),
};

describe('the catalogue data made at build time', () => {
  it('holds every tool of the catalogue, in order, without handlers', () => {
    expect(STATIC_CATALOGUE.map((t) => t.name)).toEqual(catalogue.map((t) => t.name));
    for (const t of STATIC_CATALOGUE) expect('handler' in t).toBe(false);
  });

  for (const [name, profile] of Object.entries(profiles))
    it(`lists what the catalogue lists, profile ${name}, one engine and three`, () => {
      const one = stubEngines();
      expect(listedFor(STATIC_CATALOGUE, one, profile)).toEqual(listedFor(catalogue, one, profile));
      const three = engineRegistry([stubEngine('a'), stubEngine('b'), stubEngine('c')]);
      expect(listedFor(STATIC_CATALOGUE, three, profile)).toEqual(listedFor(catalogue, three, profile));
    });
});
