/**
 * An ssh:// engine through a real sshd on 127.0.0.1 (Debian openssh-server), whose `SetEnv
 * DOCKER_HOST` points `docker system dial-stdio` on the "remote" side at the test engine. Keys and
 * known_hosts are made here with ssh-keygen; sshd runs in the foreground and is stopped by its pid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolError } from '../../src/core/errors.ts';
import type { DiscoveryInput } from '../../src/docker/discovery.ts';
import type { Engine } from '../../src/docker/engine.ts';
import { configuredEngines } from '../../src/docker/engines.ts';
import { startServer, structured } from '../helpers/client.ts';
import { found, TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-sshd-'));
const hostKey = join(dir, 'host_key');
const rsaHostKey = join(dir, 'host_key_rsa');
const clientKey = join(dir, 'client_key');
const brokenKey = join(dir, 'broken_key');
const shellKey = join(dir, 'shell_key');
const knownHosts = join(dir, 'known_hosts');
let port = 0;
let sshd: ChildProcess | undefined;
const opened: Engine[] = [];

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

const listening = async (p: number) => {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(p, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`sshd did not listen on ${p}: ${readFileSync(join(dir, 'sshd.log'), 'utf8')}`);
};

const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
/** `ssh-keygen -lf`'s SHA256 fingerprint of a public key file. */
const fingerprintOf = (pub: string) =>
  /SHA256:\S+/.exec(execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' }))?.[0] as string;

const base: DiscoveryInput = {
  dockerConfigDir: join(dir, '.docker'),
  tlsVerify: false,
  home: dir,
  platform: 'linux',
};
const sshEngine = (knownHostsFile: string, name = 'remote', identityFile = clientKey) => {
  const engine = configuredEngines(
    [{ name, url: `ssh://root@127.0.0.1:${port}`, source: 'test', identityFile, knownHostsFile }],
    base,
  ).resolve();
  opened.push(engine);
  return engine;
};

beforeAll(async () => {
  keygen(hostKey);
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsaHostKey]);
  keygen(clientKey);
  keygen(brokenKey);
  keygen(shellKey);
  // A second key whose forced command points dial-stdio at an engine that is not there.
  writeFileSync(
    join(dir, 'authorized_keys'),
    `${readFileSync(`${clientKey}.pub`, 'utf8')}command="DOCKER_HOST=unix:///nonexistent/mcpt.sock docker system dial-stdio" ${readFileSync(`${brokenKey}.pub`, 'utf8')}` +
      // A third whose account has no shell: a warning first, the cause last (as nologin says it).
      `command="echo 'Could not chdir to home directory /nonexistent: No such file or directory' >&2; echo 'This account is currently not available.' >&2; exit 1" ${readFileSync(`${shellKey}.pub`, 'utf8')}`,
  );
  port = await freePort();
  // known_hosts in the [host]:port form, as ssh-keyscan -p writes it.
  const [type, key] = readFileSync(`${hostKey}.pub`, 'utf8').split(' ');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${type} ${key}\n`);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `HostKey ${rsaHostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'PermitRootLogin prohibit-password',
      `SetEnv DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}`,
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });
  sshd = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-E', join(dir, 'sshd.log')], { stdio: 'ignore' });
  await listening(port);
});

afterAll(() => {
  for (const e of opened) e.close();
  if (sshd?.pid) process.kill(sshd.pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('an ssh:// engine', () => {
  it('answers calls over SSH: the same engine as the unix socket, reached through dial-stdio', async () => {
    const engine = sshEngine(knownHosts);
    const docker = await engine.client(AbortSignal.timeout(10_000));
    const local = await testDocker().version();
    expect((await docker.version()).Version).toBe(local.Version);
    expect(engine.info()?.url).toBe(`ssh://root@127.0.0.1:${port}`);
    expect(engine.facts.sharesFilesystem).toBe(false);
  });

  it('waits for a host that is slow to greet, as long as the SSH handshake may take', async () => {
    // A proxy that holds each connection 4 s before passing it on: past a local socket's 3 s probe.
    const slow = createServer((client) => {
      client.pause();
      const timer = setTimeout(() => {
        const up = connect(port, '127.0.0.1');
        up.on('error', () => client.destroy());
        client.on('error', () => up.destroy());
        client.on('close', () => up.destroy());
        client.pipe(up).pipe(client);
        client.resume();
      }, 4000);
      client.on('close', () => clearTimeout(timer));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowPort = (slow.address() as { port: number }).port;
    try {
      const [type, key] = readFileSync(`${hostKey}.pub`, 'utf8').split(' ');
      const slowKnown = join(dir, 'known_hosts_slow');
      writeFileSync(slowKnown, `[127.0.0.1]:${slowPort} ${type} ${key}\n`);
      const engine = configuredEngines(
        [
          {
            name: 'slow',
            url: `ssh://root@127.0.0.1:${slowPort}`,
            source: 'test',
            identityFile: clientKey,
            knownHostsFile: slowKnown,
          },
        ],
        base,
      ).resolve();
      opened.push(engine);
      const docker = await engine.client(AbortSignal.timeout(20_000));
      expect((await docker.version()).Version).toBe((await testDocker().version()).Version);
    } finally {
      slow.close();
    }
  }, 30_000);

  it('makes 20 calls over one SSH connection', async () => {
    const engine = sshEngine(knownHosts);
    const docker = await engine.client(AbortSignal.timeout(10_000));
    const started = Date.now();
    for (let i = 0; i < 20; i++) await docker.listContainers({ limit: 1 });
    const sequential = Date.now() - started;
    // One channel for the version probe and the calls after it: an idle channel is reused.
    expect(engine.sshChannels).toBeLessThanOrEqual(2);
    await Promise.all(Array.from({ length: 5 }, () => docker.ping()));
    expect(engine.sshConnections).toBe(1);
    expect(engine.sshChannels).toBeLessThanOrEqual(6);
    console.log(`20 sequential calls over ssh:// took ${sequential} ms`);
  });

  it('keeps answering while a streaming call holds its channel open', async () => {
    const engine = sshEngine(knownHosts);
    const docker = await engine.client(AbortSignal.timeout(10_000));
    const events = new AbortController();
    // An events stream stays open until aborted: it holds one channel the whole time.
    const stream = (await (docker.getEvents as (o: object) => Promise<NodeJS.ReadableStream>)({
      abortSignal: events.signal,
    })) as NodeJS.ReadableStream & { destroy(): void };
    stream.on('error', () => {});
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 5 }, () => docker.listImages()));
    expect(answers).toHaveLength(5);
    expect(Date.now() - started).toBeLessThan(5000);
    events.abort();
    stream.destroy();
    expect(engine.sshConnections).toBe(1);
  });

  it('takes more streams at once than one connection allows on a second connection, without delaying a call', async () => {
    const engine = sshEngine(knownHosts, 'many');
    const docker = await engine.client(AbortSignal.timeout(10_000));
    const stop = new AbortController();
    const getEvents = docker.getEvents.bind(docker) as (
      o: object,
    ) => Promise<NodeJS.ReadableStream & { destroy(): void }>;
    // Ten event streams held open: more channels than MAX_CHANNELS (8) on one connection.
    const streams = await Promise.all(
      Array.from({ length: 10 }, () => getEvents({ abortSignal: stop.signal })),
    );
    for (const s of streams) s.on('error', () => {});
    const started = Date.now();
    expect((await docker.listImages()).length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(engine.sshConnections).toBe(2);
    stop.abort();
    for (const s of streams) s.destroy();
  });

  it('opens a new connection when the one it had drops', async () => {
    const engine = sshEngine(knownHosts);
    const docker = await engine.client(AbortSignal.timeout(10_000));
    await docker.ping();
    expect(engine.sshConnections).toBe(1);
    // Drop the connection: end the processes sshd forked for it (descendants of the sshd we started),
    // so its TCP connection closes as when a network drops it.
    const parentOf = (pid: string) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1];
      } catch {
        return undefined;
      }
    };
    const descendants = () => {
      const all = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
      const found = new Set([String(sshd?.pid)]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const p of all)
          if (!found.has(p) && found.has(parentOf(p) ?? '')) {
            found.add(p);
            grew = true;
          }
      }
      found.delete(String(sshd?.pid));
      return [...found];
    };
    const sessions = descendants();
    expect(sessions.length).toBeGreaterThan(0);
    for (const pid of sessions.reverse()) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone with its parent
      }
    }
    for (let i = 0; i < 50 && descendants().length > 0; i++) await Bun.sleep(50);
    // A call that races the drop (sent on the dead connection before its end was noticed) fails as a
    // reset, like any call cut by a network drop; the one after it is on a new connection.
    const version = await docker.version().catch(() => docker.version());
    expect(version.Version).toBe((await testDocker().version()).Version);
    expect(engine.sshConnections).toBe(2);
  });

  it('puts the policy guard in front of the ssh:// client too', async () => {
    const engine = sshEngine(knownHosts);
    const docker = await engine.client(AbortSignal.timeout(10_000));
    const name = uniqueName('ssh-priv');
    const err = await docker
      .createContainer({ name, Image: TEST_IMAGE, Labels: testLabels(), HostConfig: { Privileged: true } })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).kind).toBe('policy_denied');
    expect(await found(testDocker().getContainer(name).inspect())).toBe(false);
  });

  it('authenticates with the agent in SSH_AUTH_SOCK when the engine names no key', async () => {
    const agentSocket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(agentSocket); i++) await Bun.sleep(20);
      execFileSync('ssh-add', [clientKey], { env: { SSH_AUTH_SOCK: agentSocket }, stdio: 'pipe' });
      const engine = configuredEngines(
        [{ name: 'agent', url: `ssh://root@127.0.0.1:${port}`, source: 'test', knownHostsFile: knownHosts }],
        { ...base, sshAuthSock: agentSocket },
      ).resolve();
      opened.push(engine);
      const docker = await engine.client(AbortSignal.timeout(10_000));
      expect((await docker.ping()).toString()).toBe('OK');
    } finally {
      if (agent.pid) process.kill(agent.pid, 'SIGTERM');
    }
  });

  it('says the host refused our key when it is not authorized there', async () => {
    const stranger = join(dir, 'stranger_key');
    keygen(stranger);
    const engine = sshEngine(knownHosts, 'stranger', stranger);
    const err = await engine.client(AbortSignal.timeout(10_000)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(
      `SSH: root@127.0.0.1:${port} refused our key (tried identityFile ${stranger}): is its public key in ~root/.ssh/authorized_keys there?`,
    );
  });

  it('says why when docker system dial-stdio fails on the remote host', async () => {
    const engine = sshEngine(knownHosts, 'broken', brokenKey);
    const err = await engine.client(AbortSignal.timeout(10_000)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(
      `ssh://root@127.0.0.1:${port}: 'docker system dial-stdio' on 127.0.0.1 failed: failed to open the raw stream connection`,
    );
    expect(engine.sshConnections).toBe(1);
  });

  it('shows the last lines of the remote stderr, where the cause is, not only a warning before it', async () => {
    const engine = sshEngine(knownHosts, 'noshell', shellKey);
    const err = await engine.client(AbortSignal.timeout(10_000)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(
      "'docker system dial-stdio' on 127.0.0.1 failed: Could not chdir to home directory /nonexistent: No such file or directory | This account is currently not available.",
    );
  });

  it('refuses an unknown host key with its fingerprint and how to trust it', async () => {
    const empty = join(dir, 'known_hosts_empty');
    writeFileSync(empty, '');
    const engine = sshEngine(empty, 'unknown');
    const err = await engine.client(AbortSignal.timeout(10_000)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(`host key of [127.0.0.1]:${port} is not in ${empty}: refused`);
    expect(err?.message).toContain(fingerprintOf(`${hostKey}.pub`));
    expect(err?.message).toContain(`ssh-keyscan -p ${port} 127.0.0.1 >> ${empty}`);
    expect(engine.sshConnections).toBe(0);
  });

  it('checks the host key of DOCKER_HOST=ssh://… too (no engine configured), against ~/.ssh/known_hosts', async () => {
    // The key as ssh would find it: ~/.ssh/id_ed25519 (HOME is the test's directory).
    mkdirSync(join(dir, '.ssh'), { recursive: true });
    copyFileSync(clientKey, join(dir, '.ssh', 'id_ed25519'));
    const engine = configuredEngines([], { ...base, dockerHost: `ssh://root@127.0.0.1:${port}` }).resolve();
    opened.push(engine);
    const err = await engine.client(AbortSignal.timeout(10_000)).then(
      () => undefined,
      (e: Error) => e,
    );
    // There is no ~/.ssh/known_hosts there, so the host key is unknown.
    expect(err?.message).toContain(`is not in ${join(dir, '.ssh', 'known_hosts')}: refused`);
    expect(engine.sshConnections).toBe(0);
  });

  it('asks for the kind of host key it knows: a host known only by its RSA key is accepted', async () => {
    const [type, key] = readFileSync(`${rsaHostKey}.pub`, 'utf8').split(' ');
    const rsaOnly = join(dir, 'known_hosts_rsa');
    writeFileSync(rsaOnly, `[127.0.0.1]:${port} ${type} ${key}\n`);
    const engine = sshEngine(rsaOnly, 'rsa');
    const docker = await engine.client(AbortSignal.timeout(10_000));
    expect((await docker.ping()).toString()).toBe('OK');
  });

  it('refuses a changed host key, naming the known_hosts line', async () => {
    const otherKey = join(dir, 'other_key');
    keygen(otherKey);
    const [type, key] = readFileSync(`${otherKey}.pub`, 'utf8').split(' ');
    const changed = join(dir, 'known_hosts_changed');
    writeFileSync(changed, `[127.0.0.1]:${port} ${type} ${key}\n`);
    const engine = sshEngine(changed, 'changed');
    const err = await engine.client(AbortSignal.timeout(10_000)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(`host key of [127.0.0.1]:${port} CHANGED: ${changed} line 1`);
    expect(err?.message).toContain(fingerprintOf(`${hostKey}.pub`));
    expect(engine.sshConnections).toBe(0);
  });

  it('serves tool calls through the compiled binary with --engine NAME=ssh://…', async () => {
    const config = join(dir, 'engines.json');
    writeFileSync(
      config,
      JSON.stringify({ engines: { remote: { identityFile: clientKey, knownHostsFile: knownHosts } } }),
    );
    const server = await startServer({
      args: ['--config', config, '--engine', `remote=ssh://root@127.0.0.1:${port}`],
    });
    try {
      const result = await server.client.callTool('docker_version', {});
      expect(result.isError).toBeFalsy();
      const info = structured<unknown>(result);
      expect(JSON.stringify(info)).toContain((await testDocker().version()).Version);
    } finally {
      await server.close();
    }
  });
});
