// settle-schedules -- a positive control checked under several thread
// schedules (`allcounts --schedules N`) is one expectation per model, not N:
// its bug shows only in the interleavings that reach it, so the control is
// met when at least one schedule of the target found violations under that
// model. Its schedules that found none then pass (they are not a failed
// run); when no schedule found any, every one of them fails, as a control
// run alone does. Consistent targets are judged per schedule as before: a
// violation in any interleaving is a violation.

import type { RunResult } from './schema';

function found(run: RunResult): boolean {
  return run.violations > 0 || run.groups.some((group) => group.violation);
}

/** scheduleKey -- the target and model whose schedules are judged together. */
function scheduleKey(run: RunResult): string | undefined {
  return run.schedule ? JSON.stringify([run.schedule.target, run.model]) : undefined;
}

/** settleSchedules -- `runs` with each control schedule's status judged
 *  across the schedules of its target and model (a new array; runs that
 *  change are copies). */
export function settleSchedules(runs: readonly RunResult[]): RunResult[] {
  const met = new Set<string>();
  for (const run of runs) {
    const key = scheduleKey(run);
    if (key !== undefined && run.expect === 'violations' && found(run)) met.add(key);
  }
  return runs.map((run) => {
    const key = scheduleKey(run);
    if (key === undefined || run.expect !== 'violations' || found(run)) return run;
    const status = met.has(key) ? 'pass' : 'fail';
    return status === run.status ? run : { ...run, status };
  });
}

/** schedulesThatFound -- the other schedules of a control run's target that
 *  found violations under its model ("tree_mt_broken@1", ...). */
export function schedulesThatFound(runs: readonly RunResult[], run: RunResult): string[] {
  const key = scheduleKey(run);
  if (key === undefined) return [];
  return runs.filter((other) => other !== run && scheduleKey(other) === key && found(other)).map((o) => o.target);
}
