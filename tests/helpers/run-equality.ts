// run-equality -- two runs' reports compared as equal up to what differs
// between any two runs, sharded or not (docs/sharding.md): wall-clock
// fields (startedAt, finishedAt, each run's seconds, each target's
// recordSeconds and its stack replay's seconds; a merged run's are its
// shards' sums) and the scratch directory in each target's command.

import * as fs from 'fs';
import type { Results } from '../../harness/results/schema';

/** The scratch directory a run records in (temp-root.ts): its name holds
 *  the process id and random letters. */
export const SCRATCH = /\/[^ "]*\/pmfit-\d+-\d+-\w+\/\d+-/g;

/** results.json with those fields set aside. */
export function normalized(results: Results): Results {
  const copy = JSON.parse(JSON.stringify(results)) as Results;
  copy.startedAt = copy.finishedAt = 'T';
  for (const target of copy.targets) {
    // Why there are no stacks: the missing library, or the merge.
    if (target.stacks?.kind === 'unavailable') target.stacks.why = 'WHY';
    if (target.stacks?.kind === 'unwound') target.stacks.seconds = 0;
    target.recordSeconds = 0;
    target.command = target.command.map((arg) => arg.replace(SCRATCH, 'SCRATCH/'));
  }
  for (const run of copy.runs) run.seconds = 0;
  return copy;
}

/** junit.xml's text with the same set aside: its time and timestamp
 *  attributes and the command property. */
export const junitText = (file: string): string =>
  fs
    .readFileSync(file, 'utf8')
    .replace(/ time="[\d.]+"/g, ' time="T"')
    .replace(/ timestamp="[^"]*"/g, ' timestamp="T"')
    .replace(SCRATCH, 'SCRATCH/');
