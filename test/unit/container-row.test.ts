/** The compact container row (src/docker/containers.ts): what a list shows of each container. */
import { describe, expect, it } from 'bun:test';
import { containerRow } from '../../src/docker/containers.ts';

const base = {
  Id: 'a'.repeat(64),
  Names: ['/web'],
  Image: 'nginx:1',
  State: 'running',
  Status: 'Up 2 minutes',
};

describe('containerRow', () => {
  it('shows each port listing once, in the engine order, the IPv6 wildcard address left out', () => {
    const row = containerRow({
      ...base,
      Ports: [
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 443, Type: 'tcp' },
        { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 5353, Type: 'udp' },
        { PrivatePort: 443, Type: 'tcp' },
      ],
    });
    expect(row.ports).toEqual(['0.0.0.0:8080->80/tcp', '8080->80/tcp', '443/tcp', '127.0.0.1:5353->53/udp']);
  });

  it('leaves out ports when there are none, and shortens the id and an image given by digest', () => {
    for (const Ports of [undefined, []]) {
      const row = containerRow({ ...base, Image: `sha256:${'b'.repeat(64)}`, Ports });
      expect(row).toEqual({
        id: 'a'.repeat(12),
        name: 'web',
        image: 'b'.repeat(12),
        state: 'running',
        status: 'Up 2 minutes',
      });
    }
  });
});
