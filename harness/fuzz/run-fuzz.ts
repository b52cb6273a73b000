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
// A multithreaded target (threads-target.ts) is searched the same way
// (runThreadsFuzz): the generated value is {threads, scheduleSeed}, an
// operation sequence per thread and the schedule seed, which shrink to
// fewer threads, shorter sequences and seed 0, each shrink checked again, so
// the counterexample still fails with its own interleaving.
//
// fast-check's seed and counterexample path repeat a run: the same seed with
// the same runs and maximum length regenerates the same cases, and adding the
// path goes straight to the counterexample and shrinks it again.

import * as fc from 'fast-check';
import type { ModelName } from '../persistency/model';
import { FuzzCase, FuzzCaseError } from './case-plan';
import type { AnyFuzzTarget } from './fuzz-target';
import { CaseOptions, CaseReport, CheckReport, runCase } from './run-case';
import { runThreadsCase } from './run-threads-case';
import { ThreadsCase, threadsArbitrary } from './threads-case';
import type { AnyThreadsFuzzTarget } from './threads-target';

/** Options of a search, whatever the target's kind. */
export interface SearchOptions extends CaseOptions {
  /** Cases to generate (before shrinking). */
  runs: number;
  /** Longest operation sequence (of each thread, for a threaded target). */
  maxOps: number;
  /** fast-check seed (32-bit). */
  seed: number;
  /** fast-check counterexample path, to resume from a failure. */
  path?: string;
  model: ModelName;
  /** After each case: how many ran, and whether this one failed. */
  onCase?(progress: { cases: number; runs: number; shrinking: boolean; failed: boolean }): void;
}

export interface FuzzOptions extends SearchOptions {
  target: AnyFuzzTarget;
  traceAll: boolean;
}

export interface ThreadsFuzzOptions extends SearchOptions {
  target: AnyThreadsFuzzTarget;
  /** Most threads of a case. */
  maxThreads: number;
}

export interface SearchResult<C, R extends CheckReport> {
  seed: number;
  /** Cases generated up to the first failure (all of them when none failed). */
  runs: number;
  /** Cases checked in all, shrinking included. */
  cases: number;
  shrinks: number;
  /** Operations after the traced ones dropped from fast-check's counterexample. */
  trimmed: number;
  counterexample?: {
    fuzzCase: C;
    report: R;
    /** fast-check's path to it, for `--path`. */
    path: string;
  };
}

export type FuzzResult = SearchResult<FuzzCase, CaseReport>;
export type ThreadsFuzzResult = SearchResult<ThreadsCase, CheckReport>;

/** How one kind of case is generated, checked and trimmed. */
interface CaseKind<C, R extends CheckReport> {
  name: string;
  arbitrary: fc.Arbitrary<C>;
  run(fuzzCase: C): Promise<R>;
  /** A shorter case to try after shrinking (see the header), if any. */
  trim?(fuzzCase: C, report: R): { fuzzCase: C; dropped: number } | undefined;
}

/** caseArbitrary -- the generated cases of a target. */
export function caseArbitrary(target: AnyFuzzTarget, maxOps: number, traceAll: boolean): fc.Arbitrary<FuzzCase> {
  return fc
    .record({ ops: target.ops(maxOps) as fc.Arbitrary<unknown[]>, split: fc.nat(Math.max(0, maxOps - 1)) })
    .map(({ ops, split }) => ({ ops, split: ops.length > 0 ? split % ops.length : 0, traceAll }));
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const { target } = options;
  return search(options, {
    name: target.name,
    arbitrary: caseArbitrary(target, options.maxOps, options.traceAll),
    run: (fuzzCase) => runCase(target, fuzzCase, options),
    trim(fuzzCase, report) {
      const end = fuzzCase.split + report.plan.traced.length;
      if (end >= fuzzCase.ops.length) return undefined;
      return { fuzzCase: { ...fuzzCase, ops: fuzzCase.ops.slice(0, end) }, dropped: fuzzCase.ops.length - end };
    },
  });
}

export async function runThreadsFuzz(options: ThreadsFuzzOptions): Promise<ThreadsFuzzResult> {
  const { target } = options;
  return search(options, {
    name: target.name,
    arbitrary: threadsArbitrary(target, options.maxThreads, options.maxOps),
    run: (threadsCase) => runThreadsCase(target, threadsCase, options),
  });
}

async function search<C, R extends CheckReport>(
  options: SearchOptions,
  kind: CaseKind<C, R>,
): Promise<SearchResult<C, R>> {
  const failures = new Map<string, R>();
  let fatal: { error: unknown } | undefined;
  let cases = 0;
  let failedOnce = false;

  const property = fc.asyncProperty(kind.arbitrary, async (fuzzCase) => {
    if (fatal) return true;
    let report: R;
    try {
      report = await kind.run(fuzzCase);
    } catch (error) {
      fatal = {
        error:
          error instanceof FuzzCaseError
            ? new Error(`${kind.name}: generated an invalid case: ${error.message}`)
            : error,
      };
      return true;
    }
    cases += 1;
    const failed = report.failure !== undefined;
    if (failed) failures.set(JSON.stringify(fuzzCase), report);
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
  const result: SearchResult<C, R> = {
    seed: details.seed,
    runs: details.numRuns,
    cases,
    shrinks: details.numShrinks,
    trimmed: 0,
  };
  if (details.failed && details.counterexample !== null && details.counterexamplePath !== null) {
    let [fuzzCase] = details.counterexample;
    let report = failures.get(JSON.stringify(fuzzCase));
    if (!report) throw new Error('fast-check reported a counterexample that never failed here');
    const shorter = kind.trim?.(fuzzCase, report);
    if (shorter) {
      const trimmed = await kind.run(shorter.fuzzCase);
      result.cases += 1;
      if (trimmed.failure) {
        result.trimmed = shorter.dropped;
        fuzzCase = shorter.fuzzCase;
        report = trimmed;
      }
    }
    result.counterexample = { fuzzCase, report, path: details.counterexamplePath };
  } else if (details.failed) {
    throw new Error('fast-check stopped without a counterexample');
  }
  return result;
}
