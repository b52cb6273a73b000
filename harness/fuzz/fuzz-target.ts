// fuzz-target -- what a target gives the fuzzer (targets/<name>/fuzz.ts):
// an arbitrary of valid operation sequences, how operations run as commands,
// and a reference model that predicts the state after every region.
//
// An operation (Op) is what the fuzzer generates, shrinks, splits at, prints
// and writes to replay files: a JSON value of the target's own shape (a tree
// insert or free, an `alloc run` invocation, a basic string). Running ops
// takes commands: consecutive ops that `joins` allows share one invocation
// (tree inserts, basic strings); others run one invocation each.
//
// The model works on the target's own State (for example the tree's words in
// insertion order, which fixes the order `tree free` frees them). `apply`
// gives the state after each region the op's invocation runs (one per tree
// insert, one per node of a `tree free`, one per `alloc run` OP), or
// undefined when the op cannot run from that state (the fuzzer never
// generates such sequences; the check cuts a continuation there, see
// case-plan.ts). `reference` turns a state into what the target spec's check
// compares recovered data with (TargetSpec.states).

import type * as fc from 'fast-check';
import type { CheckedSpec, Command, ReferenceState } from '../check/spec';

/** What every fuzz target gives, single- or multithreaded
 *  (threads-target.ts): its name, its spec and its reference model. */
export interface FuzzTargetBase<Op, State> {
  /** Name on the command line and in replay files (tree, tree_mt, ...). */
  name: string;
  /** The target's spec for `env` with no workload of its own: its pmFiles,
   *  setup (a fresh, small pool), recover commands, check and expectation
   *  are used; workload and states are replaced per case. */
  baseSpec(env: Record<string, string>): CheckedSpec;
  /** The model's state before any operation (a fresh pool). */
  initial(): State;
  /** States after each region of `op` run from `state` (empty when the op
   *  runs no region), or undefined when `op` cannot run from `state`. */
  apply(state: State, op: Op): State[] | undefined;
  /** What the spec's check compares recovered data with. */
  reference(state: State): ReferenceState;
  /** One short line for people: `insert 'abc'`, `run r0:200 a0`. */
  showOp(op: Op): string;
  /** An op read back from a replay file; throws an Error whose message says
   *  what is wrong. */
  parseOp(value: unknown): Op;
}

export interface FuzzTarget<Op, State> extends FuzzTargetBase<Op, State> {
  /** Valid sequences of at most maxOps operations (at least one). */
  ops(maxOps: number): fc.Arbitrary<Op[]>;
  /** Can `next` run in the same invocation right after `previous`? */
  joins(previous: Op, next: Op): boolean;
  /** The command that runs `ops` (joined) in one invocation; `{dir}` is the
   *  working directory holding the pmFiles. */
  command(ops: readonly Op[]): Command;
}

/** A fuzz target whose Op and State types are not known to the caller. */
export type AnyFuzzTarget = FuzzTarget<unknown, unknown>;
