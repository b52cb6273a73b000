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
// Threads: regions are numbered in the order they began, and regions of
// different threads may overlap (operations in flight at once). At k an
// operation is done when end ≤ k and in flight when begin < k < end; every
// done one must have taken effect, and each one in flight may have or not,
// independently of the others. A window with more than one operation in
// flight, or with one in flight that is not the last begun, stands for
// states that are no prefix of the operations (the later one applied, the
// earlier not): reference states, which are prefixes, cannot express them,
// so such a window is refused when the spec has reference states; without
// them (a user's --oracle exit) it needs only its counts (ops-done-env.ts).
//
// The crash points 0..∞ split into contiguous windows (runs of crash points
// with the same operations done and in flight); crash points in the same
// window share their checks.

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
   *  required), `op<i>` during operation i; with operations of several
   *  threads in flight, `op<i>+<j>...` (and `:<n>` when n operations have
   *  begun and the last begun is done). */
  key: string;
  kind: 'between' | 'during';
  /** between: index of the required state (operations done); during: index
   *  of the first operation in flight. */
  index: number;
  /** Operations certainly done (returned) at these crash points. */
  done: number;
  /** Operations in flight, each applied or not (ascending). */
  inFlight: readonly number[];
  /** In a trace of several threads, per thread that runs regions (by
   *  number): its operations done here, and whether one is in flight. */
  threads?: readonly ThreadWindow[];
  /** First and last crash point of the window (last is Infinity for the
   *  window after the last operation). */
  first: number;
  last: number;
  /** Reference states allowed after recovery (empty when the spec has no
   *  reference states). */
  allowed: ReferenceState[];
}

export interface ThreadWindow {
  thread: number;
  done: number;
  inFlight: boolean;
}

export interface WindowRange {
  first: number;
  last: number;
  window: OpWindow;
}

function checkRegions(regions: readonly Region[]): void {
  /** Per thread, where its last region ended: a thread runs one at a time. */
  const ends = new Map<number, { i: number; end: number }>();
  regions.forEach((region, i) => {
    const { begin, end } = region;
    const thread = region.thread ?? 0;
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
      throw new PmfitError(`region ${i} is not a valid instruction range: begin ${begin}, end ${end}`);
    }
    const previous = regions[i - 1];
    if (previous && begin < previous.begin) {
      throw new PmfitError(`region ${i} begins at ${begin}, before region ${i - 1} (at ${previous.begin})`);
    }
    const last = ends.get(thread);
    if (last && begin < last.end) {
      throw new PmfitError(
        `region ${i} (begin ${begin}) overlaps region ${last.i} of the same thread (end ${last.end})`,
      );
    }
    ends.set(thread, { i, end });
  });
}

/** A run of crash points and the operations done and in flight there. */
interface Segment {
  first: number;
  last: number;
  done: number;
  inFlight: number[];
  threads?: ThreadWindow[];
}

/** segments -- the crash points 0..∞ cut where an operation begins (k passes
 *  its begin) or ends (k reaches its end), with what is done and in flight. */
function segments(regions: readonly Region[]): Segment[] {
  const changes = new Map<number, { begins: number[]; ends: number[] }>();
  const at = (k: number) => {
    let change = changes.get(k);
    if (!change) {
      change = { begins: [], ends: [] };
      changes.set(k, change);
    }
    return change;
  };
  regions.forEach((region, i) => {
    if (region.begin + 1 < region.end) at(region.begin + 1).begins.push(i);
    at(region.end).ends.push(i);
  });
  const points = [...changes.keys()].sort((a, b) => a - b);
  const result: Segment[] = [];
  const inFlight = new Set<number>();
  let done = 0;
  // Per thread, its operations done (only in a trace of several threads).
  const several = regions.some((region) => region.thread !== undefined);
  const threadDone = new Map<number, number>();
  if (several) for (const region of regions) threadDone.set(region.thread ?? 0, 0);
  const segment = (first: number, last: number): Segment => {
    const sorted = [...inFlight].sort((a, b) => a - b);
    if (!several) return { first, last, done, inFlight: sorted };
    const busy = new Set(sorted.map((i) => regions[i].thread ?? 0));
    const threads = [...threadDone]
      .sort(([a], [b]) => a - b)
      .map(([thread, count]) => ({ thread, done: count, inFlight: busy.has(thread) }));
    return { first, last, done, inFlight: sorted, threads };
  };
  let first = 0;
  for (const point of points) {
    if (point > first) result.push(segment(first, point - 1));
    const change = changes.get(point)!;
    for (const i of change.ends) {
      inFlight.delete(i);
      done++;
      if (several) threadDone.set(regions[i].thread ?? 0, (threadDone.get(regions[i].thread ?? 0) ?? 0) + 1);
    }
    for (const i of change.begins) inFlight.add(i);
    first = point;
  }
  result.push(segment(first, Infinity));
  return result;
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
    const windows: OpWindow[] = [];
    for (const { first, last, done, inFlight, threads } of segments(regions)) {
      const begun = done + inFlight.length;
      const prefix = inFlight.length === 0 || (inFlight.length === 1 && inFlight[0] === begun - 1);
      if (!prefix && states.length !== 0) {
        const [a, b] = inFlight.length > 1 ? inFlight : [inFlight[0], begun - 1];
        throw new PmfitError(
          `region ${b} (thread ${regions[b].thread ?? 0}) is in flight or done while region ${a} ` +
            `(thread ${regions[a].thread ?? 0}) is in flight at crash point ${first}: reference states need one ` +
            'operation at a time (--oracle outputs and the built-in targets); check this program with ' +
            '--oracle exit (PMFIT_OPS_DONE_MIN/MAX give the window), or take a lock around each operation, ' +
            'outside its region',
        );
      }
      let key: string;
      if (inFlight.length === 0) key = `s${done}`;
      else key = `op${inFlight.join('+')}${prefix || inFlight.includes(begun - 1) ? '' : `:${begun}`}`;
      const allowed = states.length === 0 ? [] : inFlight.length === 0 ? [states[done]] : [states[done], states[begun]];
      windows.push({
        key,
        kind: inFlight.length === 0 ? 'between' : 'during',
        index: inFlight.length === 0 ? done : inFlight[0],
        done,
        inFlight,
        ...(threads ? { threads } : {}),
        first,
        last,
        allowed,
      });
    }
    this.windows = windows;
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
