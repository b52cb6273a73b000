// timeline -- the bands of one run's timeline: x is the crash point
// (0..instructions), each band a stretch of crash points with one outcome
// group. Kept to a few thousand rectangles whatever the number of crash
// points: when the groups' ranges are too many to draw one by one, crash
// points are binned into pixel columns and each column shows the group that
// matters most there (a violation before an ok outcome, then the group with
// most crash points in the column); equal neighbouring columns are joined.

import type { RunResult } from '../results/schema';
import { parseSpans, type Span } from '../_internals/collate';

/** Width of the timeline's coordinate system (one unit ≈ one pixel column). */
export const TIMELINE_WIDTH = 1000;
/** Above this many ranges in a run, bin into TIMELINE_WIDTH columns. */
export const MAX_EXACT_BANDS = 2000;

export interface Band {
  /** Index of the group in run.groups. */
  group: number;
  /** Inclusive crash points the band covers. */
  first: number;
  last: number;
  /** Position and width in timeline units. */
  x: number;
  width: number;
  /** True when the band stands for a column where other groups also occur. */
  mixed: boolean;
}

export interface Timeline {
  /** Crash points on the axis: 0..domain-1. */
  domain: number;
  binned: boolean;
  bands: Band[];
}

/** Narrowest band drawn, in timeline units, so a single crash point shows. */
const MIN_WIDTH = 1;

export function timelineBands(run: RunResult): Timeline {
  let maxPoint = Math.max(0, run.instructions);
  const parsed: Span[][] = run.groups.map((group) => {
    let spans: Span[];
    try {
      spans = parseSpans(group.crashPoints);
    } catch {
      spans = [];
    }
    for (const span of spans) if (span.last > maxPoint) maxPoint = span.last;
    return spans;
  });
  const domain = maxPoint + 1;
  const scale = TIMELINE_WIDTH / domain;
  const total = parsed.reduce((sum, spans) => sum + spans.length, 0);

  // Violations are drawn last so that they stay visible over ok bands.
  const order = run.groups
    .map((_, index) => index)
    .sort((a, b) => Number(run.groups[a].violation) - Number(run.groups[b].violation) || a - b);

  if (total <= MAX_EXACT_BANDS) {
    const bands: Band[] = [];
    for (const index of order) {
      for (const { first, last } of parsed[index]) {
        const x = first * scale;
        const width = Math.max((last - first + 1) * scale, MIN_WIDTH);
        bands.push({ group: index, first, last, x: Math.min(x, TIMELINE_WIDTH - width), width, mixed: false });
      }
    }
    return { domain, binned: false, bands };
  }

  const columns = TIMELINE_WIDTH;
  const groups = run.groups.length;
  const counts = new Float64Array(groups * columns);
  const perColumn = domain / columns;
  for (let g = 0; g < groups; g++) {
    for (const { first, last } of parsed[g]) {
      // The range [first, last + 1) in crash-point units, spread over columns.
      const start = first / perColumn;
      const end = (last + 1) / perColumn;
      for (let c = Math.floor(start); c < Math.min(columns, Math.ceil(end)); c++) {
        const overlap = Math.min(end, c + 1) - Math.max(start, c);
        if (overlap > 0) counts[g * columns + c] += overlap * perColumn;
      }
    }
  }

  const chosen = new Int32Array(columns).fill(-1);
  const mixed = new Uint8Array(columns);
  for (let c = 0; c < columns; c++) {
    let best = -1;
    let present = 0;
    for (let g = 0; g < groups; g++) {
      const n = counts[g * columns + c];
      if (n <= 0) continue;
      present++;
      if (best < 0) {
        best = g;
        continue;
      }
      const better =
        run.groups[g].violation !== run.groups[best].violation
          ? run.groups[g].violation
          : n > counts[best * columns + c];
      if (better) best = g;
    }
    chosen[c] = best;
    mixed[c] = present > 1 ? 1 : 0;
  }

  const bands: Band[] = [];
  let c = 0;
  while (c < columns) {
    const group = chosen[c];
    let end = c + 1;
    while (end < columns && chosen[end] === group && mixed[end] === mixed[c]) end++;
    if (group >= 0) {
      const first = Math.ceil(c * perColumn);
      const last = Math.max(first, Math.ceil(end * perColumn) - 1);
      bands.push({ group, first, last: Math.min(last, domain - 1), x: c, width: end - c, mixed: mixed[c] === 1 });
    }
    c = end;
  }
  return { domain, binned: true, bands };
}
