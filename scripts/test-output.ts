/**
 * Reading `bun test`'s output: the closing counts CI's summary line is made of, and a recap of the failed
 * tests. bun prints a failure where it happens, thousands of lines before the end; CI keeps the tail, so the
 * runner repeats each failure, with its error, just above the summary line.
 */

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
const plainText = (output: string) => output.replace(/\x1b\[[0-9;]*m/g, '');

/** bun test's closing counts (` 12 pass`, ` 1 fail`, ` 2 skip`, ` 1 todo`); undefined if absent. */
export function parseSummary(output: string): Counts | undefined {
  const plain = plainText(output);
  const count = (word: string) => {
    const hits = [...plain.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\s*$`, 'gm'))];
    const last = hits.at(-1);
    return last ? Number(last[1]) : undefined;
  };
  const [pass, fail, skip, todo] = ['pass', 'fail', 'skip', 'todo'].map(count);
  if (pass === undefined && fail === undefined) return undefined;
  return { passed: pass ?? 0, failed: fail ?? 0, skipped: (skip ?? 0) + (todo ?? 0) };
}

/** At most this many lines of a failure's error are repeated; the full text stays where bun printed it. */
const ERROR_LINES = 24;
const FILE_HEADER = /^(\S.*\.(?:test|spec)\.[cm]?[jt]sx?):$/;
const RESULT = /^\((?:pass|fail|skip|todo)\) /;
const UNHANDLED = /^# Unhandled error/;
/** bun's own list of the failures, after the last file: names only, and already in the recap. */
const BUN_RECAP = /^\d+ tests? failed:$/;

/** The error in what bun printed for a failure, from its `error:` line, indented and at most ERROR_LINES long. */
function errorOf(printed: string[]): string[] {
  const start = printed.findIndex((text) => text.startsWith('error:'));
  const error = (start >= 0 ? printed.slice(start) : printed.slice(-ERROR_LINES)).filter(
    (text) => text.trim() !== '',
  );
  const shown = error.slice(0, ERROR_LINES).map((text) => `    ${text}`);
  if (error.length > ERROR_LINES) shown.push(`    … ${error.length - ERROR_LINES} more lines above`);
  return shown;
}

/**
 * Each failed test as `file > name`, its error (from bun's `error:` line, at most ERROR_LINES) and errors
 * bun reports between tests. Empty when nothing failed.
 */
export function failureRecap(output: string): string[] {
  const lines = plainText(output).split('\n');
  const recap: string[] = [];
  let file = '';
  /** Where the lines printed since the last test result, file header or unhandled error begin. */
  let since = 0;
  for (const [index, line] of lines.entries()) {
    if (BUN_RECAP.test(line)) break;
    const header = FILE_HEADER.exec(line);
    if (header) {
      file = header[1] ?? '';
      since = index + 1;
      continue;
    }
    if (UNHANDLED.test(line)) {
      recap.push(`${file || '(no file)'} > ${line.replace(/^#\s*/, '')}`);
      // bun frames the error with dashed rules: the one under the title, the one after the error.
      const end = lines.findIndex((text, at) => at > index + 1 && /^-+$/.test(text));
      recap.push(...errorOf(lines.slice(index + 2, end < 0 ? undefined : end)));
      since = (end < 0 ? index : end) + 1;
      continue;
    }
    if (!RESULT.test(line)) continue;
    if (line.startsWith('(fail) ')) {
      recap.push(`${file ? `${file} > ` : ''}${line.slice('(fail) '.length)}`);
      recap.push(...errorOf(lines.slice(since, index)));
    }
    since = index + 1;
  }
  return recap;
}
