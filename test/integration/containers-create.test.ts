import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cleanupContainers,
  makeContainer,
  TEST_IMAGE,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';
import { podmanDiffers } from '../helpers/podman.ts';

const workDir = mkdtempSync(join(tmpdir(), 'mcpt-bind-'));
afterAll(async () => {
  await cleanupContainers();
  rmSync(workDir, { recursive: true, force: true });
});

const inspect = (ref: string) => testDocker().getContainer(ref).inspect();
const exists = async (name: string) =>
  (await testDocker().listContainers({ all: true, filters: { name: [`^/?${name}$`] } })).length > 0;

/** Arguments every container made here carries: the test image, the cleanup label, no network. */
const base = (over: Record<string, unknown> = {}): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries({
      image: TEST_IMAGE,
      name: uniqueName('mcpt'),
      labels: testLabels(),
      network_mode: 'none',
      ...over,
    }).filter(([, v]) => v !== undefined),
  );

interface RunResult {
  id: string;
  name: string;
  state?: string;
  exit_code?: number;
  stdout?: string;
  stderr?: string;
  output_truncated?: boolean;
  removed?: boolean;
}

const escapes: [string, Record<string, unknown>][] = [
  ['privileged: true', { privileged: true }],
  ["volumes: ['/:/host']", { volumes: ['/:/host'] }],
  [
    "volumes: {'/var/run/docker.sock': {bind: '/s'}}",
    { volumes: { '/var/run/docker.sock': { bind: '/s' } } },
  ],
  ["cap_add: ['ALL']", { cap_add: ['ALL'] }],
  ["network_mode: 'host'", { network_mode: 'host' }],
  ["pid_mode: 'host'", { pid_mode: 'host' }],
  ["devices: ['/dev/mem']", { devices: ['/dev/mem'] }],
  ["security_opt: ['seccomp=unconfined']", { security_opt: ['seccomp=unconfined'] }],
];

describe('docker_create_container', () => {
  it('creates a stopped container with command, environment and labels, returning its short id and name', async () => {
    const args = base({
      command: 'sh -c \'echo "hi there"\'',
      environment: ['GREETING=hi'],
      working_dir: '/tmp',
    });

    const out = await callOk<{ id: string; name: string }>('docker_create_container', args);

    const info = await inspect(out.id);
    expect(out).toEqual({ id: info.Id.slice(0, 12), name: args.name as string });
    expect(info.State.Status).toBe('created');
    expect(info.Config.Cmd).toEqual(['sh', '-c', 'echo "hi there"']);
    expect(info.Config.Env).toContain('GREETING=hi');
    expect(info.Config.WorkingDir).toBe('/tmp');
    expect(info.Config.Labels).toMatchObject(testLabels());
    expect(info.HostConfig.NetworkMode).toBe('none');
  });

  it('publishes ports on 127.0.0.1 unless a host address is given', async () => {
    // Created, never started: nothing listens, the bindings are only recorded.
    const args = base({
      network_mode: undefined,
      ports: { '80/tcp': 18080, '81': null, '82/udp': '127.0.0.1:18082' },
    });

    const { id } = await callOk<{ id: string }>('docker_create_container', args);

    const { HostConfig, Config } = await inspect(id);
    expect(HostConfig.PortBindings).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
      // Podman picks the free host port when the container is created; Docker when it starts.
      '81/tcp': [
        {
          HostIp: '127.0.0.1',
          HostPort: podmanDiffers('ports-picked-at-create') ? expect.stringMatching(/^\d+$/) : '',
        },
      ],
      '82/udp': [{ HostIp: '127.0.0.1', HostPort: '18082' }],
    });
    expect(Object.keys(Config.ExposedPorts ?? {}).sort()).toEqual(['80/tcp', '81/tcp', '82/udp']);
  });

  it('maps limits, restart policy and both volume shapes', async () => {
    const args = base({
      mem_limit: '64m',
      cpu_shares: 512,
      cpus: 0.5,
      restart_policy: 'unless-stopped',
      volumes: [`${workDir}:/w:ro`, '/scratch'],
      entrypoint: ['sh'],
      hostname: 'box',
      user: 'nobody',
      tty: true,
    });

    const { id } = await callOk<{ id: string }>('docker_create_container', args);
    const { HostConfig, Config } = await inspect(id);
    expect(HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024, CpuShares: 512, NanoCpus: 5e8 });
    expect(HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    if (podmanDiffers('binds-with-defaults')) {
      expect(HostConfig.Binds?.[0]).toStartWith(`${workDir}:/w:ro,`);
      expect(HostConfig.Binds?.[1]).toMatch(/^[0-9a-f]{64}:\/scratch:rw,/);
    } else {
      expect(HostConfig.Binds).toEqual([`${workDir}:/w:ro`]);
      expect(Object.keys(Config.Volumes ?? {})).toEqual(['/scratch']);
    }
    expect(Config).toMatchObject({ Entrypoint: ['sh'], Hostname: 'box', User: 'nobody', Tty: true });

    const obj = await callOk<{ id: string }>(
      'docker_create_container',
      base({ volumes: { [workDir]: { bind: '/w', mode: 'ro' } } }),
    );
    const binds = (await inspect(obj.id)).HostConfig.Binds;
    if (podmanDiffers('binds-with-defaults')) expect(binds?.[0]).toStartWith(`${workDir}:/w:ro,`);
    else expect(binds).toEqual([`${workDir}:/w:ro`]);
  });

  it('redacts secret environment values wherever they come back', async () => {
    const args = base({ environment: { DB_PASSWORD: 'hunter2', PLAIN: 'visible' } });
    const created = await callOk('docker_create_container', args);
    expect(JSON.stringify(created)).not.toContain('hunter2');

    const summary = await callOk<{ env: string[] }>('docker_inspect_container', { container_id: args.name });
    expect(summary.env).toContain('DB_PASSWORD=***');
    expect(summary.env).toContain('PLAIN=visible');
    expect(JSON.stringify(summary)).not.toContain('hunter2');

    const full = await callOk('docker_inspect_container', { container_id: args.name, full: true });
    expect(JSON.stringify(full)).toContain('DB_PASSWORD=***');
    expect(JSON.stringify(full)).not.toContain('hunter2');
  });

  it('takes a name as inspect writes it, with its leading slash, and acts on that container', async () => {
    const args = base({ command: ['sleep', '30'] });
    await callOk('docker_create_container', args);
    const byPath = await callOk<{ name: string }>('docker_inspect_container', {
      container_id: `/${args.name}`,
    });
    expect(byPath.name).toBe(args.name as string);
    await callOk('docker_start_container', { container_id: `/${args.name}` });
    const running = await callOk<{ state: string }>('docker_inspect_container', { container_id: args.name });
    expect(running.state).toBe('running');
  });

  it('answers not_found for an image that is not present, pointing to docker_pull_image', async () => {
    const args = base({ image: 'mcp-test/absent:never' });

    const err = await callErr('docker_create_container', args);

    expect(err.kind).toBe('not_found');
    expect(err.message).toContain('mcp-test/absent:never');
    expect(err.hint).toContain('docker_pull_image');
    expect(await exists(args.name as string)).toBe(false);
  });

  it('answers conflict when the name is in use', async () => {
    const { name } = await makeContainer({ start: false });

    const err = await callErr('docker_create_container', base({ name }));

    expect(err.kind).toBe('conflict');
    expect(err.hint).toContain('another name');
  });

  it.each([
    ['name', { name: '-bad' }],
    ['ports.http', { ports: { http: 8080 } }],
    ['ports.80', { ports: { '80': 'localhost:8080' } }],
    ['mem_limit', { mem_limit: '5 GB' }],
    ['restart_policy', { restart_policy: 'sometimes' }],
    ['command', { command: "sh -c 'unclosed" }],
    ['colour', { colour: 'blue' }],
  ])('rejects a bad %s, naming the field', async (field, over) => {
    const args = base(over);

    const err = await callErr('docker_create_container', args);

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain(`'${field}'`);
    expect(await exists(args.name as string)).toBe(false);
  });

  it.each(escapes)('refuses %s before any engine request', async (_, over) => {
    const args = base(over);

    const err = await callErr('docker_create_container', args);

    expect(err.kind).toBe('policy_denied');
    expect(err.hint).toMatch(/SAFETY_/);
    expect(await exists(args.name as string)).toBe(false);
  });
});

describe('docker_run_container', () => {
  it('starts the container and returns its state when not waiting', async () => {
    const args = base({ command: ['sleep', '300'] });

    const out = await callOk<RunResult>('docker_run_container', args);

    expect(out).toMatchObject({ name: args.name, state: 'running' });
    expect((await inspect(out.id)).State.Running).toBe(true);
  });

  it('waits for exit and returns the exit code, stdout and stderr', async () => {
    const args = base({ command: "sh -c 'echo out; echo err >&2; exit 3'", wait: true });

    const out = await callOk<RunResult>('docker_run_container', args);

    expect(out).toMatchObject({
      name: args.name,
      state: 'exited',
      exit_code: 3,
      stdout: 'out\n',
      stderr: 'err\n',
    });
    expect(out.removed).toBeUndefined();
    expect(await exists(args.name as string)).toBe(true);
  });

  it('removes the container after reading its output when wait and remove are true', async () => {
    const args = base({ command: ['echo', 'done'], wait: true, remove: true });

    const out = await callOk<RunResult>('docker_run_container', args);

    expect(out).toMatchObject({ exit_code: 0, stdout: 'done\n', stderr: '', removed: true });
    expect(await exists(args.name as string)).toBe(false);
  });

  it('returns a line the engine logged in pieces (longer than 8 KiB) whole in the waited output', async () => {
    const script = "echo one; head -c 12000 /dev/zero | tr '\\0' x; echo; echo three";
    const args = base({ command: ['sh', '-c', script], wait: true, remove: true });

    const out = await callOk<RunResult>('docker_run_container', args);

    expect(out.stdout).toBe(`one\n${'x'.repeat(12_000)}\nthree\n`);
  });

  it('keeps only the last lines when the output exceeds maxExecOutputBytes', async () => {
    const args = base({ command: 'seq 1 2000', wait: true, remove: true });

    const out = await callOk<RunResult>('docker_run_container', args, {
      limits: { maxExecOutputBytes: 100 },
    });

    expect(out.stdout?.endsWith('1999\n2000\n')).toBe(true);
    expect(out.stdout?.length).toBeLessThanOrEqual(100);
    expect(out.stdout?.split('\n')[0]).toMatch(/^\d+$/); // cut at a line start
    expect(out.output_truncated).toBe(true);
  });

  it('says the output was cut when it is cut by --max-log-lines, not only by bytes', async () => {
    const args = base({ command: 'seq 1 10', wait: true, remove: true });

    const out = await callOk<RunResult>('docker_run_container', args, { limits: { maxLogLines: 4 } });

    // Podman's tail is read forward from the second it starts: the older lines of that second come too.
    if (podmanDiffers('tail-read-forward')) expect(out.stdout?.endsWith('7\n8\n9\n10\n')).toBe(true);
    else expect(out.stdout).toBe('7\n8\n9\n10\n');
    expect(out.output_truncated).toBe(true);
    const whole = await callOk<RunResult>(
      'docker_run_container',
      { ...args, name: `${args.name}-b` },
      {
        limits: { maxLogLines: 20 },
      },
    );
    expect(whole.stdout?.split('\n')).toHaveLength(11);
    expect(whole.output_truncated).toBeUndefined();
  });

  it('redacts secrets in the command output', async () => {
    const args = base({
      environment: { API_TOKEN: 'hunter2' },
      command: ['sh', '-c', 'echo API_TOKEN=$API_TOKEN'],
      wait: true,
      remove: true,
    });

    const out = await callOk<RunResult>('docker_run_container', args);

    expect(out.stdout).toBe('API_TOKEN=***\n');
    expect(JSON.stringify(out)).not.toContain('hunter2');
  });

  it('kills and removes a waited container that outlives timeout', async () => {
    const args = base({ command: ['sleep', '60'], wait: true, timeout: 1, remove: true });

    const err = await callErr('docker_run_container', args);

    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('1s');
    expect(await exists(args.name as string)).toBe(false);
  });

  it('kills but keeps a waited container that outlives timeout when remove is not set', async () => {
    const args = base({ command: ['sleep', '60'], wait: true, timeout: 1 });

    expect((await callErr('docker_run_container', args)).kind).toBe('timeout');

    expect((await inspect(args.name as string)).State.Status).toBe('exited');
  });

  it('stops and removes a waited container when the call is cancelled', async () => {
    const args = base({ command: ['sleep', '60'], wait: true, remove: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);

    const err = await callErr('docker_run_container', args, { signal: controller.signal });

    expect(err.kind).toBe('cancelled');
    for (let i = 0; i < 50 && (await exists(args.name as string)); i++) await Bun.sleep(100);
    expect(await exists(args.name as string)).toBe(false);
  });

  it('lets the engine remove an unwaited container once it exits when remove is true', async () => {
    const args = base({ command: ['sleep', '300'], remove: true });

    const out = await callOk<RunResult>('docker_run_container', args);

    expect(out.state).toBe('running');
    expect((await inspect(out.id)).HostConfig.AutoRemove).toBe(true);
  });

  it('leaves nothing behind when the container fails to start', async () => {
    const args = base({ command: ['no-such-command-here'], wait: true });

    const err = await callErr('docker_run_container', args);

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain('no-such-command-here');
    expect(await exists(args.name as string)).toBe(false);
  });

  it('answers not_found for an absent image, pointing to docker_pull_image', async () => {
    const args = base({ image: 'mcp-test/absent:never' });

    const err = await callErr('docker_run_container', args);

    expect(err.kind).toBe('not_found');
    expect(err.hint).toContain('docker_pull_image');
    expect(await exists(args.name as string)).toBe(false);
  });

  it.each(
    escapes.filter(
      ([, over]) =>
        !(
          'privileged' in over ||
          'cap_add' in over ||
          'pid_mode' in over ||
          'devices' in over ||
          'security_opt' in over
        ),
    ),
  )('refuses %s before any engine request', async (_, over) => {
    const args = base({ ...over, command: ['true'], wait: true });

    const err = await callErr('docker_run_container', args);

    expect(err.kind).toBe('policy_denied');
    expect(await exists(args.name as string)).toBe(false);
  });

  it('takes only the common options, refusing the others as unknown arguments', async () => {
    const args = base({ privileged: true, command: ['true'] });

    const err = await callErr('docker_run_container', args);

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("unknown argument 'privileged'");
    expect(await exists(args.name as string)).toBe(false);
  });
});

describe('docker_update_container', () => {
  it('applies limits and restart policy, and returns the values now set', async () => {
    const { name } = await makeContainer();
    const update = {
      container_id: name,
      mem_limit: '128m',
      memory_swap: '256m',
      cpus: 0.5,
      cpu_shares: 256,
      pids_limit: 64,
      restart_policy: 'on-failure',
      maximum_retry_count: 3,
    };
    if (podmanDiffers('no-container-update')) {
      const err = await callErr('docker_update_container', update);
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toBe("engine 'default' is Podman, which has no container update API");
      return;
    }

    const out = await callOk<{ name: string; applied: Record<string, unknown> }>(
      'docker_update_container',
      update,
    );

    expect(out.name).toBe(name);
    expect(out.applied).toEqual({
      mem_limit: 128 * 1024 ** 2,
      memory_swap: 256 * 1024 ** 2,
      cpus: 0.5,
      cpu_shares: 256,
      pids_limit: 64,
      restart_policy: 'on-failure',
      maximum_retry_count: 3,
    });
    const { HostConfig } = await inspect(name);
    expect(HostConfig).toMatchObject({
      Memory: 128 * 1024 ** 2,
      NanoCpus: 5e8,
      CpuShares: 256,
      PidsLimit: 64,
    });
    expect(HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
  });

  it('returns the current values when nothing is asked', async () => {
    const { name } = await makeContainer({ start: false });

    const out = await callOk<{ applied: Record<string, unknown> }>('docker_update_container', {
      container_id: name,
    });

    expect(out.applied).toMatchObject({ mem_limit: 0, restart_policy: 'no' });
  });

  it('answers not_found for an unknown container', async () => {
    const err = await callErr('docker_update_container', {
      container_id: uniqueName('mcpt-none'),
      cpu_shares: 512,
    });

    // On Podman the missing endpoint answers first, whatever the container.
    expect(err.kind).toBe(podmanDiffers('no-container-update') ? 'invalid_argument' : 'not_found');
  });

  it('rejects an unknown restart policy, naming the field', async () => {
    const err = await callErr('docker_update_container', { container_id: 'x', restart_policy: 'sometimes' });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("'restart_policy'");
  });
});
