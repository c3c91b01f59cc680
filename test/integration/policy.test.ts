/**
 * The allowlist policy against the real engine: refusals through the pipeline, the engine-boundary
 * guard on requests no argument check saw, and the moment-of-use checks on containers made outside
 * this server (raw API, labelled, network none). Each refusal also shows the engine did not act.
 * Legitimate uses (project binds under home or /tmp, named and tmpfs volumes, a build from a
 * directory under home, a save to a new file) still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPolicy } from '../../src/docker/policy/scope.ts';
import {
  cleanupContainers,
  found,
  makeContainer,
  removeImageIfPresent,
  TEST_IMAGE,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';
import { callErr, callOk, testEngine } from '../helpers/pipeline.ts';

const docker = testDocker();
const state = async (ref: string) => (await docker.getContainer(ref).inspect()).State;
const volumeExists = (name: string) => found(docker.getVolume(name).inspect());
const volumes: string[] = [];
let tmp: string;
let project: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mcp-policy-'));
  project = mkdtempSync(join(homedir(), 'mcp-policy-project-'));
});
afterAll(async () => {
  await cleanupContainers();
  for (const v of volumes)
    await docker
      .getVolume(v)
      .remove({ force: true })
      .catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
});

/** A container made through the raw API, outside this server (not started unless asked). */
async function rawContainer(HostConfig: Record<string, unknown>, start = false) {
  const name = uniqueName('mcpt-hostile');
  const c = await docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ['sleep', '3600'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none', ...HostConfig },
  });
  if (start) await c.start();
  return name;
}

async function rawVolume(DriverOpts: Record<string, string>) {
  const name = uniqueName('mcpt-vol');
  volumes.push(name);
  await docker.createVolume({ Name: name, Labels: testLabels(), DriverOpts });
  return name;
}

describe('moment of use: the target container as it is now', () => {
  it('refuses to start a privileged container made outside this server; it stays not running', async () => {
    const name = await rawContainer({ Privileged: true });
    const err = await callErr('docker_start_container', { container_id: name });
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toContain('Privileged');
    expect(err.hint).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS');
    expect((await state(name)).Status).toBe('created');
  });

  it('refuses to start a container that mounts /etc or the engine socket', async () => {
    // The socket of the engine under test, wherever the runner found or started it.
    const socket = (process.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, '');
    expect(socket.startsWith('/')).toBe(true);
    for (const bind of ['/etc:/host-etc:ro', `${socket}:/var/run/docker.sock`]) {
      const name = await rawContainer({ Binds: [bind] });
      const err = await callErr('docker_start_container', { container_id: name });
      expect([bind, err.kind]).toEqual([bind, 'policy_denied']);
      expect(err.hint).toContain('SAFETY_VOLUME_MOUNT_ALLOWLIST');
      expect((await state(name)).Status).toBe('created');
    }
  });

  it('refuses a bind source that was a plain directory at create and is a symlink to /etc at start', async () => {
    const src = join(tmp, 'data');
    mkdirSync(src);
    const name = uniqueName('mcpt-toctou');
    await callOk('docker_create_container', {
      image: TEST_IMAGE,
      name,
      command: ['sleep', '3600'],
      network_mode: 'none',
      labels: testLabels(),
      volumes: [`${src}:/data:ro`],
    });
    renameSync(src, `${src}.old`);
    symlinkSync('/etc', src);

    const err = await callErr('docker_start_container', { container_id: name });

    expect(err.kind).toBe('policy_denied');
    expect(err.message).toContain('/etc');
    expect((await state(name)).Status).toBe('created');
  });

  it('refuses restart, unpause, exec and copy-to on a running container that breaks the policy', async () => {
    const name = await rawContainer({ Binds: ['/etc:/host-etc:ro'] }, true);
    const started = (await state(name)).StartedAt;

    expect((await callErr('docker_restart_container', { container_id: name, timeout: 0 })).kind).toBe(
      'policy_denied',
    );
    expect((await state(name)).StartedAt).toBe(started);

    expect(
      (await callErr('docker_exec_command', { container_id: name, command: ['touch', '/tmp/x'] })).kind,
    ).toBe('policy_denied');
    const copy = await callErr('docker_copy_to_container', {
      container_id: name,
      path: '/tmp/y',
      content: 'x',
    });
    expect(copy.kind).toBe('policy_denied');
    const has = (p: string) => found(docker.getContainer(name).infoArchive({ path: p }));
    expect([await has('/tmp/x'), await has('/tmp/y')]).toEqual([false, false]);

    await docker.getContainer(name).pause();
    expect((await callErr('docker_unpause_container', { container_id: name })).kind).toBe('policy_denied');
    expect((await state(name)).Paused).toBe(true);
    await docker.getContainer(name).unpause();
  });

  it('refuses to join the namespaces or volumes of a container that breaks the policy, and creates nothing', async () => {
    const hostile = await rawContainer({ Privileged: true });
    const plain = (await makeContainer()).name;
    for (const arg of [{ network_mode: `container:${hostile}` }, { pid_mode: `container:${hostile}` }]) {
      const name = uniqueName('mcpt-join');
      const err = await callErr('docker_create_container', {
        image: TEST_IMAGE,
        name,
        labels: testLabels(),
        ...arg,
      });
      expect(err.kind).toBe('policy_denied');
      expect(err.message).toContain('joining');
      expect(await found(docker.getContainer(name).inspect())).toBe(false);
    }
    const ok = await callOk<{ name: string }>('docker_create_container', {
      image: TEST_IMAGE,
      name: uniqueName('mcpt-join-ok'),
      labels: testLabels(),
      network_mode: `container:${plain}`,
    });
    expect(ok.name).toContain('mcpt-join-ok');
  });

  it('refuses a privileged exec into an ordinary container', async () => {
    const { name } = await makeContainer();
    const err = await callErr('docker_exec_command', {
      container_id: name,
      command: ['true'],
      privileged: true,
    });
    expect(err.kind).toBe('policy_denied');
  });
});

describe('volumes: local driver options by allowlist', () => {
  it('refuses a bind volume over /etc and a proc volume; no volume is created', async () => {
    for (const driver_opts of [
      { type: 'none', o: 'bind', device: '/etc' },
      { type: 'proc', device: 'proc' },
      { type: 'overlay', device: 'overlay', o: 'lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w' },
    ]) {
      const name = uniqueName('mcpt-vol');
      const err = await callErr('docker_create_volume', { name, driver_opts });
      expect(err.kind).toBe('policy_denied');
      expect(err.message).toContain('driver_opts');
      expect(await volumeExists(name)).toBe(false);
    }
  });

  it('refuses a container over a bind volume to /etc made outside this server', async () => {
    const vol = await rawVolume({ type: 'none', o: 'bind', device: '/etc' });
    const name = uniqueName('mcpt-etcvol');
    const err = await callErr('docker_create_container', {
      image: TEST_IMAGE,
      name,
      labels: testLabels(),
      volumes: [`${vol}:/x`],
    });
    expect(err.kind).toBe('policy_denied');
    expect(await found(docker.getContainer(name).inspect())).toBe(false);
  });

  it('allows named, tmpfs and project bind volumes', async () => {
    for (const driver_opts of [
      undefined,
      { type: 'tmpfs', device: 'tmpfs', o: 'size=8m' },
      { type: 'none', o: 'bind', device: project },
    ]) {
      const name = uniqueName('mcpt-vol');
      volumes.push(name);
      await callOk('docker_create_volume', {
        name,
        ...(driver_opts && { driver_opts }),
        labels: testLabels(),
      });
      expect(await volumeExists(name)).toBe(true);
    }
  });
});

describe('host paths', () => {
  it('runs a container with a project bind under home and under /tmp, and a named volume', async () => {
    writeFileSync(join(project, 'hello.txt'), 'hi');
    // A directory of its own: another test's container mounts one inside `tmp`, so `tmp` may not be bound writable.
    const scratch = join(tmp, 'scratch');
    mkdirSync(scratch);
    const out = await callOk<{ exit_code: number; logs?: string }>('docker_run_container', {
      image: TEST_IMAGE,
      name: uniqueName('mcpt-bind'),
      command: ['cat', '/p/hello.txt'],
      network_mode: 'none',
      labels: testLabels(),
      volumes: [`${project}:/p:ro`, `${scratch}:/t`, 'mcpt-named-data:/d'],
      wait: true,
    });
    volumes.push('mcpt-named-data');
    expect(out.exit_code).toBe(0);
  });

  it('refuses /root/.ssh and a path outside the roots, naming the argument; nothing is created', async () => {
    for (const src of [join(homedir(), '.ssh'), '/srv/data', homedir()]) {
      const name = uniqueName('mcpt-bad-bind');
      const err = await callErr('docker_create_container', {
        image: TEST_IMAGE,
        name,
        labels: testLabels(),
        volumes: [`${src}:/x`],
      });
      expect([src, err.kind]).toEqual([src, 'policy_denied']);
      expect(err.message).toContain('volumes[0]');
      expect(await found(docker.getContainer(name).inspect())).toBe(false);
    }
  });

  it('builds from a directory under home and saves to a new file under /tmp', async () => {
    const ctx = join(project, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL mcp-docker-test=policy\n`);
    const tag = `mcpt-policy-build:${Date.now().toString(36)}`;
    try {
      await callOk('docker_build_image', { path: ctx, tag });
      const file = join(tmp, 'saved.tar');
      const saved = await callOk<{ bytes: number }>('docker_save_image', { images: tag, path: file });
      expect(saved.bytes).toBeGreaterThan(0);
      expect(existsSync(file)).toBe(true);
    } finally {
      await removeImageIfPresent(tag);
    }
  });

  it('refuses to save into ~/.docker or /etc and to build from /etc; no file is written', async () => {
    const target = join(homedir(), '.docker', `mcpt-${Date.now()}.tar`);
    const err = await callErr('docker_save_image', { images: TEST_IMAGE, path: target });
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toContain('path');
    expect(existsSync(target)).toBe(false);
    expect((await callErr('docker_save_image', { images: TEST_IMAGE, path: '/etc/mcpt.tar' })).kind).toBe(
      'policy_denied',
    );
    expect(existsSync('/etc/mcpt.tar')).toBe(false);
    expect((await callErr('docker_build_image', { path: '/etc' })).kind).toBe('policy_denied');
    expect((await callErr('docker_load_image', { path: '/etc/passwd' })).kind).toBe('policy_denied');
  });

  it('an explicit allowlist replaces the roots: a project under home is then refused', async () => {
    const err = await callErr(
      'docker_create_container',
      { image: TEST_IMAGE, labels: testLabels(), volumes: [`${project}:/p`] },
      { policy: { mountAllowlist: ['/srv'] } },
    );
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toContain('allowlist');
  });
});

describe('the engine boundary', () => {
  const policy = { allowPrivileged: false, mountAllowlist: [], mountBlocklist: [] };

  it('refuses a request no argument check saw: a create with SYS_ADMIN straight through the engine client', async () => {
    const client = await testEngine().client();
    const name = uniqueName('mcpt-boundary');
    const attempt = withPolicy(policy, { home: homedir() }, () =>
      client.createContainer({
        name,
        Image: TEST_IMAGE,
        Labels: testLabels(),
        HostConfig: { NetworkMode: 'none', CapAdd: ['SYS_ADMIN'] },
      }),
    );
    await expect(attempt).rejects.toMatchObject({ kind: 'policy_denied' });
    expect(await found(docker.getContainer(name).inspect())).toBe(false);
  });

  it('with SAFETY_ALLOW_PRIVILEGED_CONTAINERS the same request passes', async () => {
    const client = await testEngine().client();
    const name = uniqueName('mcpt-boundary-ok');
    await withPolicy({ ...policy, allowPrivileged: true }, { home: homedir() }, () =>
      client.createContainer({
        name,
        Image: TEST_IMAGE,
        Labels: testLabels(),
        HostConfig: { NetworkMode: 'none', CapAdd: ['SYS_ADMIN'] },
      }),
    );
    expect(await found(docker.getContainer(name).inspect())).toBe(true);
  });
});
