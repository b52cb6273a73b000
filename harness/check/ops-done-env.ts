// ops-done-env -- the operation window of a crash, as the environment of the
// recovery commands that run on its image: PMFIT_OPS_DONE_MIN operations
// had certainly returned at the crash, PMFIT_OPS_DONE_MAX may have taken
// effect (allowed-states.ts has the windows). A checker of its own can use
// them to tell a lost completed operation from an interrupted one.
//
//   between operations, i done (window s<i>)  MIN = MAX = i
//   during operation i (0-based, op<i>)       MIN = i, MAX = i + 1
//   d done and f operations of other threads in flight at once
//                                             MIN = d, MAX = d + f
//
// In a trace of several threads, PMFIT_THREAD_OPS_DONE says the same per
// thread (pmfit's numbers: 0 the first, then 1, 2, ... in creation order),
// for each thread that runs regions: "T:MIN-MAX" separated by spaces, MAX =
// MIN + 1 while an operation of T is in flight. Totals alone let one
// thread's lost operation hide behind another's in flight.

import type { OpWindow } from './allowed-states';

export const OPS_DONE_MIN = 'PMFIT_OPS_DONE_MIN';
export const OPS_DONE_MAX = 'PMFIT_OPS_DONE_MAX';
export const THREAD_OPS_DONE = 'PMFIT_THREAD_OPS_DONE';

export function opsDoneEnv(window: Pick<OpWindow, 'done' | 'inFlight' | 'threads'>): Record<string, string> {
  const env = { [OPS_DONE_MIN]: String(window.done), [OPS_DONE_MAX]: String(window.done + window.inFlight.length) };
  if (!window.threads) return env;
  const perThread = window.threads.map(
    ({ thread, done, inFlight }) => `${thread}:${done}-${done + (inFlight ? 1 : 0)}`,
  );
  return { ...env, [THREAD_OPS_DONE]: perThread.join(' ') };
}
