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
import { crashStates, ModelName, PersistencyTrace } from '../persistency/model';
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
  maxStates: number;
  seed: number;
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
  const regionEnd = (index: number): number | undefined => regionOf(input.regions, index)?.end;

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
 *  in the accepted images among `outcomes` (at most `max` examined). */
export function tolerates(input: ImageCausesInput, outcomes: readonly BareOutcome[], max: number): Set<number> {
  const tolerated = new Set<number>();
  const ok = outcomes.filter((outcome) => !isViolation(outcome.verdict));
  walkImages(input, ok, max, (tracker, image, k) => {
    for (const ord of tracker.missingStores(image)) {
      const end = regionOf(input.regions, tracker.stores[ord].index)?.end;
      if (end !== undefined && end <= k) tolerated.add(tracker.stores[ord].address);
    }
  });
  return tolerated;
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
  const byHash = new Map<string, BareOutcome[]>();
  for (const outcome of outcomes) {
    const list = byHash.get(outcome.hash) ?? [];
    list.push(outcome);
    byHash.set(outcome.hash, list);
  }
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
  const applyUpTo = (k: number): void => {
    while (applied < pulled.length && pulled[applied].index <= k) tracker.apply(pulled[applied++]);
    if (applied > 4096) {
      pulled.splice(0, applied);
      applied = 0;
    }
  };
  let visited = 0;
  if (outcomes.length > 0) {
    for (const group of crashStates(input.model, trace, { maxStates: input.maxStates, seed: input.seed })) {
      if (visited >= max) break;
      const work: { outcome: BareOutcome; state: (typeof group.states)[number] }[] = [];
      for (const state of group.states) {
        for (const outcome of byHash.get(state.hash) ?? []) {
          if (outcome.first >= group.first && outcome.last <= group.last) work.push({ outcome, state });
        }
      }
      work.sort((a, b) => a.outcome.last - b.outcome.last);
      const patches = new Map<string, ImagePatch>();
      for (const { outcome, state } of work) {
        if (visited >= max) break;
        visited++;
        applyUpTo(outcome.last);
        let patch = patches.get(state.hash);
        if (!patch) {
          patch = state.patch();
          patches.set(state.hash, patch);
        }
        const image = patch;
        visit(tracker, (fileId, line) => image.line(fileId, line), outcome.last, outcome, state.hash);
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
  regionEnd: (index: number) => number | undefined,
  violatingSpans: readonly Span[],
  tolerated: ReadonlySet<number>,
): Pending {
  const missing = tracker
    .missingStores(image)
    .filter((ord) => !tracker.stores[ord].durable && !tolerated.has(tracker.stores[ord].address));
  if (missing.length === 0) return atomicity(tracker, k, violatingSpans);
  const ended = missing.find((ord) => {
    const end = regionEnd(tracker.stores[ord].index);
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

/** The position of the last non-durable store with index ≤ k. */
function lastStoreAtOrBefore(stores: readonly StoreRecord[], k: number): number | undefined {
  let low = 0;
  let high = stores.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (stores[middle].index <= k) low = middle + 1;
    else high = middle;
  }
  for (let ord = low - 1; ord >= 0; ord--) if (!stores[ord].durable) return ord;
  return undefined;
}

function firstStoreAfter(stores: readonly StoreRecord[], k: number): StoreRecord | undefined {
  let low = 0;
  let high = stores.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (stores[middle].index <= k) low = middle + 1;
    else high = middle;
  }
  for (let ord = low; ord < stores.length; ord++) if (!stores[ord].durable) return stores[ord];
  return undefined;
}

function regionOf(regions: readonly Region[], index: number): Region | undefined {
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
