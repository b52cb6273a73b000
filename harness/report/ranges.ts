// ranges -- the collated crash-point lists of results.json ("1-1989,2001"):
// parsing, counting and merging, for the report generators.

/** An inclusive range of crash points [first, last]. */
export type CrashRange = [number, number];

/** parseRanges -- "1-1989,2001" → [[1, 1989], [2001, 2001]], in the order
 *  written. Spaces around items are allowed; an empty string is no range.
 *  Throws an Error naming the bad item for anything else. */
export function parseRanges(text: string): CrashRange[] {
  const ranges: CrashRange[] = [];
  const trimmed = text.trim();
  if (trimmed === '') return ranges;
  for (const raw of trimmed.split(',')) {
    const item = raw.trim();
    const match = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(item);
    if (!match) throw new Error(`bad crash-point range "${item}" in "${abbreviate(text)}"`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) {
      throw new Error(`bad crash-point range "${item}" in "${abbreviate(text)}"`);
    }
    ranges.push([first, last]);
  }
  return ranges;
}

/** mergeRanges -- sorted, with overlapping and adjacent ranges joined. */
export function mergeRanges(ranges: readonly CrashRange[]): CrashRange[] {
  const sorted = ranges.map((r): CrashRange => [r[0], r[1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: CrashRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push(range);
  }
  return merged;
}

/** rangesSize -- how many distinct crash points the ranges cover. */
export function rangesSize(ranges: readonly CrashRange[]): number {
  let size = 0;
  for (const [first, last] of mergeRanges(ranges)) size += last - first + 1;
  return size;
}

/** formatRanges -- the inverse of parseRanges for merged ranges. */
export function formatRanges(ranges: readonly CrashRange[]): string {
  return ranges.map(([first, last]) => (first === last ? String(first) : `${first}-${last}`)).join(',');
}

/** abbreviateRanges -- at most about `max` characters of a range list, cut at
 *  an item boundary, with how many items were left off. */
export function abbreviateRanges(text: string, max = 120): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(',', max);
  const head = cut > 0 ? text.slice(0, cut) : text.slice(0, max);
  const rest = text.slice(head.length).split(',').filter(Boolean).length;
  return `${head},… (+${rest} more)`;
}

function abbreviate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
