import { describe, expect, it } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { authOf, SshSetupError } from '../../src/docker/ssh/transport.ts';

const keygen = (file: string, passphrase = '') =>
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', file]);
const home = () => {
  const h = mkdtempSync(join(tmpdir(), 'mcpd-sshauth-'));
  mkdirSync(join(h, '.ssh'));
  return h;
};
const parse = (k: Buffer) => utils.parseKey(k);
const endpoint = { host: 'h', port: 22, username: 'u' };

describe('SSH authentication', () => {
  it("uses the engine's identityFile alone when set", () => {
    const h = home();
    keygen(join(h, 'id'));
    keygen(join(h, '.ssh', 'id_ed25519'));
    const auth = authOf(
      { ...endpoint, home: h, identityFile: join(h, 'id'), agentSocket: '/agent.sock' },
      parse,
    );
    expect(auth.privateKey).toEqual(readFileSync(join(h, 'id')));
    expect(auth.agent).toBeUndefined();
    expect(auth.authHandler).toEqual(['publickey']);
  });

  it('refuses a missing identityFile and one with a passphrase, saying what to do', () => {
    const h = home();
    expect(() => authOf({ ...endpoint, home: h, identityFile: join(h, 'nope') }, parse)).toThrow(
      `identityFile ${join(h, 'nope')} not found`,
    );
    keygen(join(h, 'locked'), 'secret phrase');
    expect(() => authOf({ ...endpoint, home: h, identityFile: join(h, 'locked') }, parse)).toThrow(
      'must be loaded into ssh-agent instead',
    );
  });

  it('tries the agent first, then the first default key that loads without a passphrase', () => {
    const h = home();
    keygen(join(h, '.ssh', 'id_ed25519'), 'secret phrase');
    keygen(join(h, '.ssh', 'id_ecdsa'));
    const auth = authOf({ ...endpoint, home: h, agentSocket: '/agent.sock' }, parse);
    expect(auth.agent).toBe('/agent.sock');
    expect(auth.privateKey).toEqual(readFileSync(join(h, '.ssh', 'id_ecdsa')));
    expect(auth.authHandler).toEqual(['agent', 'publickey']);
  });

  it('uses ~/.ssh/id_ed25519 before id_ecdsa and id_rsa when there is no agent', () => {
    const h = home();
    keygen(join(h, '.ssh', 'id_ed25519'));
    keygen(join(h, '.ssh', 'id_rsa'));
    const auth = authOf({ ...endpoint, home: h }, parse);
    expect(auth.privateKey).toEqual(readFileSync(join(h, '.ssh', 'id_ed25519')));
    expect(auth.authHandler).toEqual(['publickey']);
  });

  it('says how to get a key when there is none', () => {
    expect(() => authOf({ ...endpoint, home: home() }, parse)).toThrow(SshSetupError);
    expect(() => authOf({ ...endpoint, home: home() }, parse)).toThrow("set 'identityFile' for this engine");
  });
});
