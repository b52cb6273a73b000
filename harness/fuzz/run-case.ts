// run-case -- check one fuzz case: plan it (case-plan.ts), build its spec
// (case-spec.ts), set up a fresh pool with the prefix, record the traced
// invocation once, and check every crash state of one persistency model with
// the ordinary checker (check/runner.ts). The same steps as
// pipeline/run-target.ts, done here so that the case's regions and outcomes
// are at hand and its files are removed as soon as it is done (a fuzz run
// checks hundreds of cases in one process).
//
// Then, when the plan has a continuation, the second stage (continuation.ts)
// continues every consistently recovered image.
//
// Outcome: ok, or the case's failure: the uninterrupted prefix or traced run
// failed (a bug without any crash), or the first violating crash state (the
// lowest crash point, then the model's order of states) of either stage. A
// traced operation that runs no region (a free of an empty tree) has no crash
// point to check: such a case passes without running anything.
//
// With `explain` (the counterexample a report shows), the case's check is
// also collated into a results.json run, with a continuation's verdict in
// place of a consistent recovery's, and its violation groups explained the
// way allcounts does (pipeline/explain-groups.ts).

import * as fs from 'fs';
import { tempDir, tempPath } from '../_internals/temp-root';
import { runSetup } from '../check/run-setup';
import { checkCrashStates, CrashOutcome, RecoveryCache } from '../check/runner';
import { OpWindows, Region } from '../check/allowed-states';
import { referenceStates, type CheckedSpec, type TargetSpec } from '../check/spec';
import { isViolation, Verdict } from '../check/verdict';
import { crashStates, LineChoice, ModelName, resolveOptions } from '../persistency/model';
import { explainGroups } from '../pipeline/explain-groups';
import { keepTrace } from '../pipeline/keep-trace';
import { recordWorkload } from '../pipeline/record-workload';
import { targetRecord } from '../pipeline/target-record';
import { toRunResult } from '../pipeline/to-run-result';
import type { FuzzCaseCheck, FuzzThreadsCheck, RunResult, TargetRecord } from '../results/schema';
import { TraceReader } from '../trace/format';
import { CasePlan, FuzzCase, planCase } from './case-plan';
import { caseSpec } from './case-spec';
import { checkContinuations, type ContinuationReport } from './continuation';
import type { AnyFuzzTarget } from './fuzz-target';

export interface CaseOptions {
  model: ModelName;
  /** px86: states per crash point before sampling, and the sampling seed. */
  maxStates: number;
  modelSeed: number;
  /** PMEM_MODE for every command ('' = the programs' default, clflush). */
  pmemMode: string;
  /** Limit of each setup, recovery and continuation command. */
  timeoutMs: number;
  jobs: number;
  maxSteps?: number;
  /** Also collate and explain the check into CaseReport.run. */
  explain?: boolean;
  /** With `explain`: keep the trace beside results.json in `dir` and make
   *  every group's reproduce line with `reproduce` (`pmfit reproduce
   *  RESULTS ID`), as allcounts does. */
  keep?: { dir: string; reproduce(groupId: string): string };
}

export type CaseFailure =
  | { stage: 'setup'; command: string; why: string; output: string }
  | { stage: 'workload'; exitCode: number | null; output: string }
  | {
      stage: 'crash';
      /** Which check failed: recovery of the crash image, or the continuation after it. */
      phase: 'recovery' | 'continuation';
      k: number;
      hash: string;
      /** The operation window of k (check/allowed-states.ts): s<i> or op<i>. */
      window: string;
      verdict: Exclude<Verdict, { kind: 'ok' }>;
      /** px86: the version each unsettled line took. */
      describe: LineChoice[];
      /** Crash points with at least one violating state. */
      violatingPoints: number;
    };

/** The check of one case's spec (checkCase). */
export interface CheckReport {
  spec: TargetSpec;
  instructions: number;
  regions: Region[];
  distinctImages: number;
  /** Continuations run (distinct recovered images continued). */
  continuations: number;
  failure?: CaseFailure;
  /** With `explain`, when the case got as far as checking crash states. */
  run?: RunResult;
  target?: TargetRecord;
}

/** The check of a single-threaded case, with its plan. */
export interface CaseReport extends CheckReport {
  plan: CasePlan;
}

/** continuationLabel -- how messages of the second stage begin. */
export function continuationLabel(target: AnyFuzzTarget, plan: CasePlan): string {
  const n = plan.continued.length;
  return `after continuing with ${n} operation${n === 1 ? '' : 's'} (${plan.continued.map((op) => target.showOp(op)).join(', ')})`;
}

function lastLines(text: string, n = 5): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** firstViolation -- the outcome with the lowest crash point, in report order. */
export function firstViolation(outcomes: readonly CrashOutcome[]): CrashOutcome | undefined {
  let best: CrashOutcome | undefined;
  for (const outcome of outcomes) {
    if (isViolation(outcome.verdict) && (!best || outcome.first < best.first)) best = outcome;
  }
  return best;
}

function countPoints(outcomes: readonly CrashOutcome[]): number {
  const spans = outcomes.map((o) => [o.first, o.last] as const).sort((a, b) => a[0] - b[0]);
  let count = 0;
  let upTo = -1;
  for (const [first, last] of spans) {
    const from = Math.max(first, upTo + 1);
    if (last >= from) count += last - from + 1;
    upTo = Math.max(upTo, last);
  }
  return count;
}

export async function runCase(target: AnyFuzzTarget, fuzzCase: FuzzCase, options: CaseOptions): Promise<CaseReport> {
  const plan = planCase(target, fuzzCase);
  const env = { PMEM_MODE: options.pmemMode };
  const spec = caseSpec(target, plan, env);
  if (plan.tracedRegions.every((regions) => regions === 0)) {
    // Nothing to crash (a free of an empty tree): the tracer would find no region.
    return { plan, spec, instructions: 0, regions: [], distinctImages: 0, continuations: 0 };
  }
  const { ops, split, traceAll } = fuzzCase;
  const checked = await checkCase(spec, options, {
    name: target.name,
    record: { kind: 'fuzz', ops, split, traceAll, pmemMode: options.pmemMode },
    ...(plan.continuation.length > 0
      ? {
          continueImages: (input) =>
            checkContinuations({
              ...input,
              base: target.baseSpec(env),
              plan,
              timeoutMs: options.timeoutMs,
              jobs: options.jobs,
              label: continuationLabel(target, plan),
            }),
        }
      : {}),
  });
  return { plan, ...checked };
}

/** What a case's check needs beyond its spec. */
interface CaseCheck {
  /** The fuzz target's name (temporary files, kept trace). */
  name: string;
  /** How results.json records the case, for `pmfit reproduce`. */
  record: FuzzCaseCheck | FuzzThreadsCheck;
  /** The second stage, for a case with a continuation. */
  continueImages?(input: {
    outcomes: CrashOutcome[];
    windows: OpWindows;
    cache: RecoveryCache;
  }): Promise<ContinuationReport>;
}

/** checkCase -- set up, record and check the crash states of one case's
 *  spec (see the header); the same for single- and multithreaded cases. */
export async function checkCase(spec: CheckedSpec, options: CaseOptions, how: CaseCheck): Promise<CheckReport> {
  const work = tempDir(`fuzz-${how.name}`);
  const tracePath = tempPath(`fuzz-${how.name}.trace`);
  const logPath = tempPath(`fuzz-${how.name}.log`);
  const report: CheckReport = { spec, instructions: 0, regions: [], distinctImages: 0, continuations: 0 };
  const started = Date.now();
  try {
    const setup = await runSetup(spec, work, options.timeoutMs);
    if (setup.kind !== 'ok') {
      const why =
        setup.kind === 'crashed'
          ? `killed by ${setup.signal}`
          : setup.kind === 'timeout'
            ? 'timed out'
            : `exit status ${setup.exitCode}`;
      report.failure = { stage: 'setup', command: setup.command, why, output: lastLines(setup.output) };
      return report;
    }

    const header = await recordWorkload(spec, work, { output: tracePath, logPath, maxSteps: options.maxSteps });
    const recorded = Date.now();
    report.instructions = header.instructions;
    report.regions = header.regions;
    if (header.exitCode !== 0) {
      report.failure = {
        stage: 'workload',
        exitCode: header.exitCode,
        output: lastLines(fs.readFileSync(logPath, 'utf8')),
      };
      return report;
    }

    const reader = TraceReader.open(tracePath);
    try {
      const trace = {
        images: reader.images(),
        events: { [Symbol.iterator]: () => reader.events() },
        instructions: header.instructions,
      };
      const cache = new RecoveryCache();
      const checked = await checkCrashStates({
        groups: crashStates(options.model, trace, { maxStates: options.maxStates, seed: options.modelSeed }),
        regions: header.regions,
        spec,
        timeoutMs: options.timeoutMs,
        jobs: options.jobs,
        cache,
      });
      report.distinctImages = checked.distinctImages;
      const violating = checked.outcomes.filter((outcome) => isViolation(outcome.verdict));
      let outcomes = checked.outcomes;
      let first = firstViolation(checked.outcomes);
      let phase: 'recovery' | 'continuation' = 'recovery';
      let verdict = first?.verdict;
      if (how.continueImages) {
        const continued = await how.continueImages({
          outcomes: checked.outcomes,
          windows: new OpWindows(header.regions, referenceStates(spec, header.regions)),
          cache,
        });
        report.continuations = continued.runs;
        violating.push(...continued.violating.map((v) => v.outcome));
        const afterwards = new Map(continued.violating.map((v) => [v.outcome, v.verdict]));
        outcomes = outcomes.map((outcome) => {
          const verdict = afterwards.get(outcome);
          return verdict ? { ...outcome, verdict } : outcome;
        });
        if (continued.first && (!first || continued.first.outcome.first < first.first)) {
          first = continued.first.outcome;
          verdict = continued.first.verdict;
          phase = 'continuation';
        }
      }
      if (first && verdict && verdict.kind !== 'ok') {
        report.failure = {
          stage: 'crash',
          phase,
          k: first.first,
          hash: first.hash,
          window: first.window,
          verdict,
          describe: first.describe as LineChoice[],
          violatingPoints: countPoints(violating),
        };
      }
      if (options.explain) {
        report.target = targetRecord(spec, header, (recorded - started) / 1000);
        report.target.check = how.record;
        if (options.keep) {
          const kept = keepTrace(tracePath, options.keep.dir, how.name);
          if (kept.kind === 'kept') report.target.trace = kept.file;
          else report.target.traceNotKept = kept.why;
        }
        const run = toRunResult({
          spec,
          model: options.model,
          header,
          report: { ...checked, outcomes },
          seconds: (Date.now() - recorded) / 1000,
          reproduce: options.keep?.reproduce,
        });
        await explainGroups(run, {
          spec,
          header,
          reader,
          model: options.model,
          modelOptions: resolveOptions({ maxStates: options.maxStates, seed: options.modelSeed }),
          timeoutMs: options.timeoutMs,
        });
        report.run = run;
      }
    } finally {
      reader.close();
    }
    return report;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(tracePath, { force: true });
    fs.rmSync(logPath, { force: true });
  }
}
