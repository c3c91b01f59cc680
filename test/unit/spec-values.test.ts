import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import { durationNs, ulimitsOf } from '../../src/docker/container-options.ts';
import { bytes, engineCount, engineWhole, nanoCpus, secondsNs } from '../../src/docker/spec-values.ts';
import { serviceSpec } from '../../src/docker/swarm/service-spec.ts';
import { validateArgs } from '../../src/pipeline/validate.ts';
import { createContainer, updateContainer } from '../../src/tools/containers/create.ts';
import { createBody } from '../../src/tools/containers/spec.ts';
import { createVolume } from '../../src/tools/volumes/manage.ts';

function refusal(fn: () => unknown): ToolError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
}

async function invalid(
  schema: Parameters<typeof validateArgs>[0],
  args: unknown,
): Promise<string | undefined> {
  try {
    await validateArgs(schema, args);
    return undefined;
  } catch (e) {
    return e instanceof ToolError ? `${e.kind}: ${e.message}` : String(e);
  }
}

describe('engine whole numbers (nano-CPUs, nanoseconds, bytes, counts)', () => {
  it('scales a value in range to the whole number the engine reads', () => {
    expect(nanoCpus(0.5, 'cpus')).toBe(500_000_000);
    expect(nanoCpus(0, 'cpus')).toBe(0);
    expect(nanoCpus(undefined, 'cpus')).toBeUndefined();
    expect(secondsNs(1.5, 'interval')).toBe(1_500_000_000);
    expect(bytes('512m', 'mem_limit')).toBe(536_870_912);
    expect(bytes('-1', 'memory_swap')).toBe(-1);
    expect(engineCount(1024, 'cpu_shares', 262_144)).toBe(1024);
  });

  it('refuses a value that is not finite, naming the field, instead of sending null (no limit)', () => {
    for (const v of [1e300, Number.POSITIVE_INFINITY, Number.NaN, -1]) {
      const e = refusal(() => nanoCpus(v, 'cpus'));
      expect([v, e?.kind]).toEqual([v, 'invalid_argument']);
      expect(e?.message).toStartWith("invalid argument 'cpus': ");
    }
    expect(refusal(() => nanoCpus(1e300, 'cpus'))?.message).toBe(
      "invalid argument 'cpus': 1e+300 CPUs is out of range (0 to 8192 CPUs)",
    );
  });

  it('refuses a value whose scaled count is not a safe integer (past int64, or rounded by JSON)', () => {
    // 1e10 CPUs fits no int64 in nano-CPUs; 200 days fit int64 nanoseconds but not JSON's exact integers.
    expect(refusal(() => engineWhole(1e10, 1e9, 'cpus', { unit: 'CPUs', hint: '' }))?.kind).toBe(
      'invalid_argument',
    );
    expect(refusal(() => secondsNs(200 * 86_400, 'stop_grace_period'))?.message).toStartWith(
      "invalid argument 'stop_grace_period': 17280000 s is out of range",
    );
    expect(refusal(() => durationNs('5000h', 'healthcheck.interval'))?.message).toStartWith(
      "invalid argument 'healthcheck.interval': ",
    );
    expect(durationNs('1m30s', 'healthcheck.interval')).toBe(90e9);
    expect(refusal(() => bytes(1e300, 'mem_limit'))?.message).toStartWith("invalid argument 'mem_limit': ");
    expect(refusal(() => bytes('99999999999999g', 'shm_size'))?.message).toBe(
      "invalid argument 'shm_size': 1.0737418239999893e+23 bytes is out of range (0 to 9007199254740991 bytes)",
    );
    expect(refusal(() => engineCount(1e300, 'pids_limit', 4_194_304))?.kind).toBe('invalid_argument');
  });

  it('names the field as its caller does (Compose and stacks add file and service)', () => {
    const e = refusal(() => nanoCpus(1e300, 'cpus', (k) => `compose.yaml: service "web": ${k}`));
    expect(e?.message).toStartWith('compose.yaml: service "web": cpus: 1e+300 CPUs is out of range');
  });

  it('refuses ulimits past the int64 the engine reads', () => {
    expect(ulimitsOf({ nofile: { soft: 1024, hard: 2048 } })).toEqual([
      { name: 'nofile', soft: 1024, hard: 2048 },
    ]);
    expect(refusal(() => ulimitsOf({ nofile: { soft: 1, hard: 1e300 } }))?.message).toStartWith(
      "invalid argument 'ulimits.nofile.hard': ",
    );
  });

  it('refuses a service CPU limit or duration out of range, naming the argument', () => {
    expect(serviceSpec({ name: 's', image: 'i', limit_cpus: 2 }).TaskTemplate).toMatchObject({
      Resources: { Limits: { NanoCPUs: 2e9 } },
    });
    expect(refusal(() => serviceSpec({ name: 's', image: 'i', limit_cpus: 1e300 }))?.message).toStartWith(
      'limit_cpus: 1e+300 CPUs is out of range',
    );
    expect(
      refusal(() =>
        serviceSpec({ name: 's', image: 'i', update_config: { delay: Number.POSITIVE_INFINITY } }),
      )?.message,
    ).toStartWith('update_config.delay: Infinity s is out of range');
  });
});

describe('numeric arguments have upper limits the schema checks', () => {
  it('refuses a huge cpus, memory or count before the engine, naming the field', async () => {
    for (const [field, value] of [
      ['cpus', 1e300],
      ['mem_limit', 1e300],
      ['cpu_shares', 1e300],
      ['shm_size', 1e300],
      ['memory_swap', 1e300],
      ['pids_limit', 1e300],
    ] as const) {
      const tool = field === 'shm_size' ? createContainer : updateContainer;
      const args =
        field === 'shm_size' ? { image: 'x', [field]: value } : { container_id: 'c', [field]: value };
      expect([field, await invalid(tool.input, args)]).toEqual([
        field,
        expect.stringMatching(new RegExp(`^invalid_argument: invalid argument '${field}': must be <= `)),
      ]);
    }
  });
});

describe('free-text settings and volume paths of docker_create_container', () => {
  it('refuses blanks and control characters in user, hostname and namespace modes', async () => {
    for (const field of ['user', 'hostname', 'network_mode', 'ipc_mode', 'userns_mode', 'pid_mode'])
      for (const value of ['a\nb', '   \t ', 'h\u0000x', 'x\u202ey']) {
        expect([field, value, await invalid(createContainer.input, { image: 'x', [field]: value })]).toEqual([
          field,
          value,
          expect.stringContaining(
            `invalid argument '${field}': has characters or a shape not allowed here (expected: one word`,
          ),
        ]);
      }
    expect(
      await invalid(createContainer.input, {
        image: 'x',
        user: '1000:1000',
        hostname: 'web-1',
        network_mode: 'container:db',
      }),
    ).toBeUndefined();
  });

  it('refuses a volume whose path in the container is not absolute, as the docker CLI does', () => {
    expect(refusal(() => createBody({ image: 'x', volumes: ['rel'] }))?.message).toBe(
      `invalid argument 'volumes.0': the path in the container, "rel", is not absolute`,
    );
    expect(refusal(() => createBody({ image: 'x', volumes: ['/data', 'v:dst'] }))?.message).toStartWith(
      "invalid argument 'volumes.1': ",
    );
    expect(refusal(() => createBody({ image: 'x', volumes: { v: { bind: 'dst' } } }))?.message).toStartWith(
      "invalid argument 'volumes.v': ",
    );
    expect(createBody({ image: 'x', volumes: ['/data', 'v:/x:ro'] })).toMatchObject({
      Volumes: { '/data': {} },
    });
  });

  it('says what a name may hold', async () => {
    expect(await invalid(createContainer.input, { image: 'x', name: '   \t ' })).toContain(
      '(expected: a name of letters, digits and _ . - (first a letter or digit))',
    );
    expect(await invalid(createVolume.input, { name: '-x' })).toContain('(expected: a name of two or more');
  });
});
