import { afterAll, describe, expect, it } from 'bun:test';
import {
  cleanupContainers,
  makeContainer,
  RUN_ID,
  TEST_IMAGE,
  TEST_LABEL,
  testDocker,
  uniqueName,
} from '../helpers/engine.ts';

describe('engine fixtures', () => {
  afterAll(cleanupContainers);

  it('makeContainer starts a labelled test-image container with no network', async () => {
    const { id, name } = await makeContainer({ env: ['GREETING=hi'], labels: { purpose: 'smoke' } });
    const info = await testDocker().getContainer(id).inspect();

    expect(name.startsWith('mcpt-')).toBe(true);
    expect(info.Name).toBe(`/${name}`);
    expect(info.State.Running).toBe(true);
    expect(info.Config.Image).toBe(TEST_IMAGE);
    expect(info.Config.Cmd).toEqual(['sleep', '3600']);
    expect(info.Config.Env).toContain('GREETING=hi');
    expect(info.Config.Labels).toMatchObject({ [TEST_LABEL]: RUN_ID, purpose: 'smoke' });
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['none']);
  });

  it('makeContainer with start: false only creates', async () => {
    const { id } = await makeContainer({ start: false, cmd: ['true'] });
    const info = await testDocker().getContainer(id).inspect();

    expect(info.State.Status).toBe('created');
  });

  it('runs a command in the test image', async () => {
    const { id } = await makeContainer({ cmd: ['sh', '-c', 'echo "$(whoami) on $(uname -s)"'] });
    const container = testDocker().getContainer(id);
    const { StatusCode } = await container.wait();
    const logs = (await container.logs({ stdout: true, stderr: true })).toString();

    expect(StatusCode).toBe(0);
    expect(logs).toContain('root on Linux');
  });

  it('cleanupContainers removes every container of this run, running or not', async () => {
    const made = [await makeContainer({}), await makeContainer({ start: false, name: uniqueName('mcpt-x') })];
    const ofThisRun = { label: [`${TEST_LABEL}=${RUN_ID}`] };
    expect(
      (await testDocker().listContainers({ all: true, filters: ofThisRun })).length,
    ).toBeGreaterThanOrEqual(2);

    await cleanupContainers();

    expect(await testDocker().listContainers({ all: true, filters: ofThisRun })).toEqual([]);
    for (const { id } of made) {
      await expect(testDocker().getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    }
  });
});
