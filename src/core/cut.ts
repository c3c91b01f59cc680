/**
 * Where text cut from the front (the newest output kept, the rest dropped) may start so that redaction,
 * which runs on what is shown, still sees every secret whole.
 */

const KEY_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
const KEY_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
// A full line of a PEM body (64 characters of base64, 70 in PGP's, upper and lower case letters and
// digits): what a key's first kept line, its BEGIN cut off, reads as; neither a word as short as
// `done` nor a long run of one kind of character (`0000…`) is taken for one.
const KEY_BODY_LINE = /^(?=[^\r\n]*[A-Z])(?=[^\r\n]*[a-z])(?=[^\r\n]*[0-9])[A-Za-z0-9+/]{40,76}={0,2}\r?$/;
const BODY_LINE = /^[ \t]*[A-Za-z0-9+/=]+[ \t]*\r?$/;

/**
 * `text`, whose front was cut off at any point, from its first whole line: a cut inside
 * `DB_PASSWORD=x` leaves `WORD=x`, whose name is no longer a secret's, so the partial first line goes.
 * Past the END line of a PEM private key whose BEGIN line was cut off, too: its body would be shown, as
 * the key is masked from its BEGIN line; and with no END (still being printed), past the run of body
 * lines it starts with. '' when no line starts in it.
 */
export function fromWholeLine(text: string): string {
  const nl = text.indexOf('\n');
  if (nl < 0) return '';
  const rest = text.slice(nl + 1);
  const end = rest.includes('-----END ') ? KEY_END.exec(rest) : null;
  if (!end) return pastKeyBody(rest);
  const begin = KEY_BEGIN.exec(rest);
  if (begin && begin.index < end.index) return rest;
  const after = rest.indexOf('\n', end.index);
  return after < 0 ? '' : rest.slice(after + 1);
}

/** `text` past the run of PEM body lines it starts with, if its first line is a full one. */
function pastKeyBody(text: string): string {
  let at = 0;
  for (let first = true; at < text.length; first = false) {
    const nl = text.indexOf('\n', at);
    // The last line, still being printed, may be a body line cut short: it goes with the run.
    const line = text.slice(at, nl < 0 ? text.length : nl);
    if (!(first ? KEY_BODY_LINE : BODY_LINE).test(line)) break;
    at = nl < 0 ? text.length : nl + 1;
  }
  return text.slice(at);
}

/**
 * The last `max` characters of `text` or fewer, starting at a word ('…' before it when cut): redaction
 * runs on what is shown, and a cut inside `DB_PASSWORD=x` would leave `WORD=x`. '' for one long word.
 */
export function endAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = text.slice(-max);
  const blank = end.search(/\s/);
  return blank < 0 ? '' : `… ${end.slice(blank + 1)}`;
}

/** The first `max` characters of `text` up to its last whole word (the start's twin of endAtWord); '' for one long word. */
export function startAtWord(text: string, max: number): string {
  // A blank right at the cut means the word before it is whole.
  if (/\s/.test(text[max] ?? '')) return text.slice(0, max);
  const blank = text.slice(0, max).search(/\s\S*$/);
  return blank < 0 ? '' : text.slice(0, blank);
}
