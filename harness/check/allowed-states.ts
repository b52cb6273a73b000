// allowed-states -- which reference states the recovered data may equal after
// a crash at point k.
//
// The trace's regions are the operations: region i covers instructions
// begin+1..end (instruction indices count from 1; crash point k is "after the
// k-th traced instruction"). The spec's states are states[0] before operation
// 0 and states[i+1] after operation i. For a crash at k:
//
//   k ≤ regions[0].begin                       → [states[0]]
//   regions[i].begin < k < regions[i].end      → [states[i], states[i+1]]
//   regions[i].end ≤ k (≤ regions[i+1].begin)  → [states[i+1]]
//
// At k = regions[i].end the operation's last instruction (the call into the
// end marker) is done, so its effects must be durable: only states[i+1].
// An operation with no traced instructions (begin = end) has no "during"
// window, and at k = begin = end it counts as done.
//
// The crash points 0..∞ split into contiguous windows ("between" operations,
// or "during" one); crash points in the same window share their checks.

import { PmfitError } from '../_internals/errors';
import type { ReferenceState } from './spec';

export interface Region {
  begin: number;
  end: number;
  /** The thread that ran it, when not the first (trace/format.ts). */
  thread?: number;
}

export interface OpWindow {
  /** Stable identity of the window: `s<i>` between operations (state i
   *  required), `op<i>` during operation i. */
  key: string;
  kind: 'between' | 'during';
  /** between: index of the required state; during: index of the operation. */
  index: number;
  /** First and last crash point of the window (last is Infinity for the
   *  window after the last operation). */
  first: number;
  last: number;
  /** Reference states allowed after recovery (empty when the spec has no
   *  reference states). */
  allowed: ReferenceState[];
}

export interface WindowRange {
  first: number;
  last: number;
  window: OpWindow;
}

function checkRegions(regions: readonly Region[]): void {
  regions.forEach((region, i) => {
    const { begin, end } = region;
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
      throw new PmfitError(`region ${i} is not a valid instruction range: begin ${begin}, end ${end}`);
    }
    const previous = regions[i - 1];
    if (previous && begin < previous.end) {
      // Windows need one operation at a time; two threads' operations in
      // flight at once need states where each is applied or not.
      throw new PmfitError(
        `region ${i} (thread ${region.thread ?? 0}, from instruction ${begin}) begins before region ${i - 1} ` +
          `(thread ${previous.thread ?? 0}) ends at ${previous.end}: operations of different threads in flight ` +
          'at once are not supported; take a lock around each operation, outside its region',
      );
    }
  });
}

/** OpWindows -- the windows of one trace's regions against one spec's
 *  reference states. */
export class OpWindows {
  readonly windows: readonly OpWindow[];

  constructor(regions: readonly Region[], states: readonly ReferenceState[]) {
    checkRegions(regions);
    if (states.length !== 0 && states.length !== regions.length + 1) {
      throw new PmfitError(
        `the spec has ${states.length} reference states but the trace has ${regions.length} ` +
          `operations (regions): expected ${regions.length + 1} states`,
      );
    }
    const state = (i: number): ReferenceState[] => (states.length === 0 ? [] : [states[i]]);

    const candidates: OpWindow[] = [];
    const between = (index: number, first: number, last: number): void => {
      candidates.push({ key: `s${index}`, kind: 'between', index, first, last, allowed: state(index) });
    };
    between(0, 0, regions.length > 0 ? regions[0].begin : Infinity);
    regions.forEach((region, i) => {
      candidates.push({
        key: `op${i}`,
        kind: 'during',
        index: i,
        first: region.begin + 1,
        last: region.end - 1,
        allowed: states.length === 0 ? [] : [states[i], states[i + 1]],
      });
      between(i + 1, region.end, i + 1 < regions.length ? regions[i + 1].begin : Infinity);
    });

    // A later window wins where two meet at one point (empty operations).
    let limit = Infinity;
    for (let j = candidates.length - 1; j >= 0; j -= 1) {
      const candidate = candidates[j];
      candidate.last = Math.min(candidate.last, limit);
      limit = Math.min(limit, candidate.first - 1);
    }
    this.windows = candidates.filter((candidate) => candidate.first <= candidate.last);
  }

  /** windowAt -- the window of crash point k (k ≥ 0). */
  windowAt(k: number): OpWindow {
    if (!(k >= 0)) throw new RangeError(`crash point ${k} is negative`);
    const windows = this.windows;
    let low = 0;
    let high = windows.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (windows[middle].first <= k) low = middle;
      else high = middle - 1;
    }
    return windows[low];
  }

  /** split -- crash points first..last cut at window boundaries, in order. */
  split(first: number, last: number): WindowRange[] {
    if (last < first) return [];
    const ranges: WindowRange[] = [];
    let k = first;
    for (;;) {
      const window = this.windowAt(k);
      const end = Math.min(last, window.last);
      ranges.push({ first: k, last: end, window });
      if (end >= last) return ranges;
      k = end + 1;
    }
  }
}

/** allowedStates -- the reference states allowed after a crash at k and the
 *  key of k's window (one-off form of OpWindows.windowAt). */
export function allowedStates(
  regions: readonly Region[],
  states: readonly ReferenceState[],
  k: number,
): { allowed: ReferenceState[]; key: string } {
  const window = new OpWindows(regions, states).windowAt(k);
  return { allowed: window.allowed, key: window.key };
}
