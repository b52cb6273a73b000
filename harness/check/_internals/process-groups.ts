// process-groups -- the process groups of the commands pmfit runs for a
// check (recoveries, recover servers), each started detached so that one
// SIGKILL to the group ends everything it started; on Ctrl-C / SIGTERM a
// registered cleanup kills every group still running.

import { onInterrupt } from '../../_internals/interrupt';

const runningGroups = new Set<number>();
let removeCleanup: (() => void) | undefined;

/** killGroup -- SIGKILL the process group `pgid` (gone already: nothing). */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone
  }
}

/** trackGroup -- kill this group too when pmfit is interrupted. */
export function trackGroup(pgid: number): void {
  runningGroups.add(pgid);
  if (!removeCleanup) {
    removeCleanup = onInterrupt(() => {
      for (const group of runningGroups) killGroup(group);
    });
  }
}

export function untrackGroup(pgid: number): void {
  runningGroups.delete(pgid);
  if (runningGroups.size === 0 && removeCleanup) {
    removeCleanup();
    removeCleanup = undefined;
  }
}

/** Number of groups currently running (tests use it). */
export function runningGroupCount(): number {
  return runningGroups.size;
}
