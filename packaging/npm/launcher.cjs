#!/usr/bin/env node
/**
 * The `mcp-docker` command of the npm package: finds the binary of this platform's package (an
 * optionalDependency npm installed because its os/cpu/libc fields match) and runs it with the same stdio,
 * arguments and environment. It forwards signals to the binary and ends the way the binary ended: the
 * same exit code, or the same signal. It prints nothing on stdout (stdio is the MCP channel); a missing
 * binary, and a binary ended by a signal the launcher did not pass on, are reported on stderr. Node 20 has
 * no process.execve, hence the child. Required as a module (tests), it only exports its decisions.
 */
'use strict';
const { spawn } = require('node:child_process');
const { writeSync } = require('node:fs');
const { join, dirname } = require('node:path');

const RELEASES = 'https://github.com/mcp-docker/mcp-docker/releases';
const FROM_SOURCE = 'https://github.com/mcp-docker/mcp-docker#install';

/** glibc or musl: a glibc Node reports the glibc version it runs on, a musl one reports none. */
function isMusl() {
  const header = process.report?.getReport()?.header;
  return !header?.glibcVersionRuntime;
}

/** Package names to try, the best match first (on Linux the other libc last, in case detection is wrong). */
function candidates(
  platform = process.platform,
  arch = process.arch,
  musl = platform === 'linux' && isMusl(),
) {
  const os = platform === 'win32' ? 'windows' : platform;
  const base = `@mcp-docker/${os}-${arch}`;
  if (os !== 'linux') return [base];
  return musl ? [`${base}-musl`, base] : [base, `${base}-musl`];
}

/** The platform packages this launcher was published with (its optionalDependencies). */
function publishedPackages() {
  try {
    return Object.keys(require('../package.json').optionalDependencies ?? {});
  } catch {
    return [];
  }
}

/**
 * What to tell a user whose platform package is not installed: a platform we have no build for is named
 * as such, with the ones we have; a package npm skipped or failed to fetch gets the ways to fetch it again.
 */
function noBinaryMessage(wanted, published, platform = process.platform, arch = process.arch) {
  const names = published.map((p) => p.replace('@mcp-docker/', ''));
  if (published.length > 0 && !wanted.some((w) => published.includes(w)))
    return (
      `mcp-docker: there is no build for ${platform}-${arch}; builds exist for ${names.join(', ')}.\n` +
      `On another platform, build it from source: ${FROM_SOURCE}\n`
    );
  return (
    `mcp-docker: the platform package ${wanted[0]} is not installed` +
    (wanted.length > 1 ? ` (nor ${wanted.slice(1).join(', ')})` : '') +
    '.\nnpm installs it as an optional dependency, so it is missing when optional dependencies were left out\n' +
    '(--omit=optional, --no-optional) or when its download failed (offline, or a registry mirror without the\n' +
    '@mcp-docker packages). Install again (npm install mcp-docker); with npx, clear its cache first (the _npx\n' +
    `folder in \`npm config get cache\`). Or use the release archives: ${RELEASES}\n`
  );
}

/**
 * What to say when the binary ended by a signal nobody here sent it: which signal, and for SIGKILL on macOS
 * the usual cause (a code signature macOS refuses) and its fix. undefined when there is nothing to say.
 */
function signalMessage(signal, binary, platform = process.platform) {
  if (!signal) return undefined;
  let text = `mcp-docker: the server (${binary}) was ended by ${signal}.\n`;
  if (signal === 'SIGKILL' && platform === 'darwin')
    text +=
      'On macOS this usually means macOS refused the binary\'s code signature ("killed: 9"). Sign it again, ad hoc,\n' +
      `and start it again: codesign --force -s - '${binary}'\n`;
  else if (signal === 'SIGKILL')
    text += 'Something killed it: another process, or the kernel for want of memory (see dmesg).\n';
  else if (['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGABRT', 'SIGFPE'].includes(signal))
    text += `It crashed; please report it with the command that led to it: ${RELEASES.replace('/releases', '/issues')}\n`;
  return text;
}

/** stderr, synchronously: the launcher may end itself by a signal right after (and a pipe on macOS is async). */
function say(text) {
  try {
    writeSync(2, text);
  } catch {
    // stderr closed: nothing to tell anyone
  }
}

function findBinary(names) {
  const exe = process.platform === 'win32' ? 'mcp-docker.exe' : 'mcp-docker';
  for (const name of names) {
    try {
      return join(dirname(require.resolve(`${name}/package.json`)), 'bin', exe);
    } catch {
      // not installed: try the next one
    }
  }
  return undefined;
}

function main() {
  const wanted = candidates();
  const binary = findBinary(wanted);
  if (!binary) {
    say(noBinaryMessage(wanted, publishedPackages()));
    process.exit(1);
  }

  const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', windowsHide: true });
  const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGBREAK'];
  // With a terminal attached, Ctrl-C, Ctrl-\ and a hangup reach the whole foreground process group, the
  // binary included: forwarding them again would make a graceful stop a forced one. Otherwise (an MCP
  // client's pipes) only this process is signalled, so every signal is passed on.
  const onTerminal = process.stdin.isTTY || process.stdout.isTTY || process.stderr.isTTY;
  const FROM_TERMINAL = ['SIGINT', 'SIGQUIT', 'SIGHUP'];
  // Signals this process received: the binary ending by one of them is no news to whoever sent it.
  const received = new Set();
  const forward = (signal) => {
    received.add(signal);
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
    say(`mcp-docker: cannot start ${binary}: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      if (!received.has(signal)) say(signalMessage(signal, binary) ?? '');
      // End by the same signal so the caller sees what the binary saw; exit 128+n if it does not kill us.
      for (const s of listening) process.removeListener(s, forward);
      process.kill(process.pid, signal);
      const n = require('node:os').constants.signals[signal] ?? 0;
      setTimeout(() => process.exit(128 + n), 100);
      return;
    }
    process.exit(code ?? 1);
  });
}

if (require.main === module) main();
else module.exports = { candidates, noBinaryMessage, signalMessage };
