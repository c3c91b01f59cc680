/**
 * The build fixtures, copied once per test process into the temp dir: build contexts must sit under
 * an allowed root (home or the temp dir), and the checkout may be anywhere (/work, /src…).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

let copy: string | undefined;

/** The directory holding the build fixtures (basic, failing, from-arg, slow) under the temp dir. */
export function buildFixtures(): string {
  if (copy) return copy;
  const dir = mkdtempSync(join(tmpdir(), 'mcpt-fixtures-'));
  cpSync(resolve(import.meta.dir, '../fixtures/build'), dir, { recursive: true });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  copy = dir;
  return dir;
}
