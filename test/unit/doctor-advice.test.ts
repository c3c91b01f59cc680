import { describe, expect, it } from 'bun:test';
import { adviceFor } from '../../src/cli/doctor.ts';
import { loadConfig } from '../../src/config/layers.ts';

const config = loadConfig([], {}).config;

describe('doctor’s advice when no engine answers', () => {
  it('for a socket it may not open, gives the host fix and the container one (--group-add)', () => {
    const attempts = [
      { url: 'unix:///var/run/docker.sock', source: 'default socket', outcome: 'permission denied (EACCES)' },
    ];
    const advice = adviceFor(config, attempts, 'discovery', false);
    expect(advice).toContain('add your user to the docker group');
    expect(advice).toContain(
      'in a container, give it the socket\'s group: docker run --group-add "$(stat -c %g /var/run/docker.sock)"',
    );
  });
});
