/**
 * docker_stack_* on the test Swarm (test/helpers/swarm-cluster.ts; never the shared engine): the
 * fixture stack (five services, two overlay networks, a secret and a config from files) deployed over
 * both nodes and checked with the docker CLI, a redeploy updating services in place, prune, a refused
 * stack leaving nothing behind, and a stack the docker CLI deployed seen and removed by us.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_IMAGE, testDocker } from '../helpers/engine.ts';
import { callErr } from '../helpers/pipeline.ts';
import { withSwarm } from '../helpers/swarm.ts';

const FIXTURE = join(import.meta.dir, '../fixtures/stack');
const swarm = withSwarm();
// Project files live under the temp dir: an allowed root of the default host-path rule.
const work = mkdtempSync(join(tmpdir(), 'mcpt-stack-'));
const project = join(work, 'stack');

beforeAll(() => cpSync(FIXTURE, project, { recursive: true }));

afterAll(async () => {
  // What a failed test left on the shared cluster: this file's stacks, by their namespace label.
  for (const stack of ['alpha', 'clistack', 'refused', 'ipam'])
    try {
      swarm().cli(['stack', 'rm', stack]);
    } catch {
      // not there
    }
  rmSync(work, { recursive: true, force: true });
}, 60_000);

const deploy = (stack: string, extra: Record<string, unknown> = {}) =>
  swarm().ok<{ stack: string; steps: string[]; ignored?: string[] }>('docker_stack_deploy', {
    project_dir: project,
    project_name: stack,
    env: { IMAGE: TEST_IMAGE },
    ...extra,
  });

const cli = (...args: string[]) => swarm().cli(args);
const lines = (s: string) => s.trim().split('\n').filter(Boolean).sort();

async function until(what: string, ok: () => boolean, ms = 60_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(250);
  }
}

describe('docker_stack_deploy', () => {
  it('deploys the fixture as docker stack deploy would: <stack>_<name> objects with the namespace label, seen by the CLI', async () => {
    const r = await deploy('alpha');
    expect(r.steps).toEqual([
      'network alpha_back created',
      'network alpha_front created',
      'secret alpha_api_key created',
      'config alpha_app_conf created',
      'service alpha_api created',
      'service alpha_cache created',
      'service alpha_db created',
      'service alpha_web created',
      'service alpha_worker created',
    ]);
    expect(cli('stack', 'ls', '--format', '{{.Name}} {{.Services}}')).toContain('alpha 5');
    expect(lines(cli('stack', 'services', 'alpha', '--format', '{{.Name}}'))).toEqual([
      'alpha_api',
      'alpha_cache',
      'alpha_db',
      'alpha_web',
      'alpha_worker',
    ]);
    expect(
      cli(
        'secret',
        'inspect',
        'alpha_api_key',
        '--format',
        '{{index .Spec.Labels "com.docker.stack.namespace"}}',
      ).trim(),
    ).toBe('alpha');
    expect(cli('network', 'inspect', 'alpha_front', '--format', '{{.Driver}} {{.Scope}}').trim()).toBe(
      'overlay swarm',
    );
    expect(
      cli('service', 'inspect', 'alpha_api', '--format', '{{.Spec.Mode.Replicated.Replicas}}').trim(),
    ).toBe('2');
    // The web task reads the secret and the config where the file says: the CLI shows its output.
    await until('web to print its secret and config', () => {
      try {
        const out = cli('service', 'logs', '--raw', 'alpha_web');
        return out.includes('not-a-real-key-5e3c') && out.includes('greeting=hello');
      } catch {
        return false;
      }
    });
    const rows = await swarm().ok<{ services: { name: string; replicas: string; mode: string }[] }>(
      'docker_stack_services',
      { stack: 'alpha' },
    );
    expect(rows.services.map((s) => s.name)).toEqual([
      'alpha_api',
      'alpha_cache',
      'alpha_db',
      'alpha_web',
      'alpha_worker',
    ]);
    const full = await swarm().ok<{ services: { Spec: { Labels: Record<string, string> } }[] }>(
      'docker_stack_services',
      { stack: 'alpha', full: true },
    );
    expect(full.services.map((s) => s.Spec.Labels['com.docker.stack.namespace'])).toEqual(
      Array(5).fill('alpha'),
    );
    await until('all replicas running', () =>
      cli('stack', 'services', 'alpha', '--format', '{{.Replicas}}')
        .trim()
        .split('\n')
        .every((x) => {
          const [a, b] = x.split('/');
          return a === b;
        }),
    );
    const ps = await swarm().ok<{ tasks: { name: string; state: string; node?: string }[] }>(
      'docker_stack_ps',
      { stack: 'alpha', desired_state: 'running' },
    );
    expect(ps.tasks.map((t) => t.name).sort()).toEqual([
      'alpha_api.1',
      'alpha_api.2',
      'alpha_cache.1',
      'alpha_db.1',
      'alpha_web.1',
      'alpha_worker.1',
    ]);
    expect(ps.tasks.every((t) => t.state === 'running' && t.node)).toBe(true);
  }, 120_000);

  it('updates services in place on a second deploy: same IDs, a new version, scaled replicas kept', async () => {
    const ids = () =>
      lines(
        cli(
          'service',
          'ls',
          '--filter',
          'label=com.docker.stack.namespace=alpha',
          '--format',
          '{{.ID}} {{.Name}}',
        ),
      );
    const before = ids();
    const version = Number(cli('service', 'inspect', 'alpha_worker', '--format', '{{.Version.Index}}'));
    cli('service', 'scale', '--detach', 'alpha_worker=3');
    const r = await deploy('alpha', { env: { IMAGE: TEST_IMAGE, MODE: 'changed' } });
    expect(r.steps).toContain('service alpha_api updated');
    expect(r.steps.some((s) => s.includes('created'))).toBe(false);
    expect(ids()).toEqual(before);
    expect(
      Number(cli('service', 'inspect', 'alpha_worker', '--format', '{{.Version.Index}}')),
    ).toBeGreaterThan(version);
    // worker's file sets no replicas: the count scaled by hand stays; api's file says 2.
    expect(
      cli('service', 'inspect', 'alpha_worker', '--format', '{{.Spec.Mode.Replicated.Replicas}}').trim(),
    ).toBe('3');
    expect(
      cli('service', 'inspect', 'alpha_api', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}'),
    ).toContain('MODE=changed');
  }, 60_000);

  it('keeps services gone from the file unless prune is set, and prune removes them', async () => {
    const smaller = join(work, 'smaller');
    cpSync(project, smaller, { recursive: true });
    writeFileSync(
      join(smaller, 'compose.yaml'),
      `services:\n  api:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n`,
    );
    const args = { project_dir: smaller, project_name: 'alpha' };
    const kept = await swarm().ok<{ steps: string[] }>('docker_stack_deploy', args);
    expect(kept.steps).toEqual(['network alpha_default created', 'service alpha_api updated']);
    expect(lines(cli('stack', 'services', 'alpha', '--format', '{{.Name}}'))).toHaveLength(5);
    // prune escalates to destructive: refused where only moderate tools are allowed.
    const refused = await swarm().err(
      'docker_stack_deploy',
      { ...args, prune: true },
      { profile: { allowDestructive: false } },
    );
    expect(refused.kind).toBe('policy_denied');
    expect(lines(cli('stack', 'services', 'alpha', '--format', '{{.Name}}'))).toHaveLength(5);
    const pruned = await swarm().ok<{ steps: string[] }>('docker_stack_deploy', { ...args, prune: true });
    expect(pruned.steps).toEqual([
      'service alpha_api updated',
      'service alpha_cache removed',
      'service alpha_db removed',
      'service alpha_web removed',
      'service alpha_worker removed',
    ]);
    expect(lines(cli('stack', 'services', 'alpha', '--format', '{{.Name}}'))).toEqual(['alpha_api']);
  }, 60_000);

  /** A deploy of the fixture with `override` as compose.override.yaml, which must fail: its error. */
  const refusedDeploy = (override: string) => {
    const bad = mkdtempSync(join(work, 'bad-'));
    cpSync(project, bad, { recursive: true });
    writeFileSync(join(bad, 'compose.override.yaml'), override);
    return swarm().err('docker_stack_deploy', {
      project_dir: bad,
      project_name: 'refused',
      env: { IMAGE: TEST_IMAGE },
    });
  };
  const nothingDeployed = () => {
    for (const kind of ['service', 'network', 'secret', 'config'])
      expect(cli(kind, 'ls', '--filter', 'label=com.docker.stack.namespace=refused', '-q').trim()).toBe('');
  };

  // The last service in name order is the refused one, so a deploy that checked as it went would
  // already have made the networks, the secret, the config and four services.
  for (const [what, override, key] of [
    ['a host path mount', 'services:\n  worker:\n    volumes: ["/etc:/host-etc"]\n', 'volumes'],
    ['an added capability', 'services:\n  worker:\n    cap_add: [SYS_ADMIN]\n', 'cap_add'],
  ] as const)
    it(`deploys nothing when one service would be refused by the policy (${what})`, async () => {
      const e = await refusedDeploy(override);
      expect(e.kind).toBe('policy_denied');
      // The Compose service and key, as Compose up names them (after the engine's name: two are configured).
      expect(e.message).toContain(`service "worker" (key ${key}): `);
      expect(e.message).toContain('nothing was deployed');
      nothingDeployed();
    }, 60_000);

  it('gives a network the ipam subnet it declares', async () => {
    const dir = mkdtempSync(join(work, 'ipam-'));
    cpSync(project, dir, { recursive: true });
    writeFileSync(
      join(dir, 'compose.override.yaml'),
      'networks:\n  back:\n    ipam:\n      config:\n        - subnet: 10.214.7.0/24\n',
    );
    try {
      await swarm().ok('docker_stack_deploy', {
        project_dir: dir,
        project_name: 'ipam',
        env: { IMAGE: TEST_IMAGE },
      });
      const subnet = cli(
        'network',
        'inspect',
        'ipam_back',
        '--format',
        '{{range .IPAM.Config}}{{.Subnet}}{{end}}',
      );
      expect(subnet.trim()).toBe('10.214.7.0/24');
    } finally {
      cli('stack', 'rm', 'ipam');
    }
  }, 120_000);

  it('deploys nothing when a network asks for a public subnet', async () => {
    const e = await refusedDeploy(
      'networks:\n  back:\n    ipam:\n      config:\n        - subnet: 198.51.100.0/24\n',
    );
    expect(e.kind).toBe('policy_denied');
    expect(e.message).toContain(`network "back" ipam.config[0].subnet: '198.51.100.0/24' is refused`);
    expect(e.message).toContain('nothing was deployed');
    nothingDeployed();
  }, 60_000);

  for (const [what, override, says] of [
    ['a network', 'networks:\n  back:\n    name: "x/../../containers/json#"\n', 'network "back"'],
    ['a secret', 'secrets:\n  api_key:\n    name: "../../swarm"\n', 'secret "api_key"'],
  ] as const)
    it(`deploys nothing when ${what} has a name the engine would not take`, async () => {
      const e = await refusedDeploy(override);
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toContain(`${says} is named `);
      expect(e.message).toContain('nothing was deployed');
      nothingDeployed();
    }, 60_000);

  it('says what to do on an engine that is not in a swarm', async () => {
    const e = await callErr('docker_stack_list', {}, { profile: { toolsets: ['swarm'] } });
    expect(e.kind).toBe('conflict');
    expect(e.message).toContain('not in a swarm');
    expect(e.hint).toContain('docker_swarm_init');
    // A deploy there is refused before anything is made: no network of the stack on that engine.
    const stack = `mcpt${Date.now().toString(36)}`;
    const d = await callErr(
      'docker_stack_deploy',
      { project_dir: project, project_name: stack, env: { IMAGE: TEST_IMAGE } },
      { profile: { toolsets: ['swarm'] } },
    );
    expect(d.kind).toBe('conflict');
    expect(d.message).toContain('not in a swarm');
    const nets = await testDocker().listNetworks({ filters: JSON.stringify({ name: [stack] }) });
    expect(nets).toEqual([]);
  });
});

describe('stacks the docker CLI deployed', () => {
  it('are listed, shown and removed by our tools, and then gone for the CLI too', async () => {
    swarm().cli(['stack', 'deploy', '-c', 'compose.yaml', 'clistack'], { cwd: project });
    const list = await swarm().ok<{ stacks: { name: string; services: number }[] }>('docker_stack_list', {});
    expect(list.stacks).toContainEqual({ name: 'clistack', services: 5 });
    const svc = await swarm().ok<{ services: { name: string; image: string }[] }>('docker_stack_services', {
      stack: 'clistack',
    });
    expect(svc.services).toHaveLength(5);
    expect(svc.services.every((s) => s.image === TEST_IMAGE)).toBe(true);
    await until('clistack tasks', () => cli('stack', 'ps', 'clistack', '-q').trim().split('\n').length >= 6);
    const ps = await swarm().ok<{ tasks: { name: string }[] }>('docker_stack_ps', { stack: 'clistack' });
    expect(ps.tasks.length).toBeGreaterThanOrEqual(6);
    const removed = await swarm().ok<{ removed: boolean; steps: string[] }>('docker_stack_remove', {
      stack: 'clistack',
    });
    expect(removed.removed).toBe(true);
    expect(removed.steps).toContain('secret clistack_api_key removed');
    expect(removed.steps).toContain('network clistack_back removed');
    expect(cli('stack', 'ls', '--format', '{{.Name}}')).not.toContain('clistack');
    const left = (kind: string) =>
      cli(kind, 'ls', '--filter', 'label=com.docker.stack.namespace=clistack', '-q').trim();
    for (const kind of ['service', 'secret', 'config']) expect(left(kind)).toBe('');
    // The cluster drops the networks at once; this node's copies go as the removed tasks' containers stop.
    await until('the node to drop its copies of the stack networks', () => left('network') === '', 30_000);
    const again = await swarm().ok<{ removed: boolean }>('docker_stack_remove', { stack: 'clistack' });
    expect(again.removed).toBe(false);
  }, 120_000);

  it('removes a stack we deployed, and names the stacks there are when one is missing', async () => {
    const missing = await swarm().err('docker_stack_services', { stack: 'alpah' });
    expect(missing.kind).toBe('not_found');
    expect(missing.hint).toContain('alpha');
    await swarm().ok('docker_stack_remove', { stack: 'alpha' });
    expect(cli('stack', 'ls', '--format', '{{.Name}}').trim()).toBe('');
  }, 60_000);
});
