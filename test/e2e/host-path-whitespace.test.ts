/**
 * A bind source with whitespace at its end: `<entry>/t/.. ` (a space, a no-break space, a tab) is
 * `<entry>` to a reader that trims, but the engine keeps every character: `.. ` is a plain name, so it
 * follows the link `t`, creates `<target>/.. ` as root and mounts it. Driven through the compiled
 * binary on the test engine, once as it is (it shares this machine's files) and once told it does not
 * (no realpath, only the probe), for create/run, Compose short syntax and a bind volume's device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer } from '../helpers/client.ts';
import { cleanupContainers, TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';

const root = mkdtempSync(join(tmpdir(), 'mcpt-blank-'));
const allowed = join(root, 'A');
const target = join(root, 'T');
mkdirSync(allowed);
mkdirSync(target);
symlinkSync(target, join(allowed, 't'));
const TAILS = [' ', '\u00a0', '\t'];

const servers: Record<string, RunningServer> = {};
beforeAll(async () => {
  servers.sharing = await startServer({ args: ['--mount-allowlist', allowed] });
  servers.lexical = await startServer({
    env: { MCP_DOCKER_SHARES_FILESYSTEM: 'false' },
    args: ['--mount-allowlist', allowed],
  });
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
  await cleanupContainers();
  rmSync(root, { recursive: true, force: true });
});

const marked = (mark: string) =>
  testDocker().listContainers({ all: true, filters: { label: [`mcpt.mark=${mark}`] } });

describe('a host path the engine would read with its trailing whitespace', () => {
  for (const kind of ['sharing', 'lexical'])
    it(`is refused by name on an engine ${kind === 'sharing' ? 'that shares' : 'that does not share'} this filesystem, creating nothing`, async () => {
      const server = servers[kind] as RunningServer;
      for (const tail of TAILS) {
        const source = `${allowed}/t/..${tail}`;
        const mark = uniqueName('mcpt-blank');
        const run = errorOf(
          await server.client.callTool('docker_run_container', {
            image: TEST_IMAGE,
            volumes: [`${source}:/m`],
            command: 'touch /m/written-by-container',
            network_mode: 'none',
            labels: { ...testLabels(), 'mcpt.mark': mark },
            wait: true,
          }),
        );
        expect(run.kind).toBe('invalid_argument');
        expect(run.message).toContain('volumes[0]');
        expect(run.message).toContain('ends with whitespace, which the engine keeps as part of the name');
        expect(await marked(mark)).toEqual([]);

        const volume = uniqueName('mcpt-blank');
        const vol = errorOf(
          await server.client.callTool('docker_create_volume', {
            name: volume,
            driver_opts: { type: 'none', o: 'bind', device: source },
          }),
        );
        expect(vol.kind).toBe('invalid_argument');
        expect(vol.message).toContain('driver_opts.device');
        expect((await testDocker().listVolumes()).Volumes?.some((v) => v.Name === volume)).toBe(false);

        const project = uniqueName('mcpt-blank');
        const content = [
          'services:',
          '  app:',
          `    image: ${TEST_IMAGE}`,
          '    command: ["touch", "/m/written-by-container"]',
          '    network_mode: none',
          `    volumes: [${JSON.stringify(`${source}:/m`)}]`,
        ].join('\n');
        const up = errorOf(
          await server.client.callTool('docker_compose_up', { content, project_name: project }),
        );
        expect(up.kind).toBe('invalid_argument');
        expect(up.message).toContain('ends with whitespace, which the engine keeps as part of the name');
        const label = { label: [`com.docker.compose.project=${project}`] };
        expect(await testDocker().listContainers({ all: true, filters: label })).toEqual([]);
      }
      // Nothing was made where the link leads.
      expect(readdirSync(target)).toEqual([]);
    });
});
