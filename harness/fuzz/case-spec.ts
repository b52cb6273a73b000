// case-spec -- the TargetSpec that checks the crash states of one fuzz case
// (case-plan.ts) with the ordinary checker (check/runner.ts):
//
//   setup     the target's own setup (a fresh 64 KiB pool), then the prefix
//   workload  the traced invocation
//   states    the plan's StatePairs {now, final}, one per region boundary, so
//             a crash window allows [pair before] / [before, after] / [after]
//   recover   the target's recover commands (its own recovery and check)
//   check     the target spec's check against the allowed `now` states
//
// The continuation is a second stage (continuation.ts): it runs on each
// distinct recovered image, not in these recover commands, so that the many
// crash images that recover to the same few states cost one continuation
// each. `final` rides along in the pairs for it.

import type { CheckedSpec } from '../check/spec';
import type { CasePlan, StatePair } from './case-plan';
import type { AnyFuzzTarget } from './fuzz-target';

/** caseSpec -- the spec of one planned case (see the header). */
export function caseSpec(target: AnyFuzzTarget, plan: CasePlan, env: Record<string, string>): CheckedSpec {
  const base = target.baseSpec(env);
  return {
    ...fromBaseSpec(target.name, base),
    setup: [...base.setup, ...plan.setup],
    workload: plan.workload,
    states: plan.states,
    check: (input) => base.check({ ...input, allowed: (input.allowed as StatePair[]).map((pair) => pair.now) }),
  };
}

/** fromBaseSpec -- what the spec of a case of either kind of target
 *  (threads-case.ts too) keeps of the target's base spec as it is. */
export function fromBaseSpec(
  name: string,
  base: CheckedSpec,
): Pick<CheckedSpec, 'name' | 'description' | 'expect' | 'pmFiles' | 'recover' | 'env'> {
  return {
    name,
    description: base.description,
    expect: base.expect,
    pmFiles: base.pmFiles,
    recover: base.recover,
    env: base.env,
  };
}

/** matchingPairs -- the pairs whose `now` the recovered files equal, by the
 *  target spec's own check. */
export function matchingPairs(
  base: CheckedSpec,
  files: Buffer[],
  recoveryOutput: string,
  pairs: readonly StatePair[],
): StatePair[] {
  return pairs.filter((pair) => {
    try {
      return base.check({ files, recoveryOutput, allowed: [pair.now] }).length === 0;
    } catch {
      return false;
    }
  });
}
