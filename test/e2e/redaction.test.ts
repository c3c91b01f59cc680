/**
 * Redaction of the compiled binary over stdio against the real engine, as a user meets it: a secret
 * that colour codes wrap or split in a container's logs and in run output, a private key and a
 * multi-line password in a container's env, and secrets after `--password` in its env and command,
 * masked in tool results, the troubleshoot prompt and the logs resource alike; curl's `-u` password,
 * an API key header and a JSON document inside a string in a command and logs.
 */

import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, startServer, structured } from '../helpers/client.ts';
import {
  cleanupContainers,
  makeContainer,
  TEST_IMAGE,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';

// Each secret holds a word found nowhere else: its absence from what the caller reads is the test.
const LEAKS = ['hunter2', 'splitsecret', 'keybodyline', 'secondlinesecret', 'envflagsecret', 'cmdflagsecret'];
const leaked = (v: unknown) =>
  LEAKS.filter((w) => (typeof v === 'string' ? v : JSON.stringify(v)).includes(w));

const KEY = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEA7keybodyline1',
  'keybodyline2',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

// Coloured keys as logrus and similar loggers print them, and one split in the middle by a reset.
// The values are printed in two pieces, so the command line itself holds neither.
const SCRIPT = [
  String.raw`printf 'db \033[36mpassword\033[0m=%s%s\n' hun ter2`,
  String.raw`printf 'PASS\033[0mWORD=%s%s\n' split secret`,
  String.raw`printf 'plain line\n'`,
  'sleep 3600',
].join('; ');

// A container whose command holds curl's -u password, an API key header and a JSON document inside
// a string, as the audit found them, and whose logs print the same and a zero-width-split name.
const CLIENT_LEAKS = ['curlpw11', 'apik22', 'jsonpw66', 'zwsecret'];
const clientLeaked = (v: unknown) =>
  CLIENT_LEAKS.filter((w) => (typeof v === 'string' ? v : JSON.stringify(v)).includes(w));
const CLIENT_SCRIPT = [
  String.raw`printf 'curl -u admin:%s%s -H "X-Api-Key:%s%s" http://x\n' curlpw 11 apik 22`,
  String.raw`printf 'body="{\\"password\\": \\"%s%s\\"}"\n' jsonpw 66`,
  // A zero-width space (U+200B, in UTF-8 octal) inside the name.
  String.raw`printf 'db pass\342\200\213word=%s%s\n' zw secret`,
  String.raw`printf 'client done\n'`,
  'sleep 3600',
].join('; ');
const CLIENT_ARGS = [
  'curl',
  '-u',
  'admin:curlpw11',
  '-H',
  'X-Api-Key:apik22',
  '-d',
  '{\\"password\\": \\"jsonpw66\\"}',
];

let box: { id: string; name: string };
let client: { id: string; name: string };
let server: RunningServer;

beforeAll(async () => {
  box = await makeContainer({
    name: uniqueName('mcpt-redact'),
    // `sh -c SCRIPT sh --password …`: the flag and its value are arguments of the command.
    cmd: ['sh', '-c', SCRIPT, 'sh', '--password', 'cmdflagsecret'],
    env: [`TLS_KEY=${KEY}`, 'DB_PASSWORD=first line\nsecondlinesecret', 'OPTS=--password envflagsecret -v'],
  });
  for (let i = 0; i < 50; i++) {
    const logs = (await testDocker().getContainer(box.id).logs({ stdout: true })).toString();
    if (logs.includes('plain line')) break;
    await Bun.sleep(100);
  }
  client = await makeContainer({
    name: uniqueName('mcpt-redact-client'),
    cmd: ['sh', '-c', CLIENT_SCRIPT, 'sh', ...CLIENT_ARGS],
  });
  for (let i = 0; i < 50; i++) {
    const logs = (await testDocker().getContainer(client.id).logs({ stdout: true })).toString();
    if (logs.includes('client done')) break;
    await Bun.sleep(100);
  }
  server = await startServer({ client: 'v1' });
});
afterAll(async () => {
  await server?.close();
  await cleanupContainers();
});

const call = async <T>(name: string, args: Record<string, unknown>) => {
  const result = await server.client.callTool(name, args);
  expect(result.isError).toBeFalsy();
  return structured<T>(result);
};

describe('redaction through the binary', () => {
  it('masks a secret that colour codes wrap or split in logs, showing the line as the caller reads it', async () => {
    const { lines } = await call<{ lines: string[] }>('docker_container_logs', { container_id: box.name });
    expect(lines).toContain('db password=***');
    expect(lines).toContain('PASSWORD=***');
    expect(lines).toContain('plain line');
    expect(leaked(lines)).toEqual([]);
  });

  it('masks a coloured secret in the output of a container run to its end', async () => {
    const out = await call<{ stdout: string }>('docker_run_container', {
      image: TEST_IMAGE,
      name: uniqueName('mcpt-redact-run'),
      command: ['sh', '-c', String.raw`printf 'x \033[1mSECRET_KEY\033[0m: %s%s\n' hun ter2`],
      network_mode: 'none',
      labels: testLabels(),
      wait: true,
    });
    expect(out.stdout).toContain('x SECRET_KEY: ***');
    expect(leaked(out)).toEqual([]);
  });

  it('masks a private key and a multi-line password in env whole, and values after --password', async () => {
    const summary = await call<{ env: string[] }>('docker_inspect_container', { container_id: box.name });
    expect(summary.env).toContain('TLS_KEY=***');
    expect(summary.env).toContain('DB_PASSWORD=***');
    expect(summary.env).toContain('OPTS=--password *** -v');
    expect(leaked(summary)).toEqual([]);

    const full = await call<{ Config: { Cmd: string[] } }>('docker_inspect_container', {
      container_id: box.name,
      full: true,
    });
    expect(full.Config.Cmd.slice(-2)).toEqual(['--password', '***']);
    expect(leaked(full)).toEqual([]);
  });

  it('masks the same in the troubleshoot prompt and the logs resource', async () => {
    const raw = server.client.raw as V1Client;
    const prompt = await raw.getPrompt({
      name: 'troubleshoot_container',
      arguments: { container_id: box.name },
    });
    const text = prompt.messages.map((m) => (m.content as { text?: string }).text ?? '').join('\n');
    expect(text).toContain('TLS_KEY=***');
    expect(text).toContain('db password=***');
    expect(leaked(text)).toEqual([]);

    const logs = await raw.readResource({ uri: `container://logs/${box.name}` });
    const read = logs.contents.map((c) => (c as { text?: string }).text ?? '').join('\n');
    expect(read).toContain('db password=***');
    expect(leaked(read)).toEqual([]);
  });

  it("masks curl's -u password, an API key header and a JSON document inside a string, in logs and command", async () => {
    const { lines } = await call<{ lines: string[] }>('docker_container_logs', { container_id: client.name });
    expect(lines).toContain('curl -u admin:*** -H "X-Api-Key:***" http://x');
    expect(lines).toContain('body="{\\"password\\": \\"***\\"}"');
    expect(lines).toContain('db password=***');
    expect(clientLeaked(lines)).toEqual([]);

    const full = await call<{ Config: { Cmd: string[] }; Args: string[] }>('docker_inspect_container', {
      container_id: client.name,
      full: true,
    });
    expect(full.Config.Cmd.slice(-7)).toEqual([
      'curl',
      '-u',
      'admin:***',
      '-H',
      'X-Api-Key:***',
      '-d',
      '{\\"password\\": \\"***\\"}',
    ]);
    expect(clientLeaked(full)).toEqual([]);
    const summary = await call('docker_inspect_container', { container_id: client.name });
    expect(clientLeaked(summary)).toEqual([]);
  });

  it("keeps the rest of a sh -c script after a secret's value in inspect's command", async () => {
    const c = await makeContainer({
      name: uniqueName('mcpt-redact-cmd'),
      cmd: ['sh', '-c', 'echo PASSWORD=scriptpw77; sleep 3600; echo done'],
    });
    const { command } = await call<{ command: string }>('docker_inspect_container', { container_id: c.name });
    expect(command).toBe("sh -c 'echo PASSWORD=***; sleep 3600; echo done'");
  });

  it('masks the same in the audit log, which summarises the arguments of each call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-redact-audit-'));
    const path = join(dir, 'audit.jsonl');
    const audited = await startServer({ env: { SECURITY_AUDIT_LOG_FILE: path } });
    try {
      const command = String.raw`curl -u admin:curlpw11 -H "X-Api-Key:apik22" -d "{\"password\": \"jsonpw66\"}" x 2>/dev/null; echo ran`;
      const r = await audited.client.callTool('docker_exec_command', { container_id: client.name, command });
      expect(r.isError).toBeFalsy();
      await audited.close();
      let text = '';
      for (let i = 0; i < 50 && !text.includes('\n'); i++) {
        await Bun.sleep(50);
        text = existsSync(path) ? readFileSync(path, 'utf8') : '';
      }
      const line = JSON.parse(text) as { tool: string; args: { command: string } };
      expect(line.tool).toBe('docker_exec_command');
      expect(line.args.command).toStartWith(
        'curl -u admin:*** -H "X-Api-Key:***" -d "{\\"password\\": \\"***\\"}"',
      );
      expect(clientLeaked(text)).toEqual([]);
    } finally {
      await audited.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
