#!/usr/bin/env node
/**
 * The `mcp-docker` command of the npm package: finds the binary of this platform's package (an
 * optionalDependency npm installed because its os/cpu/libc fields match) and runs it with the same stdio,
 * arguments and environment. It forwards signals to the binary and ends the way the binary ended: the
 * same exit code, or the same signal. It prints nothing on stdout (stdio is the MCP channel); a missing
 * binary is reported on stderr with exit code 1. Node 20 has no process.execve, hence the child.
 */
'use strict';
const { spawn } = require('node:child_process');
const { join, dirname } = require('node:path');

/** glibc or musl: a glibc Node reports the glibc version it runs on, a musl one reports none. */
function libc() {
  const header = process.report?.getReport()?.header;
  return header?.glibcVersionRuntime ? '' : '-musl';
}

/** Package names to try, the best match first (on Linux the other libc last, in case detection is wrong). */
function candidates() {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const base = `@mcp-docker/${os}-${process.arch}`;
  if (os !== 'linux') return [base];
  const musl = libc() === '-musl';
  return musl ? [`${base}-musl`, base] : [base, `${base}-musl`];
}

function findBinary() {
  const exe = process.platform === 'win32' ? 'mcp-docker.exe' : 'mcp-docker';
  for (const name of candidates()) {
    try {
      return join(dirname(require.resolve(`${name}/package.json`)), 'bin', exe);
    } catch {
      // not installed: try the next one
    }
  }
  return undefined;
}

const binary = findBinary();
if (!binary) {
  process.stderr.write(
    `mcp-docker: no binary for ${process.platform}-${process.arch} is installed (looked for ${candidates().join(', ')}).\n` +
      'npm installs it as an optional dependency: reinstall without --omit=optional / --no-optional, or use the\n' +
      'release archives (https://github.com/mcp-docker/mcp-docker/releases).\n',
  );
  process.exit(1);
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', windowsHide: true });
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGBREAK'];
// With a terminal attached, Ctrl-C, Ctrl-\ and a hangup reach the whole foreground process group, the
// binary included: forwarding them again would make a graceful stop a forced one. Otherwise (an MCP
// client's pipes) only this process is signalled, so every signal is passed on.
const onTerminal = process.stdin.isTTY || process.stdout.isTTY || process.stderr.isTTY;
const FROM_TERMINAL = ['SIGINT', 'SIGQUIT', 'SIGHUP'];
const forward = (signal) => {
  if (onTerminal && FROM_TERMINAL.includes(signal)) return;
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
const listening = SIGNALS.filter((signal) => {
  try {
    process.on(signal, forward);
    return true;
  } catch {
    return false; // not a signal on this platform
  }
});

child.on('error', (e) => {
  process.stderr.write(`mcp-docker: cannot start ${binary}: ${e.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    // End by the same signal so the caller sees what the binary saw; exit 128+n if it does not kill us.
    for (const s of listening) process.removeListener(s, forward);
    process.kill(process.pid, signal);
    const n = require('node:os').constants.signals[signal] ?? 0;
    setTimeout(() => process.exit(128 + n), 100);
    return;
  }
  process.exit(code ?? 1);
});
