/**
 * Where text cut from the front (the newest output kept, the rest dropped) may start so that redaction,
 * which runs on what is shown, still sees every secret whole.
 */

const KEY_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
const KEY_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;

/**
 * `text`, whose front was cut off at any point, from its first whole line: a cut inside
 * `DB_PASSWORD=x` leaves `WORD=x`, whose name is no longer a secret's, so the partial first line goes.
 * Past the END line of a PEM private key whose BEGIN line was cut off, too: its body would be shown, as
 * the key is masked from its BEGIN line. '' when no line starts in it.
 */
export function fromWholeLine(text: string): string {
  const nl = text.indexOf('\n');
  if (nl < 0) return '';
  const rest = text.slice(nl + 1);
  if (!rest.includes('-----END ')) return rest;
  const end = KEY_END.exec(rest);
  if (!end) return rest;
  const begin = KEY_BEGIN.exec(rest);
  if (begin && begin.index < end.index) return rest;
  const after = rest.indexOf('\n', end.index);
  return after < 0 ? '' : rest.slice(after + 1);
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
