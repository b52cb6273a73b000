// run-fuzz -- property-based crash testing: fast-check generates operation
// sequences for a target, each case crashes one operation at every point and
// checks recovery and continuation, and a failing case is shrunk.
//
// One case (run-case.ts), for a sequence ops and a split point s:
//
//   1. plan (case-plan.ts, pure): ops[0..s) is the prefix, ops[s] the traced
//      operation (with traceAll: the operations after it that run in the same
//      invocation), the rest the continuation. The target's reference model
//      gives now[r], the state after each region r of the traced invocation,
//      and final[r], the state the continuation reaches from now[r]. The
//      continuation stops before an operation that cannot run from every
//      now[r] (an alloc free of the block being activated).
//   2. record (case-spec.ts): a fresh pool, the prefix untraced (setup), the
//      traced invocation recorded once.
//   3. first stage (check/runner.ts): every crash state of the chosen model is
//      recovered by the target's own recovery and checked by the target's
//      spec against the now[] its window allows: [before] / [before, after] /
//      [after] around each region.
//   4. second stage (continuation.ts): each distinct consistently recovered
//      image gets the continuation's invocations and the target's recovery
//      again; the result must pass the spec's check against final[r] of the
//      states r the image recovered to. Corruption that only shows later
//      (a dangling link the next insert follows) fails here.
//
// The case fails on the first violating crash state (lowest crash point, in
// either stage), or when the uninterrupted setup or traced invocation fails.
//
// The generated value is {ops, split}: ops from the target's arbitrary
// (targets/<name>/fuzz.ts: valid by construction, also after shrinking) and
// split taken modulo the number of ops, so every value is a case and both
// shrink towards shorter sequences and the first operation.
//
// Anything else that goes wrong (Ctrl-C, a pmfit or environment error, an
// invalid generated case) stops the run: later cases return at once and the
// error is thrown after fast-check is done, so it is reported as an error,
// not as a counterexample.
//
// fast-check's array shrinking removes operations from the front but seldom
// the last ones, so a last step tries the counterexample without the
// operations after the traced ones: when that still fails, it is the
// counterexample (a failure at recovery never depends on them).
//
// fast-check's seed and counterexample path repeat a run: the same seed with
// the same runs and maximum length regenerates the same cases, and adding the
// path goes straight to the counterexample and shrinks it again.

import * as fc from 'fast-check';
import type { ModelName } from '../persistency/model';
import { FuzzCase, FuzzCaseError } from './case-plan';
import type { AnyFuzzTarget } from './fuzz-target';
import { CaseOptions, CaseReport, runCase } from './run-case';

export interface FuzzOptions extends CaseOptions {
  target: AnyFuzzTarget;
  /** Cases to generate (before shrinking). */
  runs: number;
  /** Longest operation sequence. */
  maxOps: number;
  /** fast-check seed (32-bit). */
  seed: number;
  /** fast-check counterexample path, to resume from a failure. */
  path?: string;
  traceAll: boolean;
  model: ModelName;
  /** After each case: how many ran, and whether this one failed. */
  onCase?(progress: { cases: number; runs: number; shrinking: boolean; failed: boolean }): void;
}

export interface FuzzResult {
  seed: number;
  /** Cases generated up to the first failure (all of them when none failed). */
  runs: number;
  /** Cases checked in all, shrinking included. */
  cases: number;
  shrinks: number;
  /** Operations after the traced ones dropped from fast-check's counterexample. */
  trimmed: number;
  counterexample?: {
    fuzzCase: FuzzCase;
    report: CaseReport;
    /** fast-check's path to it, for `--path`. */
    path: string;
  };
}

function caseKey(fuzzCase: FuzzCase): string {
  return JSON.stringify([fuzzCase.ops, fuzzCase.split, fuzzCase.traceAll]);
}

/** caseArbitrary -- the generated cases of a target. */
export function caseArbitrary(target: AnyFuzzTarget, maxOps: number, traceAll: boolean): fc.Arbitrary<FuzzCase> {
  return fc
    .record({ ops: target.ops(maxOps) as fc.Arbitrary<unknown[]>, split: fc.nat(Math.max(0, maxOps - 1)) })
    .map(({ ops, split }) => ({ ops, split: ops.length > 0 ? split % ops.length : 0, traceAll }));
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const { target } = options;
  const failures = new Map<string, CaseReport>();
  let fatal: { error: unknown } | undefined;
  let cases = 0;
  let failedOnce = false;

  const property = fc.asyncProperty(caseArbitrary(target, options.maxOps, options.traceAll), async (fuzzCase) => {
    if (fatal) return true;
    let report: CaseReport;
    try {
      report = await runCase(target, fuzzCase, options);
    } catch (error) {
      fatal = {
        error:
          error instanceof FuzzCaseError
            ? new Error(`${target.name}: generated an invalid case: ${error.message}`)
            : error,
      };
      return true;
    }
    cases += 1;
    const failed = report.failure !== undefined;
    if (failed) failures.set(caseKey(fuzzCase), report);
    options.onCase?.({ cases, runs: cases, shrinking: failedOnce, failed });
    failedOnce ||= failed;
    return !failed;
  });

  const details = await fc.check(property, {
    numRuns: options.runs,
    seed: options.seed,
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  if (fatal) throw fatal.error;
  const result: FuzzResult = {
    seed: details.seed,
    runs: details.numRuns,
    cases,
    shrinks: details.numShrinks,
    trimmed: 0,
  };
  if (details.failed && details.counterexample !== null && details.counterexamplePath !== null) {
    let [fuzzCase] = details.counterexample;
    let report = failures.get(caseKey(fuzzCase));
    if (!report) throw new Error('fast-check reported a counterexample that never failed here');
    const end = fuzzCase.split + report.plan.traced.length;
    if (end < fuzzCase.ops.length) {
      const shorter: FuzzCase = { ...fuzzCase, ops: fuzzCase.ops.slice(0, end) };
      const trimmed = await runCase(target, shorter, options);
      result.cases += 1;
      if (trimmed.failure) {
        result.trimmed = fuzzCase.ops.length - end;
        fuzzCase = shorter;
        report = trimmed;
      }
    }
    result.counterexample = { fuzzCase, report, path: details.counterexamplePath };
  } else if (details.failed) {
    throw new Error('fast-check stopped without a counterexample');
  }
  return result;
}
