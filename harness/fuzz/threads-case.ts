// threads-case -- one case of a multithreaded fuzz target (threads-target.ts):
// an operation sequence per thread and the seed of the thread schedule, the
// TargetSpec that checks it, and which operation of which thread each region
// of its trace ran. Pure: no processes, no files.
//
// The schedule seed is part of the case, so that a case fixes its
// interleaving: a failing case replays the same interleaving, and shrinking
// may change the seed only to one that still fails. The whole program is
// traced (one invocation, every thread), so a case has no untraced prefix
// and no continuation; its crash images are checked by the ordinary
// checker, with the reference states of the trace's own interleaving
// (TargetSpec.statesOf): region i of thread t is the next region of the
// operation thread t is running, else of its next operation that runs one.

import * as fc from 'fast-check';
import type { CheckedSpec } from '../check/spec';
import { FuzzCaseError } from './case-plan';
import { fromBaseSpec } from './case-spec';
import type { AnyThreadsFuzzTarget } from './threads-target';

export interface ThreadsCase {
  /** threads[t]: the operations of worker thread t + 1, in the target's JSON form. */
  threads: unknown[][];
  /** Seed of the thread schedule (--schedule-seed). */
  scheduleSeed: number;
}

/** Generated schedule seeds are below this. */
export const MAX_SCHEDULE_SEED = 0xffff;

/** Where a region of a trace came from: thread (1-based, as the tracer
 *  numbers workers), its operation (0-based index into threads[thread - 1])
 *  and the operation's region (0-based) of `regions` in all. */
export interface RegionOrigin {
  thread: number;
  op: number;
  region: number;
  regions: number;
}

/** threadsArbitrary -- 1..maxThreads threads of 1..maxOps operations each,
 *  and a schedule seed; shrinks to fewer threads, shorter sequences and
 *  seed 0. */
export function threadsArbitrary(
  target: AnyThreadsFuzzTarget,
  maxThreads: number,
  maxOps: number,
): fc.Arbitrary<ThreadsCase> {
  return fc.record({
    threads: fc.array(target.threadOps(maxOps) as fc.Arbitrary<unknown[]>, {
      minLength: 1,
      maxLength: Math.max(1, Math.min(maxThreads, target.maxThreads)),
    }),
    scheduleSeed: fc.nat(MAX_SCHEDULE_SEED),
  });
}

/** checkThreadsCase -- refuse a case the program cannot run (FuzzCaseError). */
export function checkThreadsCase(target: AnyThreadsFuzzTarget, threadsCase: ThreadsCase): void {
  const { threads, scheduleSeed } = threadsCase;
  if (threads.length === 0) throw new FuzzCaseError('the case has no thread');
  if (threads.length > target.maxThreads)
    throw new FuzzCaseError(`${threads.length} threads, but ${target.name} runs at most ${target.maxThreads}`);
  threads.forEach((ops, t) => {
    if (ops.length === 0) throw new FuzzCaseError(`thread ${t + 1} has no operation`);
  });
  if (!Number.isSafeInteger(scheduleSeed) || scheduleSeed < 0)
    throw new FuzzCaseError(`schedule seed ${scheduleSeed} is not a non-negative integer`);
}

/** interleave -- the reference states of a trace of the case (states[0]
 *  before any region, states[i + 1] after region i) and where each region
 *  came from. Throws FuzzCaseError when the regions do not fit the case: a
 *  region of a thread that runs no operation or has none left, or one
 *  between two regions of another thread's operation. */
export function interleave(
  target: AnyThreadsFuzzTarget,
  threadsCase: ThreadsCase,
  regions: readonly { thread?: number }[],
): { states: unknown[]; origins: RegionOrigin[] } {
  const { threads } = threadsCase;
  const cursors = threads.map(() => ({ next: 0, pending: [] as unknown[], total: 0 }));
  let state = target.initial();
  const states: unknown[] = [target.reference(state)];
  const origins: RegionOrigin[] = [];
  regions.forEach((region, i) => {
    const thread = region.thread ?? 0;
    const cursor = thread >= 1 ? cursors[thread - 1] : undefined;
    if (!cursor) throw new FuzzCaseError(`region ${i} ran in thread ${thread}, which runs no operation of the case`);
    if (cursor.pending.length === 0) {
      const busy = cursors.findIndex((other) => other.pending.length > 0);
      if (busy >= 0)
        throw new FuzzCaseError(
          `region ${i} of thread ${thread} ran inside operation #${cursors[busy].next} of thread ${busy + 1}`,
        );
      while (cursor.next < threads[thread - 1].length) {
        const op = threads[thread - 1][cursor.next];
        const after = target.apply(state, op);
        if (!after)
          throw new FuzzCaseError(
            `operation #${cursor.next + 1} of thread ${thread} (${target.showOp(op)}) cannot run from the model's state before it`,
          );
        cursor.next += 1;
        if (after.length > 0) {
          cursor.pending = after;
          cursor.total = after.length;
          break;
        }
      }
      if (cursor.pending.length === 0)
        throw new FuzzCaseError(`region ${i} of thread ${thread} is past the operations of that thread`);
    }
    state = cursor.pending.shift();
    states.push(target.reference(state));
    origins.push({
      thread,
      op: cursor.next - 1,
      region: cursor.total - cursor.pending.length - 1,
      regions: cursor.total,
    });
  });
  return { states, origins };
}

/** threadsSpec -- the spec that checks one case: the target's setup and
 *  recovery, the case's command as the workload, run with its schedule
 *  seed, and the reference states of each trace's interleaving. */
export function threadsSpec(
  target: AnyThreadsFuzzTarget,
  threadsCase: ThreadsCase,
  env: Record<string, string>,
): CheckedSpec {
  const base = target.baseSpec(env);
  return {
    ...fromBaseSpec(target.name, base),
    setup: base.setup,
    workload: target.command(threadsCase.threads),
    states: [],
    statesOf: (regions) => interleave(target, threadsCase, regions).states,
    scheduleSeed: threadsCase.scheduleSeed,
    check: base.check,
  };
}
