// runner -- check every crash state a persistency model produces.
//
// For each group of crash points (split where it spans several operation
// windows, allowed-states.ts) and each state in it, the verdict is that of the
// state's image in that window:
//
// 1. Recovery runs once per distinct image (content hash): the image is
//    written into a fresh temporary directory under the spec's pmFiles names
//    (sparse for a large file, image-patch.ts; in /dev/shm when the
//    temporary directory is on a disk, _internals/temp-root.ts), the spec's recovery commands
//    run there, the recovered files are read back when the spec has a check
//    and the directory is removed at once. The user's files are never
//    touched. A recovery that crashes, times out, exits non-zero or removes a
//    PM file is a violation in every window.
// 2. The spec's check runs once per (image, window) on the recovered files,
//    with the reference states the window allows; messages → 'invariant'.
//    Without a check, a recovery that succeeds is the whole verdict.
//
// What is known about images lives in a RecoveryCache that the caller may
// share between models of one run (recovered files in a byte-bounded LRU: an
// evicted image met again is recovered again).
//
// A spec whose recovery commands are told the operation window
// (`windowEnv`, ops-done-env.ts) recovers an image once per window it is met
// in, since the output may depend on it.
//
// Recoveries run concurrently (one per CPU by default). A state's image must
// be taken (as a patch of the base) before the model's generator advances,
// so it is taken eagerly into the job; the number of images waiting for or
// under recovery and the bytes their patches hold are bounded, and the
// generator is not advanced while the bound is reached (backpressure), so
// memory stays bounded on long traces.

import * as fs from 'fs';

import { PmfitError } from '../_internals/errors';
import { throwIfInterrupted } from '../_internals/interrupt';
import { imageDir } from '../_internals/temp-root';
import type { ImagePatch } from '../image/image-patch';
import type { CrashGroup, CrashState } from '../persistency/model';
import { OpWindow, OpWindows, Region } from './allowed-states';
import { Recovered, RecoveryCache, RecoveryResult } from './recovery-cache';
import { CommandNotRunError } from './command-not-run';
import { opsDoneEnv } from './ops-done-env';
import { checkRecovered, recoverImage } from './recover-image';
import { referenceStates, type TargetSpec } from './spec';
import type { Verdict } from './verdict';
import { WorkerPool, defaultConcurrency } from './worker-pool';

export { RecoveryCache } from './recovery-cache';

export const defaultTimeoutMs = 10000;
export const defaultMaxInFlightBytes = 256 * 1024 * 1024;

export interface CheckCrashStatesInput {
  /** The model's crash-state groups, covering 0..N in order. */
  groups: Iterable<CrashGroup>;
  /** The trace's regions (operations), in instruction indices. */
  regions: readonly Region[];
  spec: TargetSpec;
  /** Limit for each recovery command (default 10 s). */
  timeoutMs?: number;
  /** Recoveries at once (default one per CPU). */
  jobs?: number;
  /** Shared between the models of one target's run (see recovery-cache.ts). */
  cache?: RecoveryCache;
  /** Images waiting for or under recovery (default 2 × jobs). */
  maxInFlightImages?: number;
  /** Bytes their patches hold (default 256 MiB; one image is always allowed). */
  maxInFlightBytes?: number;
  /** N + 1, the number of crash points, if known (passed to onProgress). */
  crashPoints?: number;
  /** Called as crash points get all their verdicts (done counts crash points). */
  onProgress?(done: number, total: number | undefined): void;
  /** Images another shard checks (`allcounts --shard`): their states are
   *  listed, marked `skipped`, and never recovered here. */
  skip?(hash: string): boolean;
}

export interface CrashOutcome {
  first: number;
  last: number;
  hash: string;
  /** Key of the operation window (allowed-states.ts). */
  window: string;
  verdict: Verdict;
  /** The state's own description (px86: the version each unsettled line took). */
  describe: unknown;
  /** Left to another shard: `verdict` is not this image's. */
  skipped?: true;
}

/** An outcome as findings read it (pipeline/image-causes.ts): where, which
 *  image, and only the kind of its verdict. */
export type BareOutcome = Pick<CrashOutcome, 'first' | 'last' | 'hash'> & { verdict: Pick<Verdict, 'kind'> };

export interface CheckReport {
  /** One per (crash-point range, state), in order of k. */
  outcomes: CrashOutcome[];
  /** Distinct image hashes met in this call. */
  distinctImages: number;
  /** Recovery runs in this call (an image recovered again after LRU eviction
   *  counts again; images known from a shared cache do not). */
  recoveryRuns: number;
  /** Spec check calls in this call. */
  checks: number;
}

/** Counts capacity for images in flight and lets the producer wait for room. */
class ImageBudget {
  private count = 0;
  private bytes = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  async waitForRoom(): Promise<void> {
    while (this.count > 0 && (this.count >= this.maxCount || this.bytes >= this.maxBytes)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  take(bytes: number): void {
    this.count += 1;
    this.bytes += bytes;
  }

  give(bytes: number): void {
    this.count -= 1;
    this.bytes -= bytes;
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function checkCrashStates(input: CheckCrashStatesInput): Promise<CheckReport> {
  const { spec } = input;
  const timeoutMs = input.timeoutMs ?? defaultTimeoutMs;
  const jobs = input.jobs ?? defaultConcurrency();
  const cache = input.cache ?? new RecoveryCache();
  const pool = new WorkerPool(jobs);
  const budget = new ImageBudget(
    Math.max(1, input.maxInFlightImages ?? 2 * jobs),
    input.maxInFlightBytes ?? defaultMaxInFlightBytes,
  );
  let windows: OpWindows;
  try {
    windows = new OpWindows(input.regions, referenceStates(spec, input.regions));
  } catch (error) {
    throw new PmfitError(`target ${spec.name}: ${errorMessage(error)}`);
  }

  const outcomes: CrashOutcome[] = [];
  const seen = new Set<string>();
  const pendingVerdicts = new Map<string, Promise<Verdict>>();
  let recoveryRuns = 0;
  let checks = 0;
  let failure: { error: unknown } | undefined;
  let done = 0;

  // Outstanding verdict promises, so the end can wait for all of them.
  let outstanding = 0;
  const settledWaiters: Array<() => void> = [];
  const track = (promise: Promise<void>): void => {
    outstanding += 1;
    promise
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => {
        outstanding -= 1;
        if (outstanding === 0) for (const waiter of settledWaiters.splice(0)) waiter();
      });
  };

  const recover = async (image: ImagePatch, window: OpWindow): Promise<RecoveryResult> => {
    recoveryRuns += 1;
    cache.recoveryRuns += 1;
    const dir = imageDir(image.base.files.reduce((sum, file) => sum + file.length, 0));
    try {
      return await recoverImage(spec, image, dir, timeoutMs, spec.windowEnv ? opsDoneEnv(window) : {});
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  };

  const startRecovery = (hash: string, image: ImagePatch, bytes: number, window: OpWindow): Promise<RecoveryResult> => {
    const promise = pool
      .run(() => recover(image, window))
      .then((result) => {
        if (result.kind === 'failed') cache.failures.set(hash, result.verdict);
        else cache.putRecovered(hash, result.recovered);
        return result;
      })
      .finally(() => {
        cache.inflight.delete(hash);
        budget.give(bytes);
      });
    cache.inflight.set(hash, promise);
    return promise;
  };

  const check = (recovered: Recovered, window: OpWindow): Verdict => {
    if (!spec.check) return { kind: 'ok' };
    checks += 1;
    cache.checks += 1;
    return checkRecovered(spec, recovered, window.allowed);
  };

  /** The verdict of `state` in `window`; may wait for room (backpressure)
   *  before materializing, never advances the generator. */
  const verdictOf = async (state: CrashState, window: OpWindow): Promise<{ verdict: Promise<Verdict> }> => {
    // The image's recovery: by content, or by content and window when the
    // recovery commands are told the window (ops-done-env.ts).
    const hash = spec.windowEnv ? RecoveryCache.verdictKey(window.key, state.hash) : state.hash;
    const key = RecoveryCache.verdictKey(window.key, state.hash);
    const known = cache.verdicts.get(key);
    if (known) return { verdict: Promise.resolve(known) };
    const pending = pendingVerdicts.get(key);
    if (pending) return { verdict: pending };

    let recovery: Promise<RecoveryResult>;
    const failed = cache.failures.get(hash);
    const kept = failed ? undefined : cache.getRecovered(hash);
    const running = cache.inflight.get(hash);
    if (failed) recovery = Promise.resolve({ kind: 'failed', verdict: failed });
    else if (kept) recovery = Promise.resolve({ kind: 'recovered', recovered: kept });
    else if (running) recovery = running;
    else {
      await budget.waitForRoom();
      throwIfInterrupted();
      // Another state of the same image may have started meanwhile.
      const started = cache.inflight.get(hash);
      if (started) recovery = started;
      else {
        const image = state.patch();
        if (image.fileCount !== spec.pmFiles.length) {
          throw new PmfitError(
            `target ${spec.name} names ${spec.pmFiles.length} PM files but the crash state has ${image.fileCount} images`,
          );
        }
        const bytes = image.patchBytes;
        budget.take(bytes);
        recovery = startRecovery(hash, image, bytes, window);
      }
    }
    const verdict = recovery
      .then((result) => {
        const v = result.kind === 'failed' ? result.verdict : check(result.recovered, window);
        cache.verdicts.set(key, v);
        return v;
      })
      .finally(() => pendingVerdicts.delete(key));
    pendingVerdicts.set(key, verdict);
    return { verdict };
  };

  try {
    for (const group of input.groups) {
      if (failure) break;
      throwIfInterrupted();
      for (const range of windows.split(group.first, group.last)) {
        let remaining = group.states.length;
        const points = range.last - range.first + 1;
        const oneDone = (): void => {
          remaining -= 1;
          if (remaining === 0) {
            done += points;
            input.onProgress?.(done, input.crashPoints);
          }
        };
        if (remaining === 0) {
          done += points;
          input.onProgress?.(done, input.crashPoints);
        }
        for (const state of group.states) {
          const outcome: CrashOutcome = {
            first: range.first,
            last: range.last,
            hash: state.hash,
            window: range.window.key,
            verdict: { kind: 'ok' },
            describe: state.describe(),
          };
          outcomes.push(outcome);
          seen.add(state.hash);
          if (input.skip?.(state.hash)) {
            outcome.skipped = true;
            oneDone();
            continue;
          }
          const { verdict } = await verdictOf(state, range.window);
          track(
            verdict.then(
              (v) => {
                outcome.verdict = v;
                oneDone();
              },
              (error: unknown) => {
                if (!(error instanceof CommandNotRunError)) throw error;
                const points =
                  range.first === range.last ? `point ${range.first}` : `points ${range.first}-${range.last}`;
                throw error.onImage(`the crash image of crash ${points} (image ${state.hash})`);
              },
            ),
          );
        }
      }
    }
  } catch (error) {
    failure ??= { error };
  }

  if (outstanding > 0) await new Promise<void>((resolve) => settledWaiters.push(resolve));
  if (failure) throw failure.error;
  return { outcomes, distinctImages: seen.size, recoveryRuns, checks };
}
