// case-plan -- how one fuzz case splits its operation sequence, and what the
// reference model says about every crash in it. Pure: no processes, no files.
//
// A case is a sequence of operations and a split point s:
//
//   ops[0..s)                  prefix: run untraced while setting up the pool
//   ops[s]                     traced: the one operation crashed at every point
//   ops[s+1..]                 continuation: run on each recovered image
//
// With `traceAll`, the traced part is ops[s] and the operations after it as
// far as the target runs them in the same invocation (tree inserts, basic
// strings; never past an alloc invocation or a tree free): the tracer follows
// one process, so one invocation is what can be traced.
//
// The traced invocation runs regions r = 1..R (R from the model: one per
// insert, per freed node, per alloc OP, per string). Its reference states are
// now[0] (after the prefix) and now[r] (after region r). A crash may recover
// to now[r-1] or now[r] when it falls inside region r, to now[r] between
// regions (check/allowed-states.ts).
//
// The continuation is then run on each recovered image, which shows
// corruption that only matters later (a dangling pointer the next insert
// follows, a free list that the next reservation trusts). Its expected result
// depends on where the recovery landed: final[r] is the model's state after
// running the continuation from now[r]. The check ties the two: an image that
// recovered to now[r] must end at final[r] (continuation.ts).
//
// Continuing must be possible from every now[r]: an alloc free of a block
// whose activation was the interrupted operation cannot run from the state
// before it. The continuation stops before the first operation the model
// rejects from some now[r] (`dropped` counts what is left out); generated
// sequences avoid most such cases (alloc handles are never reused).

import type { Command, ReferenceState } from '../check/spec';
import type { AnyFuzzTarget } from './fuzz-target';

export interface FuzzCase {
  /** The operations, in the target's own JSON form. */
  ops: unknown[];
  /** Index of the first traced operation. */
  split: number;
  /** Trace every operation from the split that shares its invocation. */
  traceAll: boolean;
}

/** One reference state of the traced invocation: the state itself, and the
 *  state the continuation must reach from it. */
export interface StatePair {
  now: ReferenceState;
  final: ReferenceState;
}

export interface CasePlan {
  prefix: unknown[];
  traced: unknown[];
  /** Regions of each traced operation, by the model. */
  tracedRegions: number[];
  continued: unknown[];
  /** Operations after the traced ones that are not run (see the header). */
  dropped: number;
  /** Invocations that run the prefix, after the target's own setup. */
  setup: Command[];
  /** The traced invocation. */
  workload: Command;
  /** Invocations that run the continuation on a recovered image. */
  continuation: Command[];
  /** One per region boundary of the traced invocation: R + 1 pairs. */
  states: StatePair[];
}

/** FuzzCaseError -- a case that cannot be planned: an operation the model
 *  rejects, a split outside the sequence. */
export class FuzzCaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzCaseError';
  }
}

/** invocations -- OPS cut into runs that share one invocation. */
export function invocations(target: AnyFuzzTarget, ops: readonly unknown[]): unknown[][] {
  const runs: unknown[][] = [];
  for (const op of ops) {
    const last = runs[runs.length - 1];
    if (last && target.joins(last[last.length - 1], op)) last.push(op);
    else runs.push([op]);
  }
  return runs;
}

/** tracedCount -- how many operations from SPLIT the traced invocation runs. */
export function tracedCount(target: AnyFuzzTarget, ops: readonly unknown[], split: number, traceAll: boolean): number {
  let count = 1;
  while (traceAll && split + count < ops.length && target.joins(ops[split + count - 1], ops[split + count])) count += 1;
  return count;
}

export function planCase(target: AnyFuzzTarget, fuzzCase: FuzzCase): CasePlan {
  const { ops, split } = fuzzCase;
  if (ops.length === 0) throw new FuzzCaseError('the operation sequence is empty');
  if (!Number.isSafeInteger(split) || split < 0 || split >= ops.length) {
    throw new FuzzCaseError(`split point ${split} is outside the ${ops.length} operations`);
  }
  const step = (state: unknown, op: unknown, index: number): unknown[] => {
    const after = target.apply(state, op);
    if (!after)
      throw new FuzzCaseError(
        `operation #${index + 1} (${target.showOp(op)}) cannot run from the model's state before it`,
      );
    return after;
  };

  let state: unknown = target.initial();
  for (let i = 0; i < split; i += 1) {
    const after = step(state, ops[i], i);
    if (after.length > 0) state = after[after.length - 1];
  }

  const count = tracedCount(target, ops, split, fuzzCase.traceAll);
  const traced = ops.slice(split, split + count);
  const now: unknown[] = [state];
  const tracedRegions = traced.map((op, j) => {
    const after = step(now[now.length - 1], op, split + j);
    now.push(...after);
    return after.length;
  });

  // Continue from every now[r] while the model accepts the next operation from all of them.
  let ends = [...now];
  const rest = ops.slice(split + count);
  let kept = 0;
  for (const op of rest) {
    const next: unknown[] = [];
    for (const from of ends) {
      const after = target.apply(from, op);
      if (!after) break;
      next.push(after.length > 0 ? after[after.length - 1] : from);
    }
    if (next.length < ends.length) break;
    ends = next;
    kept += 1;
  }
  const continued = rest.slice(0, kept);

  return {
    prefix: ops.slice(0, split),
    traced,
    tracedRegions,
    continued,
    dropped: rest.length - kept,
    setup: invocations(target, ops.slice(0, split)).map((run) => target.command(run)),
    workload: target.command(traced),
    continuation: invocations(target, continued).map((run) => target.command(run)),
    states: now.map((s, r) => ({ now: target.reference(s), final: target.reference(ends[r]) })),
  };
}

/** regionOperation -- which traced operation (index into plan.traced) runs
 *  region R (0-based), and which of its regions it is. */
export function regionOperation(plan: CasePlan, region: number): { op: number; region: number } | undefined {
  let first = 0;
  for (let op = 0; op < plan.tracedRegions.length; op += 1) {
    if (region < first + plan.tracedRegions[op]) return { op, region: region - first };
    first += plan.tracedRegions[op];
  }
  return undefined;
}
