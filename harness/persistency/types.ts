// types -- what the persistency models read and what they produce.

import type { ImageBytes } from '../_internals/chunked-bytes';
import type { ImagePatch } from '../image/image-patch';
import { TraceEvent } from '../trace/event';

/** The part of a recorded run that the persistency models read. */
export interface PersistencyTrace {
  /** Initial image of each PM file, by file id. Read, never modified; the
   *  caller must not modify them while crash states are being produced. */
  images: readonly ImageBytes[];
  /** The events, sorted by instruction index (several may share one), read
   *  once and in order: a generator over a trace file is fine. */
  events: Iterable<TraceEvent>;
  /** N, the number of traced instructions: crash points are k = 0..N, and a
   *  crash at k sees the events with index <= k. */
  instructions: number;
}

/** Which version one unsettled line took in a px86 crash state. */
export interface LineChoice {
  fileId: number;
  /** Byte offset of the line in its file (a multiple of 64). */
  offset: number;
  /** 0 = the line's last guaranteed version ... of-1 = its current version. */
  version: number;
  /** Number of versions the line could take. */
  of: number;
}

/**
 * One image set a crash can leave. `patch` and `describe` read the model's
 * state as it is when the group holding this state is yielded: call them
 * before asking the generator for the next group (after that they throw).
 */
export interface CrashState {
  /** Content hash of the whole image set (32 hex digits, line-hash.ts). */
  readonly hash: string;
  /** The image set, as the base plus its own copies of the lines that differ. */
  patch(): ImagePatch;
  /** px86: the version each unsettled line took, by file id and offset;
   *  empty for the other models and when no line is unsettled. */
  describe(): LineChoice[];
}

/** For every crash point k in [first, last], the model yields exactly `states`.
 *  The groups of one run cover 0..N in order, without gaps or overlap. */
export interface CrashGroup {
  first: number;
  last: number;
  states: CrashState[];
}

export interface CrashStateOptions {
  /** px86: enumerate all combinations when there are at most this many,
   *  otherwise a seeded selection of at most this many (default 64, at least 2). */
  maxStates?: number;
  /** px86: seed of the selection (default 1). */
  seed?: number;
  /** px86: merge a line's successive versions that no flush or fence
   *  separates into one choice (default false; docs/models.md, "Version
   *  merge"). Off by default because it drops images a real crash can
   *  leave: a missed violation is the worst verdict pmfit can give. */
  mergeVersions?: boolean;
}

/** Options with every default filled in. */
export interface ResolvedCrashStateOptions {
  readonly maxStates: number;
  readonly seed: number;
  readonly mergeVersions: boolean;
}

export const DEFAULT_MAX_STATES = 64;
export const DEFAULT_SEED = 1;

/** resolveOptions -- fill defaults and check values once. */
export function resolveOptions(options: CrashStateOptions = {}): ResolvedCrashStateOptions {
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  const seed = options.seed ?? DEFAULT_SEED;
  // At least 2: every px86 crash point then keeps its all-oldest (guaranteed
  // only) and its all-newest image.
  if (!Number.isSafeInteger(maxStates) || maxStates < 2) {
    throw new RangeError(`maxStates must be an integer of at least 2, not ${maxStates}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, not ${seed}`);
  return { maxStates, seed, mergeVersions: options.mergeVersions ?? false };
}
