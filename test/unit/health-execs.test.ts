import { describe, expect, it } from 'bun:test';
import { checkCommand } from '../../src/tools/system/health-execs.ts';

describe('checkCommand', () => {
  it('words a health check as the engine does in its exec events', () => {
    expect(checkCommand({ Test: ['CMD-SHELL', 'curl -f http://localhost/'] }, undefined)).toBe(
      '/bin/sh -c curl -f http://localhost/',
    );
    expect(checkCommand({ Test: ['CMD-SHELL', 'exit 0'] }, ['/bin/bash', '-ec'])).toBe(
      '/bin/bash -ec exit 0',
    );
    expect(checkCommand({ Test: ['CMD', 'pg_isready', '-U', 'app'] }, undefined)).toBe('pg_isready -U app');
    // The program alone is followed by the space before its (no) arguments.
    expect(checkCommand({ Test: ['CMD', 'false'] }, undefined)).toBe('false ');
  });

  it('has none for a container without a check, or with it turned off', () => {
    expect(checkCommand(undefined, undefined)).toBeUndefined();
    expect(checkCommand({ Test: ['NONE'] }, undefined)).toBeUndefined();
    expect(checkCommand({}, undefined)).toBeUndefined();
  });
});
