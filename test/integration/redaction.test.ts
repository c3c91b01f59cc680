/**
 * Redaction end to end through the pipeline on a real container: secret names without separators
 * (PGPASSWORD, CLIENTSECRET, GITHUB_PAT) and secret values holding spaces or `;` are masked whole in
 * inspect results, in logs and command output, and in errors; other values stay readable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { cleanupContainers, makeContainer } from '../helpers/engine.ts';
import { call, callOk } from '../helpers/pipeline.ts';

// Each secret value carries a word found nowhere else, so its absence is what the tests look for.
const SECRETS = {
  PGPASSWORD: 'correct horse; battery',
  CLIENTSECRET: 'alpha bravo',
  GITHUB_PAT: 'charlie;delta',
  APITOKEN: 'echo foxtrot',
};
const LEAKS = ['horse', 'battery', 'bravo', 'charlie', 'delta', 'foxtrot', 'golf', 'hotel', 'india'];
const leaked = (v: unknown) => LEAKS.filter((w) => JSON.stringify(v).includes(w));

let name = '';
beforeAll(async () => {
  const script = [
    `echo 'PASSWORD=golf hotel; india'`,
    `echo '{"DB_PASSWORD": "golf;hotel", "user": "app"}'`,
    'echo "PGPASSWORD=$PGPASSWORD"',
    'echo TOKENIZERS_PARALLELISM=false KEY_FILE=/run/secrets/k',
    'sleep 3600',
  ].join('; ');
  ({ name } = await makeContainer({
    cmd: ['sh', '-c', script],
    env: [...Object.entries(SECRETS).map(([k, v]) => `${k}=${v}`), 'PLAIN=visible words; here'],
  }));
});
afterAll(cleanupContainers);

describe('redaction', () => {
  it('masks whole secret values in the env of an inspect result, summary and full', async () => {
    const summary = await callOk<{ env: string[] }>('docker_inspect_container', { container_id: name });
    for (const k of Object.keys(SECRETS)) expect(summary.env).toContain(`${k}=***`);
    expect(summary.env).toContain('PLAIN=visible words; here');
    expect(leaked(summary)).toEqual([]);

    const full = await callOk('docker_inspect_container', { container_id: name, full: true });
    expect(JSON.stringify(full)).toContain('CLIENTSECRET=***');
    expect(leaked(full)).toEqual([]);
  });

  it('masks whole assignments in logs, leaving other lines readable', async () => {
    let lines: string[] = [];
    for (let i = 0; i < 50 && lines.length < 4; i++) {
      lines = (await callOk<{ lines: string[] }>('docker_container_logs', { container_id: name })).lines;
      if (lines.length < 4) await Bun.sleep(100);
    }
    expect(lines).toEqual([
      'PASSWORD=***',
      '{"DB_PASSWORD": "***", "user": "app"}',
      'PGPASSWORD=***',
      'TOKENIZERS_PARALLELISM=false KEY_FILE=/run/secrets/k',
    ]);
  });

  it('masks them in command output and in errors', async () => {
    const out = await callOk<{ stdout: string }>('docker_exec_command', {
      container_id: name,
      command: ['sh', '-c', 'echo "CLIENTSECRET=$CLIENTSECRET"; echo "GITHUB_PAT=$GITHUB_PAT"'],
    });
    expect(out.stdout).toBe('CLIENTSECRET=***\nGITHUB_PAT=***\n');

    // A command that does not exist: the engine's message quotes it, secret value and all.
    const failed = await call('docker_exec_command', {
      container_id: name,
      command: ['APITOKEN=echo foxtrot'],
    });
    expect(JSON.stringify(failed)).toContain('APITOKEN=***');
    expect(leaked(failed)).toEqual([]);
  });

  it('masks a value after --password in a Compose command, as a list and as a string', async () => {
    const content = [
      'services:',
      '  web:',
      '    image: mcp-test/busybox:latest',
      '    command: ["run", "--password", "golf hotel", "--api-key=india"]',
      '    entrypoint: sh -c "run --client-secret charlie --verbose"',
    ].join('\n');
    const out = await callOk<{ services: { web: { command: string[]; entrypoint: string[] } } }>(
      'docker_compose_config',
      { content, project_name: 'mcpt-redact-flags' },
    );
    expect(out.services.web.command).toEqual(['run', '--password', '***', '--api-key=***']);
    expect(JSON.stringify(out.services.web.entrypoint)).toContain('--client-secret ***');
    expect(leaked(out)).toEqual([]);
  });
});
