// collate -- crash points as ranges, in the style of the original `allcounts`
// ("Output for iterations: 1-1989,2001").
//
// A list is written sorted, without repeats, with runs of consecutive points
// merged into "first-last" and single points alone, joined by commas; the
// empty list is the empty string. parseRanges reads that form back (it also
// accepts unsorted, overlapping or spaced items).

/** A run of consecutive crash points, first <= last. */
export interface Span {
  first: number;
  last: number;
}

function checkPoint(k: number): void {
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`crash point must be a non-negative integer, not ${k}`);
}

/** mergeSpans -- sorted, merged (overlapping or adjacent spans joined). */
export function mergeSpans(spans: readonly Span[]): Span[] {
  for (const { first, last } of spans) {
    checkPoint(first);
    checkPoint(last);
    if (last < first) throw new RangeError(`empty span ${first}-${last}`);
  }
  const sorted = [...spans].sort((a, b) => a.first - b.first);
  const merged: Span[] = [];
  for (const { first, last } of sorted) {
    const top = merged[merged.length - 1];
    if (top && first <= top.last + 1) top.last = Math.max(top.last, last);
    else merged.push({ first, last });
  }
  return merged;
}

/** spansSize -- how many distinct crash points the spans cover. */
export function spansSize(spans: readonly Span[]): number {
  return mergeSpans(spans).reduce((size, { first, last }) => size + last - first + 1, 0);
}

/** collateSpans -- "1-1989,2001" from spans (crash-state groups, verdict runs). */
export function collateSpans(spans: readonly Span[]): string {
  return mergeSpans(spans)
    .map(({ first, last }) => (first === last ? `${first}` : `${first}-${last}`))
    .join(',');
}

/** collateRanges -- "1-1989,2001" from crash points in any order. */
export function collateRanges(ks: readonly number[]): string {
  return collateSpans(ks.map((k) => ({ first: k, last: k })));
}

/** parseSpans -- the merged spans of a "1-1989,2001" list. */
export function parseSpans(text: string): Span[] {
  const spans: Span[] = [];
  const trimmed = text.trim();
  if (trimmed === '') return spans;
  for (const item of trimmed.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(item);
    if (!match) throw new RangeError(`not a crash point or range: "${item.trim()}"`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw new RangeError(`range ${first}-${last} runs backwards`);
    spans.push({ first, last });
  }
  return mergeSpans(spans);
}

/** parseRanges -- every crash point of a "1-1989,2001" list, sorted, without repeats. */
export function parseRanges(text: string): number[] {
  const ks: number[] = [];
  for (const { first, last } of parseSpans(text)) for (let k = first; k <= last; k++) ks.push(k);
  return ks;
}
