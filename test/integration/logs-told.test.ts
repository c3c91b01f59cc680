/**
 * What the log tools tell about a read, through the real pipeline against the real engine: lines left
 * out for the response limit counted and explained (not dropped in silence), long lines said to be cut,
 * grep matching the message with or without timestamps, and the quiet empty answers given a reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { cleanupContainers, makeContainer, TEST_IMAGE, testDocker, testLabels } from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';

interface Logs {
  lines: string[];
  count: number;
  scanned?: number;
  left_out?: number;
  note?: string;
  truncated?: unknown;
}
interface Waited {
  met: boolean;
  state: string;
  exit_code?: number;
  matched_line?: string;
  note?: string;
}

/** The lines a call returned (the in-process pipeline gives them without the fence's delimiters). */
const inner = (l: Logs) => l.lines;

async function finished(script: string, more: { tty?: boolean } = {}): Promise<string> {
  const { id } = await makeContainer({ cmd: ['sh', '-c', script], ...more });
  await testDocker().getContainer(id).wait();
  return id;
}

afterAll(cleanupContainers);

let coloured: string; // 3000 lines, each mostly colour codes
let wide: string; // 1000 lines of 1000 characters
let stamped: string; // ERROR and INFO lines
let big: string; // one 40 KiB line

beforeAll(async () => {
  [coloured, wide, stamped, big] = await Promise.all([
    finished(
      String.raw`i=0; r=$(printf '\033[0m%.0s' $(seq 250)); while [ $i -lt 3000 ]; do echo "$r line $i"; i=$((i+1)); done`,
    ),
    finished(
      `x=$(printf 'x%.0s' $(seq 990)); i=0; while [ $i -lt 1000 ]; do echo "L$i $x"; i=$((i+1)); done`,
    ),
    finished('echo "ERROR one"; echo "INFO two"; echo "ERROR three"'),
    finished("echo before; printf BIGSTART; head -c 40000 /dev/zero | tr '\\0' y; echo BIGEND; echo after"),
  ]);
});

describe('docker_container_logs says what it left out', () => {
  it('counts the response limit on the text as read, so colour codes do not crowd lines out', async () => {
    const out = await callOk<Logs>('docker_container_logs', { container_id: coloured, tail: 3000 });
    expect(out.count).toBe(3000);
    expect(inner(out)[0]).toBe(' line 0');
    expect(out.left_out).toBeUndefined();
    expect(out.note).toBeUndefined();
  });

  it('returns the newest lines that fit, and says how many of those asked for it left out and how to read them', async () => {
    const out = await callOk<Logs>('docker_container_logs', { container_id: wide, tail: 1000 });
    expect(out.left_out).toBeGreaterThan(0);
    expect(out.count + (out.left_out as number)).toBe(1000);
    expect(inner(out)).toHaveLength(out.count);
    expect(inner(out).at(-1)).toStartWith('L999 ');
    expect(out.note).toContain(`kept the newest ${out.count} of 1000 lines`);
    expect(out.note).toContain('until');
    // The result fits: the pipeline's cap did not have to cut it behind the figures' back.
    expect(out.truncated).toBeUndefined();
  });
});

describe('grep matches the message, with or without timestamps', () => {
  it('finds /^ERROR/ with timestamps as without, and never matches the timestamp itself', async () => {
    const plain = await callOk<Logs>('docker_container_logs', { container_id: stamped, grep: '/^ERROR/' });
    const withTime = await callOk<Logs>('docker_container_logs', {
      container_id: stamped,
      grep: '/^ERROR/',
      timestamps: true,
    });
    expect(plain.count).toBe(2);
    expect(withTime.count).toBe(2);
    expect(inner(withTime)[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ ERROR one$/);
    const year = `${new Date().getUTCFullYear()}-`;
    const byYear = await callOk<Logs>('docker_container_logs', {
      container_id: stamped,
      grep: year,
      timestamps: true,
    });
    expect(byYear.count).toBe(0);
  });
});

describe('a line over 16 KiB', () => {
  it('is said to be cut, and grep is said to have seen only its start', async () => {
    const miss = await callOk<Logs>('docker_container_logs', { container_id: big, grep: 'BIGEND' });
    expect(miss.count).toBe(0);
    expect(miss.note).toContain('1 line was over 16 KiB and cut there');
    expect(miss.note).toContain('grep matched only the first 16 KiB of it');
    const all = await callOk<Logs>('docker_container_logs', { container_id: big });
    expect(inner(all)[1]).toEndWith('…');
    expect(all.note).toContain('cut there (ending …)');
  });

  it('docker_wait_container says so when its pattern was not found', async () => {
    const out = await callOk<Waited>('docker_wait_container', {
      container_id: big,
      pattern: 'BIGEND',
      timeout: 2,
    });
    expect(out.met).toBe(false);
    expect(out.note).toContain('pattern matched only the first 16 KiB of it');
  });
});

describe('docker_wait_container looks back over the run', () => {
  it('finds a line followed by more than 1000 others, and says how far back it looks when not found', async () => {
    const id = await finished('echo READY-MARK; i=0; while [ $i -lt 3000 ]; do echo n$i; i=$((i+1)); done');
    const out = await callOk<Waited>('docker_wait_container', { container_id: id, pattern: 'READY-MARK' });
    expect(out).toMatchObject({ met: true, matched_line: 'READY-MARK' });
    const none = await callOk<Waited>('docker_wait_container', {
      container_id: id,
      pattern: 'never printed',
      timeout: 1,
    });
    expect(none.met).toBe(false);
    expect(none.note).toContain('looked back over the newest 10000 lines of this run');
  });

  it('answers removed with the exit code when the container is removed while it waits', async () => {
    // A race (the engine's wait answers, then the container is gone before the inspect after it):
    // several at once, as it came up about one time in three.
    const ids = await Promise.all(Array.from({ length: 4 }, () => makeContainer({ cmd: ['sleep', '300'] })));
    const waits = ids.map(({ id }) =>
      callOk<Waited>('docker_wait_container', { container_id: id, timeout: 20 }),
    );
    await Bun.sleep(1500);
    await Promise.all(ids.map(({ id }) => testDocker().getContainer(id).remove({ force: true })));
    for (const out of await Promise.all(waits)) {
      expect(out.met).toBe(true);
      expect(out.exit_code).toBe(137);
      expect(['removed', 'removing', 'exited']).toContain(out.state);
    }
  });
});

describe('quiet empty answers get a reason', () => {
  it('refuses a since in the future, as docker_events does', async () => {
    const err = await callErr('docker_container_logs', {
      container_id: stamped,
      since: '2099-01-01T00:00:00Z',
    });
    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("'since'");
    expect(err.message).toContain('in the future');
  });

  it('refuses a time the engine cannot hold, naming the field, instead of a server error', async () => {
    const err = await callErr('docker_container_logs', {
      container_id: stamped,
      since: '99999999999999999999',
    });
    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("invalid argument 'since'");
  });

  it('says a TTY container has one stream when one is left out', async () => {
    const id = await finished('echo tty-line', { tty: true });
    const out = await callOk<Logs>('docker_container_logs', { container_id: id, stdout: false });
    expect(out.count).toBe(0);
    expect(out.note).toContain('a TTY container has one stream');
  });

  it('says one stream was read among the newest entries of both when it finds fewer than tail', async () => {
    const id = await finished(
      'echo early-err >&2; sleep 1; i=0; while [ $i -lt 300 ]; do echo o$i; i=$((i+1)); done',
    );
    const out = await callOk<Logs>('docker_container_logs', { container_id: id, stdout: false, tail: 5 });
    expect(out.count).toBe(0);
    expect(out.note).toContain('read stderr among the newest 100 entries of both streams');
  });

  it('answers conflict, not a retry, for a container whose log driver keeps nothing', async () => {
    const c = await testDocker().createContainer({
      Image: TEST_IMAGE,
      Cmd: ['true'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'none', Config: {} } },
    });
    const err = await callErr('docker_container_logs', { container_id: c.id });
    expect(err.kind).toBe('conflict');
    expect(err.hint).toContain('log driver keeps no logs');
  });
});

describe('docker_events', () => {
  it('says when max_events was lowered to --max-list-results', async () => {
    const out = await callOk<{ count: number; note?: string }>(
      'docker_events',
      { since: '10m', until: '0s', max_events: 5000 },
      { limits: { maxListResults: 20 } },
    );
    expect(out.note).toBe('max_events 5000 lowered to 20 (--max-list-results)');
    const asked = await callOk<{ note?: string }>('docker_events', {
      since: '10m',
      until: '0s',
      max_events: 5,
    });
    expect(asked.note).toBeUndefined();
  });
});
