/** The closest known name to one that matches none, for messages that name a typo. */

/** ` (did you mean 'x'?)` for the known name closest to `name` by edit distance, when one is close. */
export function nearest(name: string, known: readonly string[]): string {
  let best = '';
  let bestDistance = Math.max(3, Math.floor(name.length / 4)) + 1;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] ?? 0;
}
