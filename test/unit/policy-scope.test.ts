/**
 * The policy a call runs under (src/docker/policy/scope.ts): the server's own settings without a scope
 * of their own, other settings in their own scope; every call sees its own, across awaits and side by
 * side with others.
 */
import { describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import {
  currentPolicy,
  type PolicySettings,
  ruleContextOf,
  setPolicyDefaults,
  withPolicy,
} from '../../src/docker/policy/scope.ts';

const host = { home: '/root', tmpDir: '/tmp', platform: 'linux' };
const own: PolicySettings = { allowPrivileged: true, mountAllowlist: [], mountBlocklist: [] };
const other: PolicySettings = { allowPrivileged: false, mountAllowlist: ['/srv'], mountBlocklist: [] };
const tick = () => new Promise((r) => setTimeout(r, 1));

describe('the policy a call runs under', () => {
  it('is the server’s own settings, or the call’s, across awaits and beside other calls', async () => {
    setPolicyDefaults(own, host, () => {});
    const seen = async (label: string) => {
      const at: PolicySettings[] = [currentPolicy().settings];
      await tick();
      at.push(currentPolicy().settings);
      await tick();
      at.push(currentPolicy().settings);
      return { label, at };
    };
    const [a, b, c] = await Promise.all([
      withPolicy(own, host, () => seen('own')),
      withPolicy(other, host, () => seen('other')),
      withPolicy(own, host, () => seen('own again')),
    ]);
    expect(a?.at).toEqual([own, own, own]);
    expect(b?.at).toEqual([other, other, other]);
    expect(c?.at).toEqual([own, own, own]);
    // Outside any call: the defaults.
    expect(currentPolicy().settings).toBe(own);
  });

  it('tells a warning once per check under the server’s own settings, once per call under others', () => {
    // A fresh process: whether a scope store exists yet is process state.
    const scope = join(import.meta.dir, '../../src/docker/policy/scope.ts');
    const script = `
      const { currentPolicy, ruleContextOf, setPolicyDefaults, withPolicy } = await import(${JSON.stringify(scope)});
      const told = [];
      const own = { allowPrivileged: true, mountAllowlist: [], mountBlocklist: [] };
      const host = { home: '/root' };
      setPolicyDefaults(own, host, (m) => told.push(m));
      const twice = () => { for (let i = 0; i < 2; i++) ruleContextOf(currentPolicy(), () => ({})).lifted('x'); };
      withPolicy(own, host, twice);
      const first = told.length;
      withPolicy({ ...own }, host, twice);
      console.log(JSON.stringify([first, told.length - first]));
    `;
    const r = Bun.spawnSync([process.execPath, '-e', script]);
    expect(r.stderr.toString()).toBe('');
    expect(JSON.parse(r.stdout.toString())).toEqual([2, 1]);
  });

  it('keeps a call under other settings from seeing the defaults', () => {
    setPolicyDefaults(own, host, () => {});
    const lifted = withPolicy(other, host, () => ruleContextOf(currentPolicy(), () => ({}) as never));
    expect(lifted.allowPrivileged).toBe(false);
  });
});
