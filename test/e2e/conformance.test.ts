/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, a devDependency) against the
 * compiled binary over Streamable HTTP on 127.0.0.1: the server scenarios that apply to any server,
 * whatever its tools, prompts and resources. The suite runs on Bun (it uses fs.globSync), the Bun
 * running these tests. Each scenario writes its checks to checks.json; a test fails on a FAILURE or a
 * WARNING that conformance-baseline.json does not list (with why it is expected), on a listed one that
 * went away, on a non-zero exit with no listed failure, and on a scenario that checked nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type HttpServer, killSpawned, serveHttp } from '../helpers/http-binary.ts';
import baseline from './conformance-baseline.json' with { type: 'json' };

const SUITE = resolve(import.meta.dir, '../../node_modules/@modelcontextprotocol/conformance/dist/index.js');

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  description: string;
  errorMessage?: string;
}

/** Scenario → the check ids expected to fail or warn, each with the reason (conformance-baseline.json). */
const SCENARIOS: Record<string, { failures: Record<string, string>; warnings: Record<string, string> }> =
  baseline.scenarios;

let server: HttpServer;
const outDir = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));

beforeAll(async () => {
  server = await serveHttp();
});
afterAll(() => {
  killSpawned();
  rmSync(outDir, { recursive: true, force: true });
});

/** Runs one scenario; returns its exit code, its checks and its output (for the failure message). */
async function runScenario(name: string): Promise<{ code: number; checks: Check[]; output: string }> {
  const dir = join(outDir, name);
  const proc = Bun.spawn(
    [process.execPath, SUITE, 'server', '--url', `${server.base}/mcp`, '--scenario', name, '-o', dir],
    { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdout: 'pipe', stderr: 'pipe' },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const output = `${stdout}\n${stderr}`;
  // <dir>/server-<scenario>-<timestamp>/checks.json
  const runs = existsSync(dir) ? readdirSync(dir) : [];
  const file = runs.length === 1 ? join(dir, runs[0] as string, 'checks.json') : '';
  const checks: Check[] = file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
  return { code, checks, output };
}

describe('the MCP conformance suite, server scenarios, over Streamable HTTP', () => {
  it('has the suite installed (npm ci brings it)', () => {
    expect(existsSync(SUITE)).toBe(true);
  });

  it('the baseline says why each expected failure and warning is expected', () => {
    for (const { failures, warnings } of Object.values(SCENARIOS))
      for (const why of [...Object.values(failures), ...Object.values(warnings)])
        expect(why.length).toBeGreaterThan(20);
  });

  for (const [name, expected] of Object.entries(SCENARIOS)) {
    it(`passes ${name}`, async () => {
      const { code, checks, output } = await runScenario(name);
      const ids = (pick: (c: Check) => boolean) =>
        checks
          .filter(pick)
          .map((c) => c.id)
          .sort();
      const failed = checks.filter(
        (c) => c.status === 'FAILURE' || !['SUCCESS', 'WARNING', 'INFO'].includes(c.status),
      );
      const unexpected = failed.filter((c) => !(c.id in expected.failures));
      expect(unexpected.map((c) => `${c.id}: ${c.errorMessage ?? c.description}`)).toEqual([]);
      expect(failed.map((c) => c.id).sort()).toEqual(Object.keys(expected.failures).sort());
      // A scenario that crashed or found nothing to check has written no checks.
      expect(checks.length, output).toBeGreaterThan(0);
      if (Object.keys(expected.warnings).length === 0 && failed.length === 0)
        expect(ids((c) => c.status === 'SUCCESS').length).toBeGreaterThan(0);
      expect(ids((c) => c.status === 'WARNING')).toEqual(Object.keys(expected.warnings).sort());
      if (failed.length === 0) expect(code, output).toBe(0);
    });
  }
});
