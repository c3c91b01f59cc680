/**
 * Container options in Compose's spelling, as ContainerSpec values: healthcheck, ulimits, extra_hosts,
 * tmpfs, networks with aliases, durations ("1m30s") and sizes ("64m"). The create/run tools take these
 * shapes as arguments and Compose files hold them, so both read them here, the same way. Errors name
 * the field (`name(key)`: the tools write `invalid argument 'healthcheck.interval'`, Compose adds the
 * file and the service) and say how to write it.
 */
import { ToolError } from '../core/errors.ts';
import type { HealthcheckSpec, NetworkAttachment } from './container-spec.ts';
import {
  argumentName,
  DURATION_RANGE,
  engineCount,
  engineWhole,
  type FieldName,
  parseDuration,
  secondsNs,
} from './spec-values.ts';

export { argumentName, type FieldName };

const invalid = (name: FieldName, key: string, why: string, hint: string) =>
  new ToolError('invalid_argument', `${name(key)}: ${why}`, { hint });

/** Seconds (a number) or a duration such as '1m30s', in nanoseconds. */
export function durationNs(v: number | string, key: string, name: FieldName = argumentName): number {
  if (typeof v === 'number') return secondsNs(v, key, name);
  const ns = parseDuration(v);
  if (ns === undefined)
    throw invalid(name, key, `cannot read duration "${v}"`, 'Write e.g. 30s, 1m30s or 500ms.');
  // Past the engine's int64 nanoseconds (or JSON's exact integers): refused, not sent rounded or wrapped.
  return engineWhole(ns / 1e9, 1e9, key, DURATION_RANGE, name);
}

/** Compose's stop_grace_period as the engine's StopTimeout (whole seconds). */
export const stopTimeoutOf = (v: number | string, key = 'stop_grace_period', name?: FieldName) =>
  Math.round(durationNs(v, key, name) / 1e9);

export interface HealthcheckOptions {
  test?: string | string[];
  interval?: number | string;
  timeout?: number | string;
  retries?: number;
  start_period?: number | string;
  start_interval?: number | string;
  disable?: boolean;
}

const TEST_KINDS = ['CMD', 'CMD-SHELL', 'NONE'];

/** A healthcheck: a string test runs in a shell, `disable` turns off the image's own. */
export function healthcheckOf(
  h: HealthcheckOptions,
  key = 'healthcheck',
  name: FieldName = argumentName,
): HealthcheckSpec {
  if (h.disable === true) return { test: ['NONE'] };
  const test = typeof h.test === 'string' ? ['CMD-SHELL', h.test] : h.test;
  if (test && !TEST_KINDS.includes(test[0] ?? ''))
    throw invalid(
      name,
      `${key}.test`,
      'a list must start with CMD, CMD-SHELL or NONE',
      'Write ["CMD", "prog", "arg"], or the command as one string (run by /bin/sh -c).',
    );
  const ns = (k: keyof HealthcheckOptions) => {
    const v = h[k];
    return v === undefined || typeof v === 'boolean' || Array.isArray(v)
      ? undefined
      : durationNs(v as number | string, `${key}.${k}`, name);
  };
  const out: HealthcheckSpec = {
    test,
    interval: ns('interval'),
    timeout: ns('timeout'),
    retries: h.retries,
    startPeriod: ns('start_period'),
    startInterval: ns('start_interval'),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as HealthcheckSpec;
}

/** `{nofile: {soft, hard}}` or `{nproc: 512}` (soft = hard), as the engine's list. */
export function ulimitsOf(
  u: Record<string, number | { soft: number; hard: number }>,
  key = 'ulimits',
  name: FieldName = argumentName,
): { name: string; soft: number; hard: number }[] {
  return Object.entries(u).map(([limit, v]) => {
    const pair = typeof v === 'number' ? { soft: v, hard: v } : v;
    // -1 is unlimited; past JSON's exact integers the engine's int64 decode would fail.
    const at = (k: string) => (typeof v === 'number' ? `${key}.${limit}` : `${key}.${limit}.${k}`);
    const soft = engineCount(pair.soft, at('soft'), Number.MAX_SAFE_INTEGER, name, -1);
    const hard = engineCount(pair.hard, at('hard'), Number.MAX_SAFE_INTEGER, name, -1);
    if (soft > hard && hard >= 0)
      throw invalid(name, `${key}.${limit}`, `soft ${soft} is above hard ${hard}`, 'Make soft ≤ hard.');
    return { name: limit, soft, hard };
  });
}

/** `["host:ip"]`, `["host=ip"]` or `{host: ip}` as the engine's "host:ip" entries. */
export function extraHostsOf(
  v: string[] | Record<string, string | string[]>,
  key = 'extra_hosts',
  name: FieldName = argumentName,
): string[] {
  if (Array.isArray(v))
    return v.map((e) => {
      if (!/^[^=:]+[=:]./.test(e))
        throw invalid(name, key, `"${e}" is not host:address`, 'Write e.g. "db:10.0.0.3".');
      return e.replace(/^([^=:]+)=/, '$1:');
    });
  return Object.entries(v).flatMap(([host, ip]) =>
    (Array.isArray(ip) ? ip : [ip]).map((a) => `${host}:${a}`),
  );
}

/** `"/path[:options]"` entries (or one) as path → options, as the engine's Tmpfs map. */
export function tmpfsOf(v: string | string[], key = 'tmpfs', name: FieldName = argumentName) {
  const out: Record<string, string> = {};
  for (const entry of Array.isArray(v) ? v : [v]) {
    const cut = entry.indexOf(':');
    const path = cut < 0 ? entry : entry.slice(0, cut);
    if (!path.startsWith('/'))
      throw invalid(name, key, `"${entry}" is not an absolute container path`, 'Write e.g. "/run:size=64m".');
    out[path] = cut < 0 ? '' : entry.slice(cut + 1);
  }
  return out;
}

export interface NetworkOptions {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
}

/** `["net"]` or `{net: {aliases, ipv4_address}}` as attachments, in the order given (the first is primary). */
export function networksOf(
  v: string[] | Record<string, NetworkOptions | null>,
): [string, NetworkAttachment][] {
  const entries: [string, NetworkOptions | null][] = Array.isArray(v)
    ? v.map((n) => [n, null])
    : Object.entries(v);
  return entries.map(([net, o]) => [
    net,
    Object.fromEntries(
      Object.entries({
        aliases: o?.aliases?.length ? o.aliases : undefined,
        ipv4Address: o?.ipv4_address,
        ipv6Address: o?.ipv6_address,
      }).filter(([, x]) => x !== undefined),
    ) as NetworkAttachment,
  ]);
}
