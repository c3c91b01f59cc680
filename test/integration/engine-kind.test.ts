/**
 * The engine's kind, told by the connection probe, against the real engine of this run: Docker in the
 * main pass, Podman in the Podman pass (scripts/test.ts sets MCP_DOCKER_TEST_ENGINE). What Podman lacks
 * is refused naming Podman; the same request reaches Docker.
 */
import { describe, expect, it } from 'bun:test';
import { TOOLSETS } from '../../src/core/toolsets.ts';
import { engineRequest } from '../../src/docker/request.ts';
import { call, testEngine } from '../helpers/pipeline.ts';
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

  it(
    ON_PODMAN
      ? 'answers the swarm tools that Podman has no Swarm'
      : 'answers the swarm tools that an engine outside a swarm is not in one',
    async () => {
      // The shared test engine is never put in a swarm (the swarm tests have a cluster of their own).
      const opts = { profile: { toolsets: TOOLSETS } };
      const info = await call('docker_swarm_info', {}, opts);
      const list = await call('docker_service_list', {}, opts);
      if (ON_PODMAN) {
        for (const out of [info, list]) {
          expect(!out.ok && out.error.kind).toBe('invalid_argument');
          expect(!out.ok && out.error.message).toContain('Podman, which has no Swarm API');
        }
        return;
      }
      expect(info.ok && info.data).toMatchObject({ state: 'inactive', role: 'none' });
      expect(!list.ok && list.error.kind).toBe('conflict');
      expect(!list.ok && list.error.message).toBe('this engine is not in a swarm');
      expect(!list.ok && list.error.hint).toContain('docker_swarm_init');
    },
  );
});
