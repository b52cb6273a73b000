// process-groups -- the process groups of the commands pmfit runs for a
// check (recoveries, recover servers), each started detached so that one
// SIGKILL to the group ends everything it started; on Ctrl-C / SIGTERM a
// registered cleanup kills every group still running. The recorder asks
// whether a process is in one (inRunningGroup). Below check/ for that.

import * as fs from 'fs';
import { onInterrupt } from './interrupt';

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

/** inRunningGroup -- whether process `pid` is in one of those groups: a
 *  command pmfit runs for a check, or what it started without leaving its
 *  group. No process of a traced program is: each group is a session of
 *  its own (setsid), and setpgid joins only groups of the caller's
 *  session. So the recorder's cross-check does not take recover servers,
 *  alive while the stack and explain passes record again, for the
 *  program's own processes (record/record.ts). */
export function inRunningGroup(pid: number): boolean {
  if (runningGroups.size === 0) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after the command's name: state, ppid, pgrp
    return runningGroups.has(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]));
  } catch {
    return false; // gone
  }
}

/** Number of groups currently running (tests use it). */
export function runningGroupCount(): number {
  return runningGroups.size;
}
