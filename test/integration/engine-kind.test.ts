/**
 * The engine's kind, told by the connection probe, against the real engine of this run: Docker in the
 * main pass, Podman in the Podman pass (scripts/test.ts sets MCP_DOCKER_TEST_ENGINE). What Podman lacks
 * is refused naming Podman; the same request reaches Docker.
 */
import { describe, expect, it } from 'bun:test';
import { engineRequest } from '../../src/docker/request.ts';
import { testEngine } from '../helpers/pipeline.ts';
import { ON_PODMAN } from '../helpers/podman.ts';

const expected = ON_PODMAN ? 'podman' : 'docker';

describe('engine kind', () => {
  it(`is detected from the /version probe as ${expected}, with no request of its own`, async () => {
    const engine = testEngine();
    await engine.client(AbortSignal.timeout(10_000));

    expect(engine.info()?.kind).toBe(expected);
    expect(engine.attempts().at(-1)?.outcome).toStartWith('connected');
  });

  it(
    ON_PODMAN ? 'refuses the Swarm API naming Podman' : 'passes the Swarm API through to Docker',
    async () => {
      const docker = await testEngine().client(AbortSignal.timeout(10_000));

      const outcome = await engineRequest(docker, { path: '/swarm' }, AbortSignal.timeout(10_000)).then(
        () => 'answered',
        (e: Error & { statusCode?: number }) => e.statusCode ?? e.message,
      );

      if (ON_PODMAN) expect(outcome).toBe("engine 'default' is Podman, which has no Swarm API");
      // Docker answers: 200 on a manager, 503 "not a swarm manager" otherwise; never our refusal.
      else expect([`answered`, 503]).toContain(outcome);
    },
  );
});
