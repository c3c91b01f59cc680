import { afterAll, describe, expect, it } from 'bun:test';
import { cleanupContainers, found, makeContainer, testDocker, uniqueName } from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';
import { podmanDiffers } from '../helpers/podman.ts';

afterAll(cleanupContainers);

const inspect = (ref: string) => testDocker().getContainer(ref).inspect();
const exists = (ref: string) => found(inspect(ref));
const noDestructive = { profile: { allowDestructive: false } };

describe('docker_restart_container', () => {
  it('restarts a running container and returns it running', async () => {
    const { name } = await makeContainer();
    const before = (await inspect(name)).State.StartedAt;

    const out = await callOk('docker_restart_container', { container_id: name, timeout: 0 });

    expect(out).toMatchObject({ name, state: 'running' });
    expect((await inspect(name)).State.StartedAt).not.toBe(before);
  });

  it('answers not_found naming the close candidates', async () => {
    const { name } = await makeContainer({ start: false });

    const err = await callErr('docker_restart_container', { container_id: `${name}x` });

    expect(err.kind).toBe('not_found');
    expect(err.hint).toContain(`'${name}'`);
  });
});

describe('docker_kill_container', () => {
  it('sends SIGKILL by default, leaving the container exited with 137', async () => {
    const { name } = await makeContainer();

    const out = await callOk('docker_kill_container', { container_id: name });

    expect(out).toMatchObject({ name, state: 'exited', exit_code: 137 });
  });

  it('sends the named signal', async () => {
    const { id, name } = await makeContainer({
      cmd: ['sh', '-c', "trap 'exit 7' HUP; echo ready; while :; do sleep 0.1; done"],
    });
    // Signal only once the shell has installed its trap.
    const logs = async () => (await testDocker().getContainer(id).logs({ stdout: true })).toString();
    for (let i = 0; i < 50 && !(await logs()).includes('ready'); i++) await Bun.sleep(100);

    await callOk('docker_kill_container', { container_id: name, signal: 'HUP' });

    expect((await testDocker().getContainer(id).wait()).StatusCode).toBe(7);
  });

  it('refuses a stopped container as a conflict', async () => {
    const { name } = await makeContainer({ start: false });

    const err = await callErr('docker_kill_container', { container_id: name });

    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(
      podmanDiffers('state-wording') ? 'can only kill running containers' : 'is not running',
    );
    expect(err.hint).toBe('Start the container first.');
  });

  it('rejects a malformed signal, naming the field', async () => {
    const err = await callErr('docker_kill_container', { container_id: 'whatever', signal: 'SIG KILL' });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("'signal'");
  });

  it('refuses a signal the engine does not know as invalid_argument naming signal, leaving it running', async () => {
    const { id, name } = await makeContainer();
    for (const signal of ['99', '0', 'SIGFOO']) {
      const err = await callErr('docker_kill_container', { container_id: name, signal });
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toBe(`invalid argument 'signal': '${signal}' is not a signal`);
      expect(err.hint).toContain('number 1-64');
    }
    expect((await testDocker().getContainer(id).inspect()).State.Running).toBe(true);
  });
});

describe('docker_pause_container / docker_unpause_container', () => {
  it('pauses and resumes, and repeating either is not an error', async () => {
    const { name } = await makeContainer();

    expect(await callOk('docker_pause_container', { container_id: name })).toMatchObject({ state: 'paused' });
    expect(await callOk('docker_pause_container', { container_id: name })).toMatchObject({ state: 'paused' });
    expect(await callOk('docker_unpause_container', { container_id: name })).toMatchObject({
      state: 'running',
    });
    expect(await callOk('docker_unpause_container', { container_id: name })).toMatchObject({
      state: 'running',
    });
  });

  it('tells a paused container apart from a stopped one in the next step it gives', async () => {
    const { name } = await makeContainer();
    await callOk('docker_pause_container', { container_id: name });
    try {
      const exec = await callErr('docker_exec_command', { container_id: name, command: ['true'] });
      expect(exec.kind).toBe('conflict');
      expect(exec.hint).toContain('docker_unpause_container');
      // Looking in needs no unpause: the engine reads a paused container's stats, as docker stats does.
      expect(await callOk('docker_container_stats', { container_id: name })).toMatchObject({
        container: name,
      });
    } finally {
      await callOk('docker_unpause_container', { container_id: name });
    }
  });

  it('refuses to pause a container that is not running', async () => {
    const { name } = await makeContainer({ start: false });

    const err = await callErr('docker_pause_container', { container_id: name });

    expect(err.kind).toBe('conflict');
  });

  it('answers not_found for an unknown container', async () => {
    expect((await callErr('docker_unpause_container', { container_id: uniqueName('mcpt-none') })).kind).toBe(
      'not_found',
    );
  });
});

describe('docker_rename_container', () => {
  it('renames a container and returns it under the new name', async () => {
    const { id, name } = await makeContainer({ start: false });
    const newName = uniqueName('mcpt-renamed');

    const out = await callOk('docker_rename_container', { container_id: name, new_name: newName });

    expect(out).toMatchObject({ id: id.slice(0, 12), name: newName, state: 'created' });
    expect(await exists(name)).toBe(false);
    // Renaming to the name it already has is a no-op, not an error.
    expect(
      await callOk('docker_rename_container', { container_id: newName, new_name: newName }),
    ).toMatchObject({
      name: newName,
    });
  });

  it('rejects a name Docker would refuse, naming the field', async () => {
    const { name } = await makeContainer({ start: false });

    const err = await callErr('docker_rename_container', { container_id: name, new_name: '-bad name' });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("'new_name'");
  });

  it('answers conflict when the new name is taken', async () => {
    const a = await makeContainer({ start: false });
    const b = await makeContainer({ start: false });

    const err = await callErr('docker_rename_container', { container_id: a.name, new_name: b.name });

    expect(err.kind).toBe('conflict');
    expect(err.hint).toContain('another name');
  });
});

describe('docker_remove_container', () => {
  it('refuses a running container unless force is true', async () => {
    const { name } = await makeContainer();

    const err = await callErr('docker_remove_container', { container_id: name });
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain('running');
    expect(err.hint).toContain('force: true');
    expect(err.hint).toContain('docker_stop_container');
    expect(await exists(name)).toBe(true);

    const out = await callOk('docker_remove_container', { container_id: name, force: true });
    expect(out).toMatchObject({ name, removed: true });
    expect(await exists(name)).toBe(false);
  });

  it('refuses a paused container unless force is true', async () => {
    const { name } = await makeContainer();
    await testDocker().getContainer(name).pause();

    expect((await callErr('docker_remove_container', { container_id: name })).kind).toBe('conflict');
    expect(await exists(name)).toBe(true);
  });

  it('removes a stopped container with its anonymous volumes', async () => {
    const { id, name } = await makeContainer({ start: false });

    const out = await callOk('docker_remove_container', { container_id: name, volumes: true });

    expect(out).toEqual({ id: id.slice(0, 12), name, removed: true });
    expect(await exists(id)).toBe(false);
  });

  it('answers not_found with a suggestion', async () => {
    const { name } = await makeContainer({ start: false });

    const err = await callErr('docker_remove_container', { container_id: name.slice(0, -1) });

    expect(err.kind).toBe('not_found');
    expect(err.hint).toContain(name);
  });

  it('is refused when the profile disallows destructive tools, before touching the engine', async () => {
    const { name } = await makeContainer({ start: false });

    const err = await callErr('docker_remove_container', { container_id: name, force: true }, noDestructive);

    expect(err.kind).toBe('policy_denied');
    expect(err.hint).toContain('SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS');
    expect(await exists(name)).toBe(true);
  });
});

describe('docker_prune_containers', () => {
  it('removes the stopped containers the filters select and reports them', async () => {
    const tag = uniqueName('prune');
    const labels = { 'mcpt-prune': tag };
    const stopped = [
      await makeContainer({ start: false, labels }),
      await makeContainer({ start: false, labels }),
    ];
    const running = await makeContainer({ labels });
    const other = await makeContainer({ start: false });

    const out = await callOk<{ removed: string[]; count: number; space_reclaimed: number }>(
      'docker_prune_containers',
      { filters: { label: [`mcpt-prune=${tag}`] } },
    );

    expect(out.count).toBe(2);
    expect(out.removed.sort()).toEqual(stopped.map((c) => c.name).sort());
    expect(out.space_reclaimed).toBeGreaterThanOrEqual(0);
    for (const c of stopped) expect(await exists(c.id)).toBe(false);
    expect(await exists(running.id)).toBe(true);
    expect(await exists(other.id)).toBe(true);
  });

  it('refuses a filter key its prune does not take, unasked, as it does when it asks', async () => {
    const tag = uniqueName('prune-key');
    const c = await makeContainer({ start: false, labels: { 'mcpt-prune': tag } });
    for (const [tool, key] of [
      ['docker_prune_containers', 'status'],
      ['docker_prune_networks', 'driver'],
      ['docker_prune_volumes', 'until'],
    ] as const) {
      const err = await callErr(tool, {
        ...(tool === 'docker_prune_volumes' && { all: true }),
        filters: { label: [`mcpt-prune=${tag}`], [key]: ['x'] },
      });
      expect({ tool, kind: err.kind }).toEqual({ tool, kind: 'invalid_argument' });
      expect(err.message).toContain(`invalid argument 'filters': this prune takes no '${key}' filter`);
    }
    expect(await exists(c.id)).toBe(true);
  });

  it('is refused when the profile disallows destructive tools', async () => {
    const err = await callErr(
      'docker_prune_containers',
      { filters: { label: ['mcpt-prune=none'] } },
      noDestructive,
    );

    expect(err.kind).toBe('policy_denied');
    expect(err.hint).toContain('SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS');
  });
});
