// sentinel -- nothing pmfit started outlives it, even when pmfit is killed
// with SIGKILL, which runs none of its own cleanup.
//
// Every process pmfit starts (the traced program, setup, recovery and
// continuation commands) inherits PMFIT_RUN=<run token> in its environment,
// and so does everything they start: a child the traced program forked
// before its region, a daemon a recovery left behind (setsid, double fork).
// Before the first such process, pmfit starts the sentinel
// (native/sentinel_main.cc, built beside the addon): a small program in a
// session of its own whose stdin is a pipe only pmfit holds. It is started
// by the tracer addon, not by child_process (native/sentinel.h says why: a
// libuv child makes single-stepping drown pmfit's own SIGTERM). When pmfit
// ends, however it ends, the pipe reads end of file and the sentinel
// SIGKILLs every process carrying the mark, round after round until none is
// left, removes pmfit's temporary root, and exits.
//
// The sentinel holds none of pmfit's other descriptors (its stdout and
// stderr are /dev/null), so that a caller waiting for pmfit's output to
// close is not kept waiting by it, and it is in a session of its own, out
// of reach of the terminal's Ctrl-C. At a normal exit pmfit kills its
// descendants itself (descendants.ts), the sentinel among them.
//
// What the mark cannot follow: a process that replaced its environment
// (execve with a new one, `env -i`) and whose ancestors are all gone.
// The mark has a fixed length so that the traced program's stack layout
// (and instruction counts that depend on alignment) is the same from run to
// run.

import * as fs from 'fs';
import * as path from 'path';
import { runToken, startTime } from '../_internals/descendants';
import { tempParents } from '../_internals/temp-root';
import { loadNative, sentinelProgram } from './native';

let started = false;
let sentinel: number | undefined;

/** sentinelPid -- the sentinel's pid once started: it writes no PM file, so
 *  the recorder's cross-check does not count it among other processes. */
export function sentinelPid(): number | undefined {
  return sentinel;
}

/** runMark -- this run's PMFIT_RUN value: pid and start time, fixed width. */
export function runMark(): string {
  const pid = process.pid.toString(16).padStart(8, '0');
  const start = Number(startTime(process.pid) ?? '0')
    .toString(16)
    .padStart(12, '0');
  return `${pid}${start}`;
}

/** ensureSentinel -- mark this process's environment (inherited by all it
 *  starts) and start the sentinel, once; called before pmfit starts a
 *  process. */
export function ensureSentinel(): void {
  if (started) return;
  started = true;
  // From the TypeScript sources (ts-jest), the run is a test's, inside a
  // Jest worker that outlives it.
  if (path.extname(__filename) === '.ts') return;
  process.env.PMFIT_RUN = runMark();
  // pmfit's environment without the mark: a test finds a run's processes,
  // the sentinel among them, by a variable of its own.
  const env = Object.entries(process.env)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'PMFIT_RUN')
    .map(([name, value]) => `${name}=${value}`);
  try {
    const program = sentinelProgram();
    // (checked here: the child's exec is not waited for, native/sentinel.h)
    if (!fs.existsSync(program)) return;
    sentinel = loadNative().startSentinel(program, [program, process.env.PMFIT_RUN, runToken(), ...tempParents()], env);
  } catch {
    // No sentinel (no process left to start one, the addon not built):
    // pmfit's own exit handling still kills its descendants; only a
    // SIGKILL escapes.
  }
}
