// image-causes -- why each violating crash image differs from a state the
// program allowed: the stores behind it, by the instruction that made them.
//
// For a violating image at crash point k, compared with the sequential
// prefix at k (every PM write up to k, prefix-tracker.ts):
//
// 1. not-durable: a store of an operation that had ended by k (k at or past
//    its region's end) is missing: its line was never made durable. The
//    earliest such store is the cause.
// 2. ordering: an earlier store M is missing while a later store P is
//    present: P became durable before M. P is the first present store after
//    the earliest missing M (P is what a fix must hold back, or M what it
//    must persist first); the cause is the pair, keyed by P.
// 3. atomicity: no store is missing (the image is the prefix at k, always so
//    under `sequential`), or no later store is present (the image is the
//    prefix just before M). The image is what a killed process leaves, and
//    it violates from the store that opened the run of violating crash
//    points around it to the store that closed it (M itself, when the image
//    is the prefix before M); the cause is that pair.
//
// Causes are collected per instruction address (the sites), so one bug in
// a loop of 400 operations is one cause; find-findings.ts turns addresses
// into source lines and stacks and merges causes at the same lines.

import { mergeSpans, Span } from '../_internals/collate';
import type { BareOutcome } from '../check/runner';
import type { Region } from '../check/allowed-states';
import { isViolation } from '../check/verdict';
import { crashStates, ModelName, PersistencyTrace, type ResolvedCrashStateOptions } from '../persistency/model';
import { PrefixTracker, StoreRecord } from './_internals/prefix-tracker';
import type { TraceEvent } from '../trace/event';
import type { ImagePatch } from '../image/image-patch';

export type CauseKind = 'ordering' | 'not-durable' | 'atomicity';

/** The role of a site in a cause. */
export type SiteRole =
  /** ordering: the later store, durable first. */
  | 'durable-first'
  /** ordering: the earlier store, not yet durable. */
  | 'not-yet-durable'
  /** not-durable: the store never made durable before its operation ended. */
  | 'never-durable'
  /** atomicity: the store from which crash images violate ... */
  | 'opens'
  /** ... and the one from which they no longer do. */
  | 'closes';

export interface CauseSite {
  role: SiteRole;
  /** The store instruction's address in the traced process. */
  address: number;
  /** Instruction index of one store made there (an example, for stacks). */
  index: number;
}

export interface Cause {
  kind: CauseKind;
  sites: CauseSite[];
  /** Crash points with an image of this cause. */
  spans: Span[];
  /** Distinct violating images of this cause. */
  hashes: Set<string>;
  /** One image: crash point and content hash. */
  example: { k: number; hash: string };
}

export interface ImageCausesInput {
  model: ModelName;
  trace: PersistencyTrace;
  regions: readonly Region[];
  modelOptions: ResolvedCrashStateOptions;
  /** The model's check outcomes (runner.ts), in order of k. */
  outcomes: readonly BareOutcome[];
  /** Violating (image, range) outcomes examined at most; the rest are
   *  counted in `unexamined`. */
  maxExamined?: number;
  /** Tolerated store addresses (tolerates()), when known from every model
   *  of the trace; otherwise found from this model's accepted images. */
  tolerated?: ReadonlySet<number>;
}

export interface ImageCauses {
  causes: Cause[];
  examined: number;
  unexamined: number;
}

const DEFAULT_MAX_EXAMINED = 200_000;

/** What one image's cause is before the closing store is known. */
interface Pending {
  kind: CauseKind;
  ords: { role: SiteRole; ord: number }[];
  /** atomicity: the closing store is the first store after this index. */
  closesAfter?: number;
}

export function imageCauses(input: ImageCausesInput): ImageCauses {
  const violating = input.outcomes.filter((outcome) => isViolation(outcome.verdict));
  const spans = mergeSpans(violating);
  const regionsOf = regionsByThread(input.regions);
  const regionEnd = (store: StoreRecord): number | undefined => regionOf(regionsOf, store)?.end;

  const max = input.maxExamined ?? DEFAULT_MAX_EXAMINED;
  let examined = 0;
  let unexamined = 0;

  // Pass 1: stores missing after their operation ended in images the check
  // accepted are tolerated (libpmemobj leaves some of its own bookkeeping
  // unpersisted on purpose); they are nobody's cause.
  const tolerated = input.tolerated ?? tolerates(input, input.outcomes, Math.floor(max / 2));

  // Pass 2: the cause of every violating image.
  const pending = new Map<string, { pending: Pending; cause: Omit<Cause, 'kind' | 'sites'> }>();
  const tracker = walkImages(input, violating, max, (tracker, image, k, outcome, hash) => {
    examined++;
    const cause = causeOf(tracker, image, k, regionEnd, spans, tolerated);
    const key = JSON.stringify([
      cause.kind,
      cause.ords.map((site) => [site.role, tracker.stores[site.ord].address]),
      cause.closesAfter,
    ]);
    let entry = pending.get(key);
    if (!entry) {
      entry = { pending: cause, cause: { spans: [], hashes: new Set(), example: { k, hash } } };
      pending.set(key, entry);
    }
    entry.cause.spans.push({ first: outcome.first, last: outcome.last });
    entry.cause.hashes.add(hash);
  });
  unexamined = violating.length - examined;

  // The walk has applied every event: the closing stores are known now.

  const merged = new Map<string, Cause>();
  for (const { pending: found, cause } of pending.values()) {
    const sites: CauseSite[] = found.ords.map(({ role, ord }) => site(role, tracker.stores[ord]));
    if (found.closesAfter !== undefined) {
      const closing = firstStoreAfter(tracker.stores, found.closesAfter);
      if (closing) sites.push(site('closes', closing));
    }
    const key = JSON.stringify([found.kind, sites.map((s) => [s.role, s.address])]);
    const known = merged.get(key);
    if (!known) {
      merged.set(key, { kind: found.kind, sites, ...cause });
      continue;
    }
    known.spans.push(...cause.spans);
    for (const hash of cause.hashes) known.hashes.add(hash);
    if (cause.example.k < known.example.k) known.example = cause.example;
  }
  const causes = [...merged.values()].map((cause) => ({ ...cause, spans: mergeSpans(cause.spans) }));
  causes.sort((a, b) => b.hashes.size - a.hashes.size || a.spans[0].first - b.spans[0].first);
  return { causes, examined, unexamined };
}

type Image = (fileId: number, line: number) => Uint8Array;

/** tolerates -- the addresses of stores missing after their operation ended
 *  in the accepted images among `outcomes` (at most `max` examined). Only
 *  the lines left unsettled when an operation ended can hold such a store
 *  (PrefixTracker.stale): a correct program leaves none, and an accepted
 *  image then costs nothing to read, not even its patch. */
export function tolerates(input: ImageCausesInput, outcomes: readonly BareOutcome[], max: number): Set<number> {
  const tolerated = new Set<number>();
  // No line stale at any operation's end (tree's stores are all durable by
  // then): nothing to find, and no walk of the model needed.
  if (!leavesStaleLines(input)) return tolerated;
  const regionsOf = regionsByThread(input.regions);
  const ok = outcomes.filter((outcome) => !isViolation(outcome.verdict));
  walkImages(input, ok, max, (tracker, image, k) => {
    for (const ord of tracker.missingStores(image, 'stale')) {
      const end = regionOf(regionsOf, tracker.stores[ord])?.end;
      if (end !== undefined && end <= k) tolerated.add(tracker.stores[ord].address);
    }
  });
  return tolerated;
}

/** leavesStaleLines -- whether some line is still unsettled when an
 *  operation ends (the prefix alone, without the model's states). */
function leavesStaleLines(input: ImageCausesInput): boolean {
  const tracker = new PrefixTracker(input.trace.images);
  const ends = input.regions.map((region) => region.end).sort((a, b) => a - b);
  let ended = 0;
  /** Whether a line is unsettled at an operation's end before `index`. */
  const staleBefore = (index: number): boolean => {
    for (; ended < ends.length && ends[ended] < index; ended++)
      if (tracker.unsettled.some((lines) => lines.size > 0)) return true;
    return false;
  };
  for (const event of input.trace.events) {
    if (staleBefore(event.index)) return true;
    tracker.apply(event);
  }
  return staleBefore(Infinity);
}

/** walkImages -- one walk of the model: `visit` for each of `outcomes`
 *  (at most `max`), at its last crash point, with the tracker at that point.
 *  Returns the tracker with every event applied. */
function walkImages(
  input: ImageCausesInput,
  outcomes: readonly BareOutcome[],
  max: number,
  visit: (tracker: PrefixTracker, image: Image, k: number, outcome: BareOutcome, hash: string) => void,
): PrefixTracker {
  // Per image, its outcomes by first crash point: a group finds its own
  // among thousands (an image every crash point of a run may show) by
  // binary search.
  const byHash = new Map<string, BareOutcome[]>();
  for (const outcome of outcomes) {
    const list = byHash.get(outcome.hash) ?? [];
    list.push(outcome);
    byHash.set(outcome.hash, list);
  }
  for (const list of byHash.values()) list.sort((a, b) => a.first - b.first);
  const tracker = new PrefixTracker(input.trace.images);
  const pulled: TraceEvent[] = [];
  let applied = 0;
  // One pass over the events, shared with the model's walk: the tracker
  // applies what the walk has pulled, up to the crash point it looks at.
  const events = input.trace.events[Symbol.iterator]();
  const trace: PersistencyTrace = {
    images: input.trace.images,
    instructions: input.trace.instructions,
    events: {
      *[Symbol.iterator]() {
        for (let next = events.next(); !next.done; next = events.next()) {
          pulled.push(next.value);
          yield next.value;
        }
      },
    },
  };
  // The tracker is told where each operation ends (its stale lines).
  const ends = input.regions.map((region) => region.end).sort((a, b) => a - b);
  let ended = 0;
  const applyThrough = (k: number): void => {
    while (applied < pulled.length && pulled[applied].index <= k) tracker.apply(pulled[applied++]);
  };
  const applyUpTo = (k: number): void => {
    // Each operation that ends by k: its events, then its end.
    for (; ended < ends.length && ends[ended] <= k; ended++) {
      applyThrough(ends[ended]);
      tracker.endOperation();
    }
    applyThrough(k);
    if (applied > 4096) {
      pulled.splice(0, applied);
      applied = 0;
    }
  };
  let visited = 0;
  if (outcomes.length > 0) {
    for (const group of crashStates(input.model, trace, input.modelOptions)) {
      if (visited >= max) break;
      const work: { outcome: BareOutcome; state: (typeof group.states)[number] }[] = [];
      for (const state of group.states) {
        const list = byHash.get(state.hash);
        if (!list) continue;
        for (let i = firstAbove(list, group.first - 1, (o) => o.first); i < list.length; i++) {
          const outcome = list[i];
          if (outcome.first > group.last) break;
          if (outcome.last <= group.last) work.push({ outcome, state });
        }
      }
      work.sort((a, b) => a.outcome.last - b.outcome.last);
      // A state's patch is made when an image line is first read.
      const patches = new Map<string, ImagePatch>();
      for (const { outcome, state } of work) {
        if (visited >= max) break;
        visited++;
        applyUpTo(outcome.last);
        const image: Image = (fileId, line) => {
          let patch = patches.get(state.hash);
          if (!patch) {
            patch = state.patch();
            patches.set(state.hash, patch);
          }
          return patch.line(fileId, line);
        };
        visit(tracker, image, outcome.last, outcome, state.hash);
      }
    }
  }
  for (let next = events.next(); !next.done; next = events.next()) pulled.push(next.value);
  applyUpTo(Infinity);
  return tracker;
}

function site(role: SiteRole, store: StoreRecord): CauseSite {
  return { role, address: store.address, index: store.index };
}

/** causeOf -- the cause of one violating image at crash point k. */
function causeOf(
  tracker: PrefixTracker,
  image: Image,
  k: number,
  regionEnd: (store: StoreRecord) => number | undefined,
  violatingSpans: readonly Span[],
  tolerated: ReadonlySet<number>,
): Pending {
  const missing = tracker
    .missingStores(image)
    .filter((ord) => !tracker.stores[ord].durable && !tolerated.has(tracker.stores[ord].address));
  if (missing.length === 0) return atomicity(tracker, k, violatingSpans);
  const ended = missing.find((ord) => {
    const end = regionEnd(tracker.stores[ord]);
    return end !== undefined && end <= k;
  });
  if (ended !== undefined) return { kind: 'not-durable', ords: [{ role: 'never-durable', ord: ended }] };
  const earliest = missing[0];
  const missingSet = new Set(missing);
  for (let ord = earliest + 1; ord < tracker.stores.length; ord++) {
    if (missingSet.has(ord) || tracker.stores[ord].durable) continue;
    if (tracker.present(ord, image)) {
      return {
        kind: 'ordering',
        ords: [
          { role: 'durable-first', ord },
          { role: 'not-yet-durable', ord: earliest },
        ],
      };
    }
  }
  // The image is the prefix just before M: violating from where that
  // prefix's run of violations opened, and M is what would have closed it.
  const found = atomicity(tracker, tracker.stores[earliest].index - 1, violatingSpans);
  return { ...found, ords: [...found.ords, { role: 'closes', ord: earliest }], closesAfter: undefined };
}

/** atomicity -- the image is the prefix at crash point `at`: the stores
 *  that open and close the run of violating crash points around it. */
function atomicity(tracker: PrefixTracker, at: number, violatingSpans: readonly Span[]): Pending {
  const span = violatingSpans.find((candidate) => candidate.first <= at && at <= candidate.last) ?? {
    first: at,
    last: at,
  };
  const opening = lastStoreAtOrBefore(tracker.stores, span.first);
  return {
    kind: 'atomicity',
    ords: opening === undefined ? [] : [{ role: 'opens', ord: opening }],
    closesAfter: span.last,
  };
}

/** firstAbove -- the position of the first of `items` (ascending by
 *  `key`) whose key is above k; items.length when none is. */
function firstAbove<T>(items: readonly T[], k: number, key: (item: T) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (key(items[middle]) <= k) low = middle + 1;
    else high = middle;
  }
  return low;
}

const storeIndex = (store: StoreRecord): number => store.index;

/** The position of the last non-durable store with index ≤ k. */
function lastStoreAtOrBefore(stores: readonly StoreRecord[], k: number): number | undefined {
  for (let ord = firstAbove(stores, k, storeIndex) - 1; ord >= 0; ord--) if (!stores[ord].durable) return ord;
  return undefined;
}

/** The first non-durable store with index > k. */
function firstStoreAfter(stores: readonly StoreRecord[], k: number): StoreRecord | undefined {
  for (let ord = firstAbove(stores, k, storeIndex); ord < stores.length; ord++)
    if (!stores[ord].durable) return stores[ord];
  return undefined;
}

/** regionsByThread -- each thread's regions, in order: a thread's regions
 *  never overlap, while regions of different threads may (operations in
 *  flight at once), so a store's operation is found among its own thread's. */
function regionsByThread(regions: readonly Region[]): Map<number, Region[]> {
  const byThread = new Map<number, Region[]>();
  for (const region of regions) {
    const thread = region.thread ?? 0;
    const list = byThread.get(thread) ?? [];
    list.push(region);
    byThread.set(thread, list);
  }
  return byThread;
}

/** regionOf -- the region of the store's thread that holds the store. */
function regionOf(byThread: ReadonlyMap<number, readonly Region[]>, store: StoreRecord): Region | undefined {
  const regions = byThread.get(store.thread) ?? [];
  const index = store.index;
  let low = 0;
  let high = regions.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const region = regions[middle];
    if (index <= region.begin) high = middle - 1;
    else if (index > region.end) low = middle + 1;
    else return region;
  }
  return undefined;
}
