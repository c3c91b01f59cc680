/**
 * An sshd on 127.0.0.1 (a free port) for ssh:// engines: its own host key and a client key made by
 * ssh-keygen, `SetEnv DOCKER_HOST=…` so `docker system dial-stdio` on the "remote" side reaches the
 * engine given, StrictModes off (the keys live in a temp dir), its own PidFile and a VERBOSE log whose
 * "Connection from" lines count the SSH connections opened. Stopped by pid.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../http-binary.ts';
import { sleep, stopPid } from './proc.ts';

export interface Sshd {
  dir: string;
  port: number;
  /** ssh://root@127.0.0.1:PORT */
  url: string;
  /** The client's private key (identityFile). */
  identityFile: string;
  /** A known_hosts file holding this sshd's host key as `[127.0.0.1]:PORT`. */
  knownHostsFile: string;
  /** A known_hosts file with nothing in it: the host key is unknown there. */
  emptyKnownHostsFile: string;
  /** The host key's SHA256 fingerprint as ssh prints it (`SHA256:…`). */
  fingerprint: string;
  /** SSH connections accepted since start (from the log). */
  connections(): number;
  log(): string;
  pid(): number | undefined;
  dispose(): Promise<void>;
}

const keygen = (...args: string[]) =>
  execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Starts sshd with `dockerHost` as the DOCKER_HOST its sessions see. */
export async function startSshd(dir: string, dockerHost: string): Promise<Sshd> {
  if (process.getuid?.() !== 0) throw new Error('the engines test bed needs root to run sshd');
  if (!existsSync('/usr/sbin/sshd'))
    throw new Error('the engines test bed needs sshd (apt-get install openssh-server)');
  mkdirSync(dir, { recursive: true });
  // Privilege separation directory; Debian's package makes it at boot, a container may not have it.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(dir, 'host_ed25519');
  const identityFile = join(dir, 'id_ed25519');
  keygen('-q', '-t', 'ed25519', '-N', '', '-C', 'mcpt-host', '-f', hostKey);
  keygen('-q', '-t', 'ed25519', '-N', '', '-C', 'mcpt-client', '-f', identityFile);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${identityFile}.pub`));
  const port = await freePort();
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostPub}\n`);
  const emptyKnownHostsFile = join(dir, 'known_hosts.empty');
  writeFileSync(emptyKnownHostsFile, '');
  const fingerprint = /SHA256:\S+/.exec(keygen('-l', '-E', 'sha256', '-f', `${hostKey}.pub`))?.[0] ?? '';
  const logFile = join(dir, 'sshd.log');
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'MaxSessions 64',
      'MaxStartups 64',
      `SetEnv DOCKER_HOST=${dockerHost}`,
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-E', logFile], {
    detached: true,
    stdio: 'ignore',
  });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const sshd: Sshd = {
    dir,
    port,
    url: `ssh://root@127.0.0.1:${port}`,
    identityFile,
    knownHostsFile,
    emptyKnownHostsFile,
    fingerprint,
    connections: () =>
      log().match(/Connection from 127\.0\.0\.1 port \d+ on 127\.0\.0\.1 port/g)?.length ?? 0,
    log,
    pid: () => child.pid,
    async dispose() {
      await stopPid(child.pid, dir, 5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const end = Date.now() + 10_000;
  while (!/Server listening on 127\.0\.0\.1 port/.test(log())) {
    if (Date.now() > end || child.exitCode !== null) {
      await sshd.dispose().catch(() => {});
      throw new Error(`sshd did not start:\n${log()}`);
    }
    await sleep(50);
  }
  return sshd;
}

/** Runs `command` on the "remote" side through this sshd with the test's key, checking the host key. */
export function sshExec(sshd: Sshd, command: string): string {
  return execFileSync(
    'ssh',
    [
      '-i',
      sshd.identityFile,
      '-p',
      String(sshd.port),
      '-o',
      `UserKnownHostsFile=${sshd.knownHostsFile}`,
    ].concat(['-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'root@127.0.0.1', command]),
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
