// descendants -- no process that pmfit started outlives it.
//
// What can be left behind: children the traced program forked before a
// region (the tracer lets them go), with or without setsid, daemons a setup
// or recovery command started (double fork, setsid: out of its process
// group, which run-commands kills). The CLI makes pmfit the child subreaper
// of everything it starts (PR_SET_CHILD_SUBREAPER, through the tracer
// addon), so an orphan is re-parented to pmfit instead of init, and at exit
// killDescendants() SIGKILLs every descendant, round after round until none
// is left (one that forked between two rounds is re-parented to pmfit and
// found in the next). Exited orphans stay zombies of pmfit until it exits
// (Node reaps only the children it spawned); init reaps them then.
//
// SIGKILL of pmfit runs no code: the traced program dies with it
// (PTRACE_O_EXITKILL), and the sentinel (tracer/sentinel.ts) kills the rest
// by the run mark in their environment and removes the temporary root; a
// later run also removes a temporary root whose owner is gone (temp-root.ts),
// named after its owner's run token.

import * as fs from 'fs';

/** startTime -- field 22 of /proc/PID/stat (clock ticks since boot), which
 *  tells a process from a later one that got its pid; undefined when gone. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let token: string | undefined;

/** runToken -- this process's `<pid>-<start time>`, both zero-padded to a
 *  fixed width (pid_max is at most 2^22, 7 digits; a start time fits 20).
 *  The token names the temporary roots, so it is in the traced program's
 *  argv and working directory; the stack below them moves with their
 *  length, and libpmemobj copies stack addresses into the pool: measured on
 *  docs/examples/bank, a temporary directory 8 characters longer recorded
 *  another trace, so two shards whose pids had a different number of
 *  digits could not be merged (and a reproduction could differ). */
export function runToken(): string {
  token ??= `${String(process.pid).padStart(7, '0')}-${(startTime(process.pid) ?? '0').padStart(20, '0')}`;
  return token;
}

/** ownerAlive -- is the process of a run token still the same process?
 *  (`start` as the token has it, padded or not.) */
export function ownerAlive(pid: number, start: string): boolean {
  const now = startTime(pid);
  return now !== undefined && BigInt(now) === BigInt(start);
}

function childrenOf(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    try {
      for (const child of fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ')) {
        if (child.trim() !== '') found.push(Number(child));
      }
    } catch {
      // the task ended while we looked
    }
  }
  return found;
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true;
  }
}

/** liveDescendants -- every descendant of pid that is not a zombie.
 *  `childless`: a process known to start none (pmfit's sentinel), listed
 *  but not looked into: reading the children of each of its threads was
 *  most of a walk the recorder makes at every region's begin and end. */
export function liveDescendants(pid: number, childless?: number): number[] {
  const live: number[] = [];
  const walk = (parent: number): void => {
    for (const child of childrenOf(parent)) {
      if (!isZombie(child)) live.push(child);
      if (child !== childless) walk(child);
    }
  };
  walk(pid);
  return live;
}

/** killDescendants -- SIGKILL every live descendant of this process.
 *  `childless` (pmfit's sentinel, which starts no process) is killed in the
 *  first round and not waited for: a Node process takes 10-150 ms to die
 *  on a loaded machine, which every pmfit command waited at its exit. */
export function killDescendants(childless?: number): void {
  for (let round = 0; round < 100; round += 1) {
    const live = liveDescendants(process.pid).filter((pid) => round === 0 || pid !== childless);
    if (live.length === 0) return;
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}
