/**
 * The dashboard test's own engine: a private dockerd (TCP+TLS on 127.0.0.1, its own data root and
 * bridge; test/helpers/engines/dockerd.ts) holding only the demo the test makes, so every row and every
 * screenshot shows exactly that: a Compose project with health checks (made through docker_compose_up),
 * a busy container, a stopped one, and one whose Compose labels and logs are hostile.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { TestClient } from '../helpers/client.ts';
import { TEST_IMAGE } from '../helpers/engine.ts';
import { startTlsEngine, type TlsEngine } from '../helpers/engines/dockerd.ts';

// Docker refuses '<' in a container name, so the text a container controls that the view shows as a
// name is its Compose project and service labels, and its logs.
export const HOSTILE_PROJECT = `<img src=x onerror="console.log('xss-project');alert(1)">`;
export const HOSTILE_SERVICE = `<svg onload="console.log('xss-service')">`;
export const HOSTILE_LINES = [
  `<script>console.log('xss-log')</script>`,
  `<img src=x onerror=alert('xss-log')>`,
];
// A little CPU in bursts, so successive samples differ.
const BURSTS = 'while :; do i=0; while [ $i -lt 4000 ]; do i=$((i+1)); done; sleep 0.3; done';

export const PROJECT = 'shop';
export const NAMES = {
  busy: 'batch-job',
  stopped: 'old-backup',
  hostile: 'hostile-logs',
  web: 'shop-web-1',
  db: 'shop-db-1',
} as const;

const COMPOSE = `services:
  web:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "echo listening; sleep 3600"]
    network_mode: bridge
    ports: ["127.0.0.1::80"]
    depends_on: [db]
    healthcheck: { test: ["CMD", "true"], interval: 1s, timeout: 1s, retries: 1 }
  db:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "echo ready; sleep 3600"]
    network_mode: none
    healthcheck: { test: ["CMD", "true"], interval: 1s, timeout: 1s, retries: 1 }
`;

export interface DemoEngine {
  engine: TlsEngine;
  docker: Dockerode;
  /** The env that points the binary at this engine (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH). */
  env: Record<string, string>;
  /** The engine as a config file's `engines` entry. */
  entry: { url: string; tlsDir: string; tlsVerify: true };
  /** Every container name on the engine, sorted. */
  names(): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function startDemoEngine(): Promise<DemoEngine> {
  const engine = await startTlsEngine(mkdtempSync(join(tmpdir(), 'mcpt-dash-')));
  const dir = engine.tls.clientDir;
  const docker = new Dockerode({
    protocol: 'https',
    host: '127.0.0.1',
    port: engine.port,
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
  });
  return {
    engine,
    docker,
    env: { DOCKER_HOST: engine.url, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir },
    entry: { url: engine.url, tlsDir: dir, tlsVerify: true },
    names: async () =>
      (await docker.listContainers({ all: true })).map((c) => (c.Names[0] ?? '').replace(/^\//, '')).sort(),
    // The Compose network's bridge lives in the host's namespace and outlives the daemon: its
    // containers and networks go first, through the engine, so nothing of the demo is left behind.
    async dispose() {
      try {
        for (const c of await docker.listContainers({ all: true }))
          await docker.getContainer(c.Id).remove({ force: true, v: true });
        for (const n of await docker.listNetworks())
          if (!['bridge', 'host', 'none'].includes(n.Name)) await docker.getNetwork(n.Id).remove();
      } finally {
        await engine.dispose();
      }
    },
  };
}

/** Makes the demo: the Compose project through the server's own docker_compose_up, the rest directly. */
export async function makeDemo(demo: DemoEngine, client: TestClient): Promise<Record<string, string>> {
  const up = await client.callTool('docker_compose_up', { content: COMPOSE, project_name: PROJECT });
  if (up.isError) throw new Error(`docker_compose_up: ${JSON.stringify(up.content)}`);
  const make = async (name: string, cmd: string[], labels: Record<string, string> = {}) => {
    const c = await demo.docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: cmd,
      Labels: labels,
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    return c.id;
  };
  const ids: Record<string, string> = {
    busy: await make(NAMES.busy, ['sh', '-c', BURSTS]),
    stopped: await make(NAMES.stopped, ['sh', '-c', 'echo backup done']),
    hostile: await make(
      NAMES.hostile,
      ['sh', '-c', `${HOSTILE_LINES.map((l) => `echo "${l}"`).join('; ')}; sleep 3600`],
      { 'com.docker.compose.project': HOSTILE_PROJECT, 'com.docker.compose.service': HOSTILE_SERVICE },
    ),
  };
  // It ran and is done: exited, the state Remove is offered for.
  await demo.docker.getContainer(ids.stopped as string).wait();
  return ids;
}
