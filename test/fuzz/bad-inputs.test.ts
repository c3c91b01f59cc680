/**
 * The bad-input matrix of docs/TESTING.md, one named case per class, through the real pipeline
 * against a recording engine stand-in: what the caller gets back and what (if anything) the engine
 * saw. The fuzzers in this folder cover the same classes with generated values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyTool } from '../../src/core/tool.ts';
import { TOOLSETS } from '../../src/core/toolsets.ts';
import { runPipeline } from '../../src/pipeline/run.ts';
import { catalogue } from '../../src/tools/index.ts';
import { expectActionableError } from '../helpers/fuzz.ts';
import { pipelineEnv } from '../helpers/pipeline.ts';
import { type RecordingEngine, recordingEngine } from '../helpers/recording-engine.ts';

let dir: string;
let rec: RecordingEngine;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h8-matrix-'));
  // One running container, so a call reaches the request it would make of it (the guard looks it up first).
  const c1 = {
    Id: 'c1',
    Name: '/c1',
    State: { Running: true, Status: 'running' },
    HostConfig: {},
    Mounts: [],
  };
  rec = await recordingEngine(join(dir, 'e.sock'), { containers: { c1 } });
});
afterAll(async () => {
  await rec.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(name: string, args: unknown) {
  rec.clear();
  const tool = catalogue.find((t) => t.name === name) as AnyTool;
  return runPipeline(
    tool,
    args,
    pipelineEnv({ engine: rec.engineHandle(), profile: { toolsets: TOOLSETS } }),
  );
}

/** Refused before the engine, with this kind, the message naming `field` when given. */
async function expectRefused(name: string, args: unknown, kind: string, field?: string) {
  const out = await run(name, args);
  if (out.ok) throw new Error(`${name} accepted ${JSON.stringify(args).slice(0, 200)}`);
  expect(out.error.kind as string).toBe(kind);
  expectActionableError(out.error);
  if (field) expect(out.error.message).toContain(`'${field}`);
  expect(rec.requests).toHaveLength(0);
}

const created = () =>
  JSON.parse(rec.calls().find((r) => r.path.startsWith('/containers/create'))?.body ?? '{}');

describe('bad-input matrix', () => {
  it('command injection in a name or reference is refused, naming the field', async () => {
    for (const bad of ['; rm -rf /', '$(reboot)', '`id`', 'a|b', 'a&&b', 'a\nb'])
      await expectRefused('docker_stop_container', { container_id: bad }, 'invalid_argument', 'container_id');
    for (const tool of ['docker_pull_image', 'docker_create_container', 'docker_run_container'])
      await expectRefused(tool, { image: 'busybox; reboot' }, 'invalid_argument', 'image');
    await expectRefused('docker_create_network', { name: '$(id)' }, 'invalid_argument', 'name');
  });

  it('shell text in an exec command runs only as the container’s own /bin/sh -c argument', async () => {
    const out = await run('docker_exec_command', { container_id: 'c1', command: '; rm -rf / #' });
    expect(out.ok ? 'ok' : out.error.kind).toBe('not_found'); // the stand-in makes no exec
    const exec = rec.calls().find((r) => r.path.startsWith('/containers/c1/exec'));
    expect(JSON.parse(exec?.body ?? '{}').Cmd).toEqual(['/bin/sh', '-c', '; rm -rf / #']);
  });

  it('path traversal in references and container paths is refused before the engine', async () => {
    for (const bad of ['../images/x', '..%2F..%2Fimages', '..\\..\\x', '/../x'])
      await expectRefused(
        'docker_inspect_container',
        { container_id: bad },
        'invalid_argument',
        'container_id',
      );
    for (const bad of ['../../containers/x/json', 'a/../b', '..%2Fx', 'a\\..\\b'])
      await expectRefused('docker_inspect_image', { image: bad }, 'invalid_argument', 'image');
    // A container path is checked by the tool once connected: only the connection probe reaches the engine.
    const out = await run('docker_copy_from_container', { container_id: 'c', path: '../../etc/shadow' });
    expect(out.ok ? 'ok' : out.error.message).toContain("'path'");
    expect(rec.calls()).toHaveLength(0);
  });

  it('privileged containers, host namespaces, dangerous capabilities and devices are refused', async () => {
    await expectRefused('docker_create_container', { image: 'x', privileged: true }, 'policy_denied');
    await expectRefused('docker_create_container', { image: 'x', pid_mode: 'host' }, 'policy_denied');
    await expectRefused('docker_run_container', { image: 'x', network_mode: 'host' }, 'policy_denied');
    await expectRefused(
      'docker_create_container',
      { image: 'x', cap_add: ['cap_sys_admin'] },
      'policy_denied',
    );
    await expectRefused('docker_create_container', { image: 'x', devices: ['/dev/sda'] }, 'policy_denied');
    await expectRefused(
      'docker_create_container',
      { image: 'x', security_opt: ['seccomp=unconfined'] },
      'policy_denied',
    );
    await expectRefused(
      'docker_exec_command',
      { container_id: 'c', command: 'id', privileged: true },
      'policy_denied',
    );
  });

  it('host mounts of sensitive paths are refused; relative and ~ sources are not absolute', async () => {
    for (const v of ['/:/host', '/etc:/e', '/var/run/docker.sock:/s', '//etc/./:/e', '/tmp/../root:/r'])
      await expectRefused('docker_run_container', { image: 'x', volumes: [v] }, 'policy_denied');
    await expectRefused(
      'docker_create_volume',
      { driver_opts: { type: 'none', o: 'bind', device: '/etc' } },
      'policy_denied',
    );
    await expectRefused('docker_build_image', { path: '/root' }, 'policy_denied');
    await expectRefused('docker_run_container', { image: 'x', volumes: ['~/.ssh:/k'] }, 'invalid_argument');
    await expectRefused('docker_run_container', { image: 'x', volumes: ['./etc:/k'] }, 'invalid_argument');
  });

  it('environment names with = or NUL are refused; values pass to the container as given', async () => {
    await expectRefused(
      'docker_create_container',
      { image: 'x', environment: { 'A=B': 'c' } },
      'invalid_argument',
      'environment',
    );
    await expectRefused(
      'docker_create_container',
      { image: 'x', environment: ['=x'] },
      'invalid_argument',
      'environment',
    );
    await expectRefused(
      'docker_create_container',
      { image: 'x', environment: ['A\u0000=1'] },
      'invalid_argument',
      'environment',
    );
    await expectRefused(
      'docker_exec_command',
      { container_id: 'c', command: 'id', environment: { 'PATH=/evil:': 'x' } },
      'invalid_argument',
      'environment',
    );
    await run('docker_create_container', { image: 'x', environment: { LD_PRELOAD: '/x.so', MULTI: 'a\nb' } });
    expect(created().Env).toEqual(['LD_PRELOAD=/x.so', 'MULTI=a\nb']); // the container's own business
  });

  it('oversized names and values are refused before the engine without echoing them', async () => {
    const huge = 'a'.repeat(10 * 1024 * 1024);
    await expectRefused('docker_create_container', { image: 'x', name: huge }, 'invalid_argument', 'name');
    await expectRefused(
      'docker_rename_container',
      { container_id: 'c', new_name: 'b'.repeat(300) },
      'invalid_argument',
      'new_name',
    );
    await expectRefused(
      'docker_inspect_container',
      { container_id: 'c'.repeat(257) },
      'invalid_argument',
      'container_id',
    );
    await expectRefused('docker_create_volume', { name: 'v'.repeat(256) }, 'invalid_argument', 'name');
  });

  it('ports 0, 65536 and -1: out-of-range ports are refused, host port 0 means any free port', async () => {
    for (const ports of [
      { '80': 65536 },
      { '80': -1 },
      { '80': '127.0.0.1:70000' },
      { '0': 8080 },
      { '65536/tcp': 1 },
      { '-1': 80 },
    ])
      await expectRefused('docker_create_container', { image: 'x', ports }, 'invalid_argument', 'ports');
    await run('docker_create_container', { image: 'x', ports: { '80/tcp': 0, '81': null } });
    expect(created().HostConfig.PortBindings).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }],
      '81/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
  });

  it('wrong types, unknown fields and non-object arguments are refused, naming the field', async () => {
    await expectRefused('docker_stop_container', { container_id: 42 }, 'invalid_argument', 'container_id');
    await expectRefused(
      'docker_stop_container',
      { container_id: 'c', timeout: -5 },
      'invalid_argument',
      'timeout',
    );
    await expectRefused(
      'docker_stop_container',
      { container_id: 'c', timeout: 2 ** 53 },
      'invalid_argument',
      'timeout',
    );
    await expectRefused(
      'docker_stop_container',
      { container_id: 'c', force: true },
      'invalid_argument',
      'force',
    );
    await expectRefused(
      'docker_list_containers',
      JSON.parse('{"__proto__":{"all":true}}'),
      'invalid_argument',
      '__proto__',
    );
    const out = await run('docker_list_containers', [1, 2]);
    expect(out.ok ? 'ok' : out.error.message).toBe('arguments must be a JSON object');
  });

  it('unicode bidi, zero-width and NUL characters in references are refused', async () => {
    for (const bad of ['abc\u202Egnp', 'zero\u200Bwidth', 'nul\u0000', '\uFEFFbom'])
      await expectRefused(
        'docker_start_container',
        { container_id: bad },
        'invalid_argument',
        'container_id',
      );
  });
});
