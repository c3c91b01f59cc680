/**
 * A private key a container prints to its logs, one line per log line, through the compiled binary:
 * docker_container_logs and docker_compose_logs mask every line of it from BEGIN to END (each line
 * `***`, its stream or service mark kept), on stdout and stderr alike, as the logs resource does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { type RunningServer, startServer, structured } from '../helpers/client.ts';
import { cleanupContainers, makeContainer, testDocker, uniqueName } from '../helpers/engine.ts';

// Body lines hold words found nowhere else: their absence from what the caller reads is the test.
const BODY = ['MIIEpAIBAAKCAQEAkeybodyalpha0Hd2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'VTLw7onkeybodybeta'];
const KEY = ['-----BEGIN RSA PRIVATE KEY-----', ...BODY, '-----END RSA PRIVATE KEY-----'].join('\\n');
/** The log lines without the fence around untrusted text. */
const unfenced = (lines: string[]) => lines.filter((l) => !/^<\/?untrusted-/.test(l));
const leaked = (lines: string[]) => lines.filter((l) => /keybody|END RSA/.test(l));

let server: RunningServer;
let box: { id: string; name: string };
const project = uniqueName('mcpt-keys');

beforeAll(async () => {
  const script = `echo starting; printf '${KEY}\\n'; printf '${KEY}\\n' >&2; echo done; sleep 3600`;
  box = await makeContainer({
    cmd: ['sh', '-c', script],
    labels: {
      'com.docker.compose.project': project,
      'com.docker.compose.service': 'keygen',
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': 'False',
    },
  });
  for (let i = 0; i < 50; i++) {
    const logs = (await testDocker().getContainer(box.id).logs({ stdout: true })).toString();
    if (logs.includes('done')) break;
    await Bun.sleep(100);
  }
  server = await startServer({ client: 'v2' });
});
afterAll(async () => {
  await server?.close();
  await cleanupContainers();
});

const lines = async (tool: string, args: Record<string, unknown>) => {
  const result = await server.client.callTool(tool, args);
  expect(result.isError).toBeFalsy();
  return structured<{ lines: string[] }>(result).lines;
};

describe('a private key printed line by line to the logs', () => {
  it('docker_container_logs masks each of its lines, on both streams', async () => {
    const got = await lines('docker_container_logs', { container_id: box.name });
    expect(leaked(got)).toEqual([]);
    // The engine may interleave the two streams: count each stream's masked lines.
    expect(got.filter((l) => l === '***')).toHaveLength(4);
    expect(got.filter((l) => l === '[err] ***')).toHaveLength(4);
    expect(got).toContain('starting');
    expect(got).toContain('done');
  });

  it('docker_container_logs masks it with timestamps too', async () => {
    const got = await lines('docker_container_logs', { container_id: box.name, timestamps: true });
    expect(leaked(got)).toEqual([]);
    expect(got.filter((l) => l.endsWith('***'))).toHaveLength(8);
  });

  it('docker_compose_logs masks each of its lines, keeping the service mark', async () => {
    const got = await lines('docker_compose_logs', { project_name: project });
    expect(leaked(got)).toEqual([]);
    expect(got.filter((l) => l === 'keygen | ***')).toHaveLength(4);
    expect(got.filter((l) => l === 'keygen | [err] ***')).toHaveLength(4);
  });

  it('docker_container_logs masks the lines tail keeps without their BEGIN line', async () => {
    const got = await lines('docker_container_logs', { container_id: box.name, stderr: false, tail: 3 });
    expect(unfenced(got)).toEqual(['***', '***', 'done']);
  });

  it('grep neither finds nor shows the lines of a key, in container and compose logs', async () => {
    expect(
      unfenced(await lines('docker_container_logs', { container_id: box.name, grep: 'keybody' })),
    ).toEqual([]);
    const stars = await lines('docker_container_logs', {
      container_id: box.name,
      grep: '/^(\\[err\\] )?\\*+$/',
    });
    expect(unfenced(stars)).toHaveLength(8);
    expect(unfenced(await lines('docker_compose_logs', { project_name: project, grep: 'keybody' }))).toEqual(
      [],
    );
  });

  it("docker_wait_container's pattern does not match a key's line, nor quote it", async () => {
    const result = await server.client.callTool('docker_wait_container', {
      container_id: box.name,
      pattern: 'keybody',
      timeout: 2,
    });
    expect(JSON.stringify(result)).not.toContain('keybody');
    expect(structured<{ met: boolean }>(result).met).toBe(false);
  });
});
