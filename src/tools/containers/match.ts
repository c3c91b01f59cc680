/**
 * Caller-supplied line patterns (`grep`, `pattern`): plain text as a substring, or `/regex/flags`
 * compiled with re2js, a pure-JS port of RE2. RE2 matches in time linear in the line, so no pattern
 * (e.g. `/(a+)+$/` on a long line of a's) can hold the event loop and stall every other client;
 * native RE2 bindings cannot be built for all our cross-compiled targets, re2js needs none.
 * What RE2 cannot express (backreferences, lookaround) is an invalid_argument naming the field.
 */
import type { RE2JS } from 're2js';
import { ToolError } from '../../core/errors.ts';

const HINT =
  'Patterns run on RE2 (linear time): rewrite it without backreferences or lookaround, ' +
  'or pass plain text to match it as a substring.';

/** JS-only constructs RE2 refuses, named so the caller learns what to change. */
const UNSUPPORTED: [RegExp, string][] = [
  [/\(\?<?[=!]/, 'lookaround ((?=, (?!, (?<=, (?<!) is not supported'],
  [/\\[1-9]|\\k</, 'backreferences (\\1, \\k<name>) are not supported'],
];

/** A line test from `text` (substring) or `/regex/flags`; a bad regex is an invalid_argument on `field`. */
export async function lineMatcher(pattern: string, field: string): Promise<(line: string) => boolean> {
  const re = /^\/(.+)\/([imsu]*)$/s.exec(pattern);
  if (!re) return (line) => line.includes(pattern);
  const source = re[1] as string;
  const flags = re[2] as string;
  const refuse = (why: string) =>
    new ToolError('invalid_argument', `invalid argument '${field}': ${why}`, { hint: HINT });
  for (const [construct, why] of UNSUPPORTED)
    if (construct.test(source.replace(/\\\\/g, ''))) throw refuse(why);
  // Loaded for the first /regex/ only: its Unicode tables are most of a container tool's memory.
  const { RE2JS } = await import('re2js');
  let compiled: RE2JS;
  try {
    // 'u' is RE2's normal mode (it matches code points), so it needs no flag.
    compiled = RE2JS.compile(
      source,
      (flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) |
        (flags.includes('m') ? RE2JS.MULTILINE : 0) |
        (flags.includes('s') ? RE2JS.DOTALL : 0),
    );
  } catch (e) {
    throw refuse((e as Error).message.replace(/^error parsing regexp: /, ''));
  }
  return (line) => compiled.test(line);
}
