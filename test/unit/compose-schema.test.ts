import { describe, expect, it } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadProject } from '../../src/docker/compose/load.ts';
import { composeValidator, keyPath, validateFile } from '../../src/docker/compose/validate.ts';

const FIXTURES = join(import.meta.dir, '../../../shared/fixtures/compose/awesome-compose');
const project = (content: string) =>
  loadProject({ content, project_name: 'p' }, { home: '/root', read: async () => undefined });
const messageOf = (p: Promise<unknown>) =>
  p.then(
    () => '',
    (e: Error) => e.message,
  );

describe('validation against the Compose Specification schema', () => {
  it('compiles the vendored schema once, on first use', async () => {
    const a = composeValidator();
    expect(composeValidator()).toBe(a);
    const { check } = await a;
    expect(check({ services: { web: { image: 'x', ports: ['8080:80'] } } })).toEqual([]);
  });

  it('writes key paths as a reader spells them', () => {
    expect(keyPath('/services/web/ports/0')).toBe('services.web.ports[0]');
    expect(keyPath('/services/web/labels/a~1b c')).toBe('services.web.labels."a/b c"');
    expect(keyPath('')).toBe('top level');
  });

  it('names the file and the key path of a port in no accepted form, and how to write it', async () => {
    const m = await messageOf(project('services:\n  web:\n    image: x\n    ports:\n      - bogus: 1\n'));
    expect(m).toBe(
      '<content>: does not follow the Compose Specification: services.web.ports[0]: not in any accepted form (unknown key "bogus") — use "8080:80", "127.0.0.1:8080:80/udp" or the long form {target: 80, published: "8080"}',
    );
  });

  it('suggests the key meant by a typo, at the top level and inside a service', async () => {
    expect(await messageOf(project('servces: {}\n'))).toContain(
      'top level: unknown key "servces" — did you mean "services"?',
    );
    expect(
      await messageOf(project('services:\n  web:\n    image: x\n    healthcheck:\n      intervl: 1s\n')),
    ).toContain('services.web.healthcheck: unknown key "intervl" — did you mean "interval"?');
    expect(await messageOf(project('services:\n  web:\n    image: x\n    restrat: always\n'))).toContain(
      'services.web: unknown key "restrat" — did you mean "restart"?',
    );
  });

  it('says which value inside a long form is wrong (depends_on condition)', async () => {
    const m = await messageOf(
      project('services:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: healthy\n'),
    );
    expect(m).toContain(
      'services.web.depends_on: not in any accepted form (db.condition: must be one of "service_started", "service_healthy", "service_completed_successfully")',
    );
  });

  it('lists every faulty key of a file in one answer, each once', async () => {
    const m = await messageOf(
      project('services:\n  web:\n    image: x\n    environment: 5\n    command: {a: 1}\n    ports: [[1]]\n'),
    );
    expect(m).toContain('services.web.environment: not in any accepted form — use a mapping (KEY: value)');
    expect(m).toContain('services.web.command: not in any accepted form — use a string or a list of strings');
    expect(m).toContain('services.web.ports[0]: ');
    expect(m.match(/services\.web\.environment/g)).toHaveLength(1);
  });

  it('refuses an invalid service name', async () => {
    expect(await messageOf(project('services:\n  "my web":\n    image: x\n'))).toContain(
      'services: invalid service name "my web" — service names use letters, digits',
    );
  });

  it('checks every file of a project, naming the one at fault', async () => {
    const files: Record<string, string> = {
      '/p/compose.yaml': 'services:\n  web:\n    image: x\n',
      '/p/compose.override.yaml': 'services:\n  web:\n    ports: {a: 1}\n',
    };
    const m = await messageOf(
      loadProject({ project_dir: '/p' }, { home: '/root', read: async (p) => files[p] }),
    );
    expect(m).toStartWith(
      '/p/compose.override.yaml: does not follow the Compose Specification: services.web.ports',
    );
  });

  it('validates after interpolation, so a variable may hold a number', async () => {
    const p = await loadProject(
      {
        content: 'services:\n  web:\n    image: x\n    deploy:\n      replicas: $N\n',
        project_name: 'p',
        env: { N: '2' },
      },
      { home: '/root', read: async () => undefined },
    );
    expect(p.services.web?.deploy).toEqual({ replicas: 2 });
  });

  it('accepts every real-world project of the fixtures', async () => {
    const dirs = readdirSync(FIXTURES).filter((d) => statSync(join(FIXTURES, d)).isDirectory());
    expect(dirs.length).toBeGreaterThan(20);
    for (const d of dirs) {
      const files = readdirSync(join(FIXTURES, d)).filter((f) => /^(docker-)?compose\.ya?ml$/.test(f));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const { parse } = await import('yaml');
        const doc = parse(readFileSync(join(FIXTURES, d, f), 'utf8'), { merge: true });
        await validateFile(doc, `${d}/${f}`);
      }
    }
  });
});
