// threads-target -- what a multithreaded target gives the fuzzer
// (targets/<name>/fuzz-mt.ts): an arbitrary of one thread's operation
// sequence, the command that runs one sequence per thread, and the same kind
// of reference model as a single-threaded target (fuzz-target.ts).
//
// The program runs thread t's operations, in order, in its worker thread t
// (the t-th thread it creates, which the tracer numbers t). Which thread runs
// when is the thread schedule's (--schedule-seed), so the reference states
// come from the trace: each region is the next region of the thread that ran
// it (threads-case.ts). The model needs an operation's regions to run
// without another thread's region between them (one lock around each
// operation, as `tree mtinsert` takes).

import type * as fc from 'fast-check';
import type { Command } from '../check/spec';
import type { FuzzTargetBase } from './fuzz-target';

export interface ThreadsFuzzTarget<Op, State> extends FuzzTargetBase<Op, State> {
  /** Most worker threads the program takes. */
  maxThreads: number;
  /** Valid sequences of 1..maxOps operations of one thread. */
  threadOps(maxOps: number): fc.Arbitrary<Op[]>;
  /** The command that runs threads[t] in worker thread t + 1; `{dir}` is
   *  the working directory holding the pmFiles. */
  command(threads: readonly (readonly Op[])[]): Command;
}

/** A threaded fuzz target whose Op and State types are not known to the caller. */
export type AnyThreadsFuzzTarget = ThreadsFuzzTarget<unknown, unknown>;
