// reproduce-case -- what `pmfit reproduce` needs to check a group of a fuzz
// counterexample's run again: the case's spec, rebuilt from the case that
// results.json records (target name, operations, split), and its second
// stage. The run's group verdicts are the recovery's check and, for a
// consistent recovery, the continuation's (run-case.ts): the same two steps
// on the one rebuilt image give the same verdict.

import { OpWindows, Region } from '../check/allowed-states';
import { RecoveryCache, type Recovered } from '../check/recovery-cache';
import type { CheckedSpec } from '../check/spec';
import type { Verdict } from '../check/verdict';
import type { FuzzCaseCheck } from '../results/schema';
import { planCase } from './case-plan';
import { caseSpec } from './case-spec';
import { checkContinuations } from './continuation';
import type { AnyFuzzTarget } from './fuzz-target';
import { continuationLabel } from './run-case';

export interface ReproducibleCase {
  spec: CheckedSpec;
  /** The operations the continuation runs after recovery ([] when none). */
  continued: string[];
  /** The continuation's verdict on the image recovered at crash point k. */
  continueAfter(recovered: Recovered, k: number, hash: string, regions: Region[], timeoutMs: number): Promise<Verdict>;
}

export function reproducibleCase(target: AnyFuzzTarget, check: FuzzCaseCheck): ReproducibleCase {
  const plan = planCase(target, { ops: check.ops, split: check.split, traceAll: check.traceAll });
  const env = { PMEM_MODE: check.pmemMode };
  const spec = caseSpec(target, plan, env);
  return {
    spec,
    continued: plan.continued.map((op) => target.showOp(op)),
    async continueAfter(recovered, k, hash, regions, timeoutMs) {
      if (plan.continuation.length === 0) return { kind: 'ok' };
      const windows = new OpWindows(regions, spec.states);
      const cache = new RecoveryCache();
      cache.putRecovered(hash, recovered);
      const report = await checkContinuations({
        base: target.baseSpec(env),
        plan,
        outcomes: [{ first: k, last: k, hash, window: windows.windowAt(k).key, verdict: { kind: 'ok' }, describe: [] }],
        windows,
        cache,
        timeoutMs,
        jobs: 1,
        label: continuationLabel(target, plan),
      });
      return report.first?.verdict ?? { kind: 'ok' };
    },
  };
}
