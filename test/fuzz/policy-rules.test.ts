/**
 * The allowlists fuzzed on their own (pure): whatever string arrives as a capability, a security
 * option or a local volume option, it is accepted only if an independent oracle says the allowlist
 * holds it. The oracles are written from the policy table in docs/SECURITY.md, not from the rules.
 */
import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { ToolError } from '../../src/core/errors.ts';
import { checkHostPath, type PathPolicy, resolvedHostPath } from '../../src/docker/policy/paths.ts';
import {
  checkCapAdd,
  checkDriverOpts,
  checkSecurityOpt,
  type RuleContext,
} from '../../src/docker/policy/rules.ts';
import { fcParams } from '../helpers/fuzz.ts';

const paths: PathPolicy = {
  allowlist: [],
  blocklist: [],
  home: '/home/u',
  tmpDir: '/tmp',
  sensitive: ['/etc', '/usr', '/var/lib/docker'],
  shares: true,
  fs: { realpath: (p) => (p === '/' || p === '/tmp' || p === '/home/u' ? p : undefined) },
};
const ctx: RuleContext = {
  allowPrivileged: false,
  lifted: () => undefined,
  hostPath: (raw, arg) => checkHostPath(raw, arg, paths),
  resolve: (raw) => resolvedHostPath(raw, paths),
  hostNetworks: () => [],
};
const accepted = (fn: () => void) => {
  try {
    fn();
    return true;
  } catch (e) {
    if (!(e instanceof ToolError)) throw e;
    expect(['policy_denied', 'invalid_argument']).toContain(e.kind);
    return false;
  }
};

const DEFAULT =
  'CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE'.split(
    ' ',
  );
const KNOWN = [
  ...DEFAULT,
  'SYS_ADMIN',
  'NET_ADMIN',
  'ALL',
  'SYS_PTRACE',
  'BPF',
  'PERFMON',
  'SYS_MODULE',
  'DAC_READ_SEARCH',
];
const noise = fc.constantFrom('', ' ', '\t', 'CAP_', 'cap_', '_', '\u0000', 'x');

describe('allowlists fuzzed', () => {
  it('a capability is accepted only if it is in the default set, whatever its spelling', () => {
    const cap = fc.oneof(
      fc
        .tuple(noise, fc.constantFrom(...KNOWN), noise, fc.boolean())
        .map(([a, c, b, low]) => `${a}${low ? c.toLowerCase() : c}${b}`),
      fc.string({ maxLength: 24 }),
    );
    fc.assert(
      fc.property(cap, (c) => {
        const oracle = DEFAULT.includes(c.trim().toUpperCase().replace(/^CAP_/, ''));
        expect([c, accepted(() => checkCapAdd([c], 'cap_add', ctx))]).toEqual([c, oracle]);
      }),
      fcParams(500),
    );
  });

  it('a security option is accepted only in the three tightening forms', () => {
    const opt = fc.oneof(
      fc
        .tuple(
          fc.constantFrom(
            'no-new-privileges',
            'apparmor',
            'label',
            'seccomp',
            'systempaths',
            'NO-NEW-PRIVILEGES',
          ),
          fc.constantFrom('=', ':', '', ' = '),
          fc.constantFrom(
            'true',
            'false',
            'docker-default',
            'unconfined',
            'level:s0',
            'type:spc_t',
            'disable',
            '{}',
            'true\n',
          ),
        )
        .map(([k, s, v]) => `${k}${s}${v}`),
      fc.string({ maxLength: 40 }),
    );
    const oracle = (o: string) =>
      o === 'no-new-privileges' ||
      o === 'no-new-privileges=true' ||
      o === 'no-new-privileges:true' ||
      o === 'apparmor=docker-default' ||
      o === 'apparmor:docker-default' ||
      /^label[=:]level:[A-Za-z0-9_:,.-]+$/.test(o);
    fc.assert(
      fc.property(opt, (o) => {
        expect([o, accepted(() => checkSecurityOpt([o], 'security_opt', ctx))]).toEqual([o, oracle(o)]);
      }),
      fcParams(500),
    );
  });

  it('local volume options are accepted only for tmpfs, network filesystems and binds under a root', () => {
    const opts = fc.record(
      {
        type: fc.constantFrom(
          'tmpfs',
          'nfs',
          'nfs4',
          'cifs',
          'smb',
          'none',
          'bind',
          'proc',
          'sysfs',
          'overlay',
          'ext4',
          'TMPFS',
          ' tmpfs',
          '',
        ),
        o: fc.constantFrom(
          'bind',
          'rbind',
          'ro,bind',
          'size=1m',
          'remount',
          'lowerdir=/etc',
          'addr=127.0.0.1',
          'Bind',
          '',
        ),
        device: fc.constantFrom(
          '/home/u/p',
          '/tmp/x',
          '/etc',
          '/dev/sda',
          'tmpfs',
          ':/export',
          '/home/u/.ssh',
          '/home/u',
          '',
        ),
        size: fc.constantFrom('1m'),
        extra: fc.constantFrom('x'),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(opts, (o) => {
        const flags = (o.o ?? '').split(',').map((s) => s.trim());
        const bind = flags.includes('bind') || flags.includes('rbind');
        const goodDevice = o.device !== undefined && /^\/(?:tmp\/|home\/u\/[^.])/.test(o.device);
        const keysOk = !('extra' in o) && !flags.includes('remount');
        const oracle =
          keysOk &&
          (bind
            ? goodDevice
            : Object.keys(o).every((k) => k === 'size') ||
              ['tmpfs', 'nfs', 'nfs4', 'cifs', 'smb'].includes(o.type ?? ''));
        expect([o, accepted(() => checkDriverOpts(o, 'driver_opts', ctx))]).toEqual([o, oracle]);
      }),
      fcParams(500),
    );
  });
});
