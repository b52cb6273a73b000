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
import type { CheckedSpec, Command, ReferenceState } from '../check/spec';

export interface ThreadsFuzzTarget<Op, State> {
  /** Name on the command line and in replay files (tree_mt, tree_mt_broken). */
  name: string;
  /** Most worker threads the program takes. */
  maxThreads: number;
  /** The target's spec for `env`: its pmFiles, setup, recover commands,
   *  check and expectation; workload and states are replaced per case. */
  baseSpec(env: Record<string, string>): CheckedSpec;
  /** Valid sequences of 1..maxOps operations of one thread. */
  threadOps(maxOps: number): fc.Arbitrary<Op[]>;
  /** The command that runs threads[t] in worker thread t + 1; `{dir}` is
   *  the working directory holding the pmFiles. */
  command(threads: readonly (readonly Op[])[]): Command;
  /** The model's state before any operation (a fresh pool). */
  initial(): State;
  /** States after each region of `op` run from `state`, or undefined when
   *  it cannot run from there. */
  apply(state: State, op: Op): State[] | undefined;
  /** What the spec's check compares recovered data with. */
  reference(state: State): ReferenceState;
  /** One short line for people: `insert "a"`. */
  showOp(op: Op): string;
  /** An op read back from a replay file; throws an Error saying what is wrong. */
  parseOp(value: unknown): Op;
}

/** A threaded fuzz target whose Op and State types are not known to the caller. */
export type AnyThreadsFuzzTarget = ThreadsFuzzTarget<unknown, unknown>;
