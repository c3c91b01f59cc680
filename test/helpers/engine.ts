/**
 * Fixtures for tests that talk to the real engine (started or found by `scripts/test.ts`, which exports
 * DOCKER_HOST). Every container made here carries `mcp-docker-test=<run id>` and `--network none`;
 * `cleanupContainers()` in afterAll removes this run's, and the runner's teardown removes any left over.
 */
import Dockerode from 'dockerode';

export const TEST_IMAGE = process.env.MCP_DOCKER_TEST_IMAGE ?? 'mcp-test/busybox:latest';
export const TEST_LABEL = 'mcp-docker-test';
/** Identifies this `bun test` process, so one run's cleanup never removes another run's containers. */
export const RUN_ID = process.env.MCP_DOCKER_TEST_RUN ?? `${process.pid}-${Date.now().toString(36)}`;
/** The labels to put on anything a test makes through the server, so cleanup finds it. */
export const testLabels = (): Record<string, string> => ({ [TEST_LABEL]: RUN_ID });

let counter = 0;
/** A name no other test (or earlier run) uses: `<prefix>-<time><random>-<n>`. Valid as a container name. */
export const uniqueName = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-${++counter}`;

let docker: Dockerode | undefined;

/** The test engine's unix socket path (DOCKER_HOST without `unix://`), defaulting to /var/run/docker.sock. */
export const testSocket = (): string =>
  (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');

/** A Dockerode client for DOCKER_HOST (unix:// or tcp://), defaulting to /var/run/docker.sock. */
export function testDocker(): Dockerode {
  if (docker) return docker;
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) {
    docker = new Dockerode({ socketPath: host.slice('unix://'.length) });
  } else if (host.startsWith('tcp://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    docker = new Dockerode({ protocol: 'http', host: url.hostname, port: Number(url.port || 2375) });
  } else {
    throw new Error(`DOCKER_HOST=${host} is not supported by the test fixtures (use unix:// or tcp://)`);
  }
  return docker;
}

export interface MakeContainerOptions {
  name?: string;
  /** Default `['sleep', '3600']`. */
  cmd?: string[];
  /** Default true. */
  start?: boolean;
  env?: string[];
  labels?: Record<string, string>;
  tty?: boolean;
}

/** Creates (and by default starts) a labelled container from TEST_IMAGE with no network. */
export async function makeContainer(opts: MakeContainerOptions = {}): Promise<{ id: string; name: string }> {
  const name = opts.name ?? uniqueName('mcpt');
  const container = await testDocker().createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: opts.cmd ?? ['sleep', '3600'],
    Env: opts.env,
    Tty: opts.tty ?? false,
    Labels: { ...opts.labels, ...testLabels() },
    HostConfig: { NetworkMode: 'none' },
  });
  if (opts.start !== false) await container.start();
  return { id: container.id, name };
}

/** Force-removes every container labelled by this run (with its anonymous volumes). */
export async function cleanupContainers(): Promise<void> {
  const docker = testDocker();
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${TEST_LABEL}=${RUN_ID}`] },
  });
  await Promise.all(
    containers.map(async ({ Id }) => {
      try {
        await docker.getContainer(Id).remove({ force: true, v: true });
      } catch (error) {
        // Already gone (a test removed it, or removal is in progress) is fine.
        const status = (error as { statusCode?: number }).statusCode;
        if (status !== 404 && status !== 409) throw error;
      }
    }),
  );
}

/** True when the engine finds what `inspect` asked for, false on a 404; any other error is thrown. */
export const found = (inspect: Promise<unknown>): Promise<boolean> =>
  inspect.then(
    () => true,
    (e) => (e.statusCode === 404 ? false : Promise.reject(e)),
  );

/** True when the engine has the image reference (a tag or an id). */
export const imageExists = (ref: string): Promise<boolean> => found(testDocker().getImage(ref).inspect());
export const containerExists = (ref: string): Promise<boolean> =>
  found(testDocker().getContainer(ref).inspect());

/** Makes a running container write one line to its log (PID 1's stdout is the log). */
export async function writeLogLine(id: string, line: string): Promise<void> {
  const exec = await testDocker()
    .getContainer(id)
    .exec({ Cmd: ['sh', '-c', `echo '${line}' > /proc/1/fd/1`] });
  await exec.start({ Detach: true });
  for (let i = 0; i < 50 && (await exec.inspect()).Running; i++) await Bun.sleep(50);
}

/** Removes an image reference (a tag, or the image), leaving one already gone alone. */
export const removeImageIfPresent = (ref: string): Promise<unknown> =>
  testDocker()
    .getImage(ref)
    .remove()
    .catch((e) => (e.statusCode === 404 ? undefined : Promise.reject(e)));

/** A Compose file of one service, `web`, that sleeps on the test image without a network, labelled as a test's. */
export const sleeperProject = (): string =>
  [
    'services:',
    '  web:',
    `    image: ${TEST_IMAGE}`,
    '    command: ["sleep", "3600"]',
    '    network_mode: none',
    '    labels:',
    `      mcp-docker-test: "${testLabels()['mcp-docker-test']}"`,
    '',
  ].join('\n');
