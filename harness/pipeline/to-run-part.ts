// to-run-part -- one model's check by one shard (`allcounts --shard i/n`),
// in the form `pmfit merge` combines (results/shard-results.ts): the run's
// totals, and for each outcome class among this shard's images the group
// toRunResult makes of them, explained as a single run explains its groups.
// A class's first outcome here is its first over all shards when the merge
// keeps this group; the run's first MAX_EXPLAINED_GROUPS violation groups
// are each among the first of their shard, so explaining those here is
// enough. Its own outcomes go along as findings read them (their verdicts'
// kinds), for pmfit merge to find the findings of the whole run.

import { collateSpans, mergeSpans } from '../_internals/collate';
import { collateOutcomes, outcomeClass } from '../check/outcome-groups';
import type { CrashOutcome } from '../check/runner';
import { isViolation } from '../check/verdict';
import type { OutcomePart, RunPart } from '../results/shard-results';
import { explainGroups, type ExplainContext } from './explain-groups';
import { toRunResult, type RunResultInput } from './to-run-result';

export async function toRunPart(input: RunResultInput, explain: ExplainContext): Promise<RunPart> {
  const { report } = input;
  const firstOf = new Map<string, number>();
  const own: CrashOutcome[] = [];
  const outcomes: OutcomePart[] = [];
  report.outcomes.forEach((outcome, i) => {
    if (outcome.skipped) return;
    own.push(outcome);
    outcomes.push([i, outcome.first, outcome.last, outcome.hash, outcome.verdict.kind]);
    const key = outcomeClass(outcome.verdict);
    if (!firstOf.has(key)) firstOf.set(key, i);
  });
  const run = toRunResult({ ...input, report: { ...report, outcomes: own } });
  await explainGroups(run, explain);
  // The same collation toRunResult made: its groups, in its order.
  const classes = collateOutcomes(own);
  return {
    target: run.target,
    model: run.model,
    expect: run.expect,
    instructions: run.instructions,
    crashPoints: run.crashPoints,
    states: report.outcomes.reduce((sum, outcome) => sum + (outcome.last - outcome.first + 1), 0),
    distinctImages: report.distinctImages,
    violating: collateSpans(mergeSpans(own.filter((outcome) => isViolation(outcome.verdict)))),
    seconds: run.seconds,
    ...(run.schedule ? { schedule: run.schedule } : {}),
    classes: classes.map((cls, i) => ({
      key: cls.key,
      order: firstOf.get(cls.key) as number,
      crashPoints: cls.ranges,
      hashes: cls.hashes,
      group: run.groups[i],
    })),
    outcomeCount: report.outcomes.length,
    outcomes,
  };
}
