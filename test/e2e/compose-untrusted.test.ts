/**
 * docker_compose_config of the compiled binary for a read-only remote caller and over stdio: a `.env`
 * whose lines double each other is refused at once and the server stays small; values interpolated
 * from secret-named variables (`.env`, the server's own environment) come back as `***`.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose interpolation, not templates.
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, structured } from '../helpers/client.ts';
import { call, killSpawned, serveHttp } from '../helpers/http-binary.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-compose-untrusted-'));
afterAll(() => {
  killSpawned();
  rmSync(dir, { recursive: true, force: true });
});

const rssKiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);

describe('docker_compose_config for a read-only HTTP caller', () => {
  it('refuses a doubling .env at once, naming the file, variable and limit, and the server stays small', async () => {
    const project = mkdtempSync(join(dir, 'bomb-'));
    const lines = ['A0=xxxxxxxxxx', ...Array.from({ length: 24 }, (_, i) => `A${i + 1}=$A${i}$A${i}`)];
    writeFileSync(join(project, '.env'), `${lines.join('\n')}\n`);
    const served = await serveHttp(['--read-only']);
    const content = 'services:\n  a:\n    image: x\n    command: ["${A24}"]\n';
    const started = performance.now();
    const res = await call(served.base, 'docker_compose_config', {
      project_dir: project,
      content,
      project_name: 'mcpt-bomb',
    });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(res.text).toContain('invalid_argument');
    expect(res.text).toContain(`${project}/.env: A19: interpolating A18 makes a value over 4 MiB`);
    expect(rssKiB(served.proc.pid)).toBeLessThan(400 * 1024);
  });

  it('shows values of secret-named .env variables as ***', async () => {
    const project = mkdtempSync(join(dir, 'secrets-'));
    writeFileSync(join(project, '.env'), 'DB_PASSWORD=hunter2\nAPI_TOKEN=tok-abc\n');
    const served = await serveHttp(['--read-only']);
    const res = await call(served.base, 'docker_compose_config', {
      project_dir: project,
      content:
        'services:\n  a:\n    image: x\n    command: ["${DB_PASSWORD}", "${API_TOKEN}"]\n    environment: [DB_PASSWORD]\n',
      project_name: 'mcpt-secrets',
    });
    expect(res.status).toBe(200);
    expect(res.text).not.toMatch(/hunter2|tok-abc/);
    expect(res.text).toContain('"command":["***","***"]');
  });
});

describe('docker_compose_config over stdio', () => {
  it("shows the server's own secret-named variables as ***", async () => {
    const server = await startServer({ args: ['--read-only'], env: { GITHUB_TOKEN: 'ghp_mcptsecret' } });
    try {
      const out = structured<{ services: { a: { command: string[] } } }>(
        await server.client.callTool('docker_compose_config', {
          content: 'services:\n  a:\n    image: x\n    command: ["$GITHUB_TOKEN", "$HOME"]\n',
          project_name: 'mcpt-stdio',
        }),
      );
      expect(out.services.a.command).toEqual(['***', process.env.HOME as string]);
    } finally {
      await server.close();
    }
  });
});

const hwmKiB = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);

describe('YAML aliases and secrets in what compose shows and makes', () => {
  it('refuses content whose aliases expand past 8 MiB at once, and the server stays small', async () => {
    const served = await serveHttp(['--read-only']);
    const big = 'A'.repeat(120_000);
    const content = `x-big: &big "${big}"\nservices:\n  s:\n    image: x\n    command: [${Array(300).fill('*big').join(',')}]\n`;
    const started = performance.now();
    const res = await call(served.base, 'docker_compose_config', { content, project_name: 'mcpt-alias' });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(res.text).toContain('<content>: expands to more than 8 MiB once its YAML aliases are resolved');
    expect(hwmKiB(served.proc.pid)).toBeLessThan(150 * 1024);
  });

  it('masks the piece of a secret the short volume syntax splits off', async () => {
    const served = await serveHttp(['--read-only']);
    const res = await call(served.base, 'docker_compose_config', {
      content: 'services:\n  s:\n    image: x\n    volumes: ["${API_TOKEN}:/x"]\n',
      project_name: 'mcpt-piece',
      env: { API_TOKEN: 'Zq9 sekr:et7' },
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain('volume \\"***\\"');
    expect(res.text).not.toContain('sekr');
  });

  it('refuses to make a container named with a secret, and makes nothing', async () => {
    const server = await startServer({});
    try {
      const res = await server.client.callTool('docker_compose_up', {
        content:
          'services:\n  s:\n    image: mcp-test/busybox:latest\n    network_mode: none\n    container_name: mcpt-c-${DB_PASSWORD}\n',
        project_name: 'mcpt-secret-name',
        env: { DB_PASSWORD: 'Pw0rdXYZ99' },
      });
      const text = JSON.stringify(res);
      expect(text).toContain('service \\"s\\": container_name holds the value of a secret-named variable');
      expect(text).not.toContain('Pw0rdXYZ99');
    } finally {
      // Without the refusal the container exists: the test leaves nothing either way.
      await server.client
        .callTool('docker_compose_down', { project_name: 'mcpt-secret-name' })
        .catch(() => undefined);
      await server.close();
    }
  });
});

describe('secrets in the errors of compose tools', () => {
  const secretDir = () => {
    const project = mkdtempSync(join(dir, 'errs-'));
    writeFileSync(join(project, '.env'), `API_TOKEN='tok"en\\value-9f8e7d'\nDB_PASSWORD=dotenv-secret-pw\n`);
    return project;
  };
  // Neither the value, in any letter case, nor its JSON-escaped form.
  const leaks = (text: string) => /9f8e7d|dotenv-secret-pw|tok\\*"en/i.test(text);

  it('masks .env values that config errors and refusals quote, for a read-only HTTP caller', async () => {
    const project = secretDir();
    const served = await serveHttp(['--read-only']);
    const service = (keys: string) => `services:\n  a:\n    image: x\n${keys}`;
    for (const keys of [
      '    stop_grace_period: "${API_TOKEN}"\n',
      '    healthcheck: { test: ["CMD", "true"], interval: "${DB_PASSWORD}" }\n',
      '    cap_add: ["${DB_PASSWORD}"]\n',
    ]) {
      const res = await call(served.base, 'docker_compose_config', {
        project_dir: project,
        content: service(keys),
        project_name: 'mcpt-errs',
      });
      expect(res.text).toMatch(/cannot read duration|is not a Linux capability/);
      expect(leaks(res.text)).toBe(false);
    }
  });

  it("masks the server's own secrets in a config error over stdio", async () => {
    const server = await startServer({
      args: ['--read-only'],
      env: { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-srv' },
    });
    try {
      const text = JSON.stringify(
        await server.client.callTool('docker_compose_config', {
          content: 'services:\n  a:\n    image: x\n    stop_grace_period: "${AWS_SECRET_ACCESS_KEY}"\n',
          project_name: 'mcpt-errs',
        }),
      );
      expect(text).toContain('cannot read duration');
      expect(text).not.toContain('wJalrXUtnFEMI');
    } finally {
      await server.close();
    }
  });

  it('masks .env values in up’s policy refusals and engine errors', async () => {
    const project = secretDir();
    const server = await startServer({});
    const head = 'services:\n  a:\n    image: mcp-test/busybox:latest\n    network_mode: none\n';
    try {
      for (const [keys, said] of [
        ['    volumes: ["/etc/${DB_PASSWORD}:/x"]\n', "host path '/etc/***'"],
        ['    extra_hosts: ["${DB_PASSWORD}"]\n', 'add-host'],
      ] as const) {
        const text = JSON.stringify(
          await server.client.callTool('docker_compose_up', {
            project_dir: project,
            content: head + keys,
            project_name: 'mcpt-errs-up',
          }),
        );
        expect(text).toContain(said);
        expect(leaks(text)).toBe(false);
      }
    } finally {
      await server.client
        .callTool('docker_compose_down', { project_name: 'mcpt-errs-up' })
        .catch(() => undefined);
      await server.close();
    }
  });
});

describe('a huge scale', () => {
  it('is refused at once for a read-only HTTP caller, naming the service and key, and the server stays small', async () => {
    const served = await serveHttp(['--read-only']);
    const started = performance.now();
    const res = await call(served.base, 'docker_compose_config', {
      content: 'services:\n  a:\n    image: x\n    links: [b]\n  b:\n    image: x\n    scale: 3000000\n',
      project_name: 'mcpt-scale',
    });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(res.text).toContain('service \\"b\\": scale 3000000 is over 1000');
    expect(hwmKiB(served.proc.pid)).toBeLessThan(200 * 1024);
  });

  it('refuses links repeated by an anchor on many scaled services at once, and the server stays small', async () => {
    const served = await serveHttp(['--read-only']);
    const n = 60;
    const names = Array.from({ length: n }, (_, i) => `s${i}`).join(', ');
    const svcs = Array.from(
      { length: n },
      (_, i) => `  s${i}: {image: x, network_mode: none, scale: 1000, links: *L}`,
    ).join('\n');
    const started = performance.now();
    const res = await call(served.base, 'docker_compose_config', {
      content: `x-l: &L [${names}]\nservices:\n${svcs}\n`,
      project_name: 'mcpt-links',
    });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(res.text).toContain('60000 containers in all');
    expect(hwmKiB(served.proc.pid)).toBeLessThan(200 * 1024);
  });

  it('refuses distinct port ranges that would make billions of bindings, and the server stays small', async () => {
    const served = await serveHttp(['--read-only']);
    const ports = Array.from({ length: 40 }, (_, i) => `"${i + 1}-65535"`).join(',');
    const started = performance.now();
    const res = await call(served.base, 'docker_compose_config', {
      content: `services:\n  a:\n    image: x\n    ports: [${ports}]\n`,
      project_name: 'mcpt-ports',
    });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(res.text).toContain('ports in all, over 196605');
    expect(hwmKiB(served.proc.pid)).toBeLessThan(200 * 1024);
  });
});
