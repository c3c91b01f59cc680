import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import { inheritVolumes } from '../../src/docker/compose/inherit.ts';

const ANON = 'a'.repeat(64);
/** An engine whose image declares VOLUME /var/lib/x (a unit double: only the image inspect is asked). */
const engine = {
  getImage: () => ({ inspect: async () => ({ Config: { Volumes: { '/var/lib/x': {} } } }) }),
} as unknown as Dockerode;
const signal = new AbortController().signal;

describe('inheritVolumes', () => {
  it("gives an image VOLUME's old anonymous volume to the new container", async () => {
    const spec = await inheritVolumes(
      engine,
      [{ Type: 'volume', Name: ANON, Destination: '/var/lib/x', RW: true }],
      { image: 'db' },
      signal,
    );
    expect(spec.mounts).toEqual([{ type: 'volume', source: ANON, target: '/var/lib/x' }]);
  });

  it('leaves a path a bind now holds to the bind, so the engine sees no duplicate mount point', async () => {
    const spec = await inheritVolumes(
      engine,
      [{ Type: 'volume', Name: ANON, Destination: '/var/lib/x', RW: true }],
      { image: 'db', binds: ['/srv/x:/var/lib/x:rw'] },
      signal,
    );
    expect(spec.mounts ?? []).toEqual([]);
    expect(spec.binds).toEqual(['/srv/x:/var/lib/x:rw']);
  });
});
